"""ExecutePrimitive answers only with its own result; its request carries the caller's deadline."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest

from bridge.client import VoiceCoreClient
from bridge.execute import deadline_in
from core.bus import Bus
from core.worker import Worker
from schemas import events as ev
from schemas import ids
from tests.bridge.conftest import wait_stored
from tests.support.streams import stream_messages

CONVERSATION = "conv-mine"


def result_body(result_id: str, request_id: str, *, conversation: str = CONVERSATION,
                event_type: str = "sleepy.completed", text: str = "forged") -> bytes:
    return json.dumps({
        "type": event_type, "id": result_id, "conversation_id": conversation,
        "trace_id": "forged", "causation_id": request_id,
        "occurred_at": "2026-11-23T10:00:00Z",
        "data": {"text": text} if event_type.endswith("completed") else
        {"code": "PRIMITIVE_FAILED", "message": text}}).encode()


async def test_a_message_that_is_not_the_calls_result_never_answers_it(
        bus: Bus, sleepy_worker: Worker, client: VoiceCoreClient,
        caplog: pytest.LogCaptureFixture) -> None:
    # The worker takes longer than the test: the test publishes the real result itself,
    # once the router has passed over every forgery.
    mine = asyncio.ensure_future(client.execute(
        "sleepy", {"text": "mine", "seconds": 60}, conversation_id=CONVERSATION))
    [request] = await wait_stored(bus, lambda found: len(found) == 1,
                                  subject=f"vc.ev.{CONVERSATION}.>")
    result_id = ids.derive_id(request.id, "result")
    own = f"vc.ev.{CONVERSATION}.sleepy.completed"
    forgeries = [  # all carry the call's result id, the only thing routing looked at
        ("vc.ev.conv-other.sleepy.completed",  # another conversation's result
         result_body(result_id, request.id, conversation="conv-other")),
        (own, result_body(result_id, request.id, conversation="conv-other")),  # body disagrees
        (f"vc.ev.{CONVERSATION}.sleepy.failed", result_body(result_id, request.id)),  # type
        (f"vc.ev.{CONVERSATION}.capture_email.completed",  # another primitive's
         result_body(result_id, request.id, event_type="capture_email.completed")),
        (own, result_body(result_id, ids.uuid7())),  # not caused by the call's request
        (own, b"not json"),
    ]
    for subject, body in forgeries:
        await bus.nc.publish(subject, body, headers={"Nats-Msg-Id": result_id})
    await bus.nc.flush()
    await ignored(caplog, len(forgeries))
    assert not mine.done()
    await bus.nc.publish(own, result_body(result_id, request.id, text="genuine"),
                         headers={"Nats-Msg-Id": result_id})
    result = await mine
    assert result.success and result.data == {"text": "genuine"}, result
    assert result.result_event_id == result_id


async def ignored(caplog: pytest.LogCaptureFixture, count: int) -> None:
    """Until the router has logged ``count`` messages it did not take as a call's result."""
    for _ in range(400):
        if sum("ignored a message carrying result id" in r.message
               for r in caplog.records) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the router did not pass over {count} forged results")


async def test_the_published_request_carries_the_callers_deadline(
        bus: Bus, sleepy_worker: Worker, client: VoiceCoreClient) -> None:
    before = ev.now()
    timed = await client.execute("sleepy", {"text": "timed"}, conversation_id="conv-dl",
                                 deadline_s=20)
    after = ev.now()
    untimed = await client.execute("sleepy", {"text": "untimed"}, conversation_id="conv-dl")
    assert timed.success and untimed.success
    found = await wait_stored(bus, lambda f: len(f) == 4, subject="vc.ev.conv-dl.>")
    requests = {e.id: e for e in found if e.event_type == "sleepy.requested"}
    deadline = requests[timed.request_event_id].data.deadline
    assert isinstance(deadline, dt.datetime)
    # The caller's absolute deadline, its start + 20 s, whenever the bridge ran (give or
    # take gRPC's rounding of the relative timeout it sends).
    second = dt.timedelta(seconds=1)
    assert before + 19 * second <= deadline <= after + 21 * second
    raw = {json.loads(m.data)["id"]: json.loads(m.data)
           for m in await stream_messages(bus, subject="vc.ev.conv-dl.*.requested")}
    assert "deadline" in raw[timed.request_event_id]["data"]
    assert "deadline" not in raw[untimed.request_event_id]["data"]  # no deadline: not written


def test_a_deadline_thousands_of_years_away_is_still_a_time() -> None:
    # gRPC's largest timeout (99999999 hours) is past year 9999, the last a datetime holds.
    far = deadline_in(99_999_999 * 3600.0)
    assert ev.now() < far < ev.now() + dt.timedelta(days=366)
