"""The hostile corpus (tests/support/hostile.py) against StreamEvents and ExecutePrimitive.

Every entry is published raw into VC_EVENTS (its subject, body and headers, as
``nats pub`` would); StreamEvents from sequence 1 must go past all of them, show
the readable ones literally, skip the others and carry on live. Entries shaped
like a request are also sent through ExecutePrimitive.
"""

from __future__ import annotations

import asyncio
import logging

import grpc
import msgspec
import pytest

from bridge import convert, limits
from bridge._proto import voice_core_pb2 as pb
from bridge.server import Bridge
from core.bus import Bus
from core.worker import Worker
from schemas import events as ev
from schemas.limits import check_depth
from schemas.payloads import Request
from tests.bridge.conftest import stored_events
from tests.bridge.test_execute import call
from tests.bridge.test_stream import open_stream
from tests.support.hostile import Hostile, corpus
from tests.support.plugin import SleepyParams, SleepyRequested

SHOWN = {"huge_purpose", "transcript_too_long", "null_occurred_at", "year_9999", "missing_data",
         "header_type_mismatch", "markup_transcript", "nul_in_transcript"}
"""Readable events agreeing with their subject: shown as stored (a worker answers them)."""
SKIPPED = {"garbage", "empty", "json_array", "json_string", "truncated", "deep_data",
           "deep_params", "deep_everywhere", "attempt_overflow", "schema_version_overflow",
           "negative_attempt", "invalid_utf8_in_data", "invalid_utf8_in_producer", "huge_id",
           "unknown_type", "conversation_mismatch", "type_mismatch", "deep_below_limit",
           "huge_integer", "over_4_mib"}
"""Not events, out of the envelope's bounds, disagreeing with their subject, or data no
Struct / gRPC client takes."""


def test_every_corpus_entry_is_classified() -> None:
    names = {h.name for h in corpus()}
    assert names == SHOWN | SKIPPED and not SHOWN & SKIPPED


async def publish_corpus(bus: Bus) -> None:
    for hostile in corpus():
        await bus.publish_raw(hostile.subject_or_default(), hostile.body, dict(hostile.headers))


async def publish_marker(bus: Bus, text: str) -> str:
    event = ev.new_event(SleepyRequested, conversation_id="h-marker", trace_id=text,
                         data=Request(params=SleepyParams(text=text)))
    await bus.publish(event)
    return event.id


async def read_until(stream: grpc.aio.UnaryStreamCall, event_id: str) -> list[pb.Event]:
    got: list[pb.Event] = []
    while not got or got[-1].id != event_id:
        got.append(await asyncio.wait_for(stream.read(), 60))
    return got


async def test_stream_events_goes_past_every_hostile_message(
        bus: Bus, bridge: Bridge, channel: grpc.aio.Channel,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    await publish_corpus(bus)
    end_of_history = await publish_marker(bus, "history")
    stream = open_stream(channel, start_sequence=1)
    history = await read_until(stream, end_of_history)
    live = await publish_marker(bus, "live")
    assert [e.id for e in await read_until(stream, live)] == [live]  # and it carries on
    stream.cancel()

    by_conversation = {e.conversation_id: e for e in history[:-1]}
    assert set(by_conversation) == {f"h-{name}" for name in SHOWN}
    assert [e.sequence for e in history] == sorted(e.sequence for e in history)
    for hostile in corpus():
        if hostile.name in SHOWN:
            assert_shown_literally(by_conversation[hostile.conversation_id], hostile)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def assert_shown_literally(event: pb.Event, hostile: Hostile) -> None:
    body = msgspec.json.decode(hostile.body)
    assert (event.id, event.type, event.subject) == (
        body["id"], body["type"], hostile.subject_or_default())
    assert convert.from_struct(event.data) == (body.get("data") or {})
    assert event.HasField("occurred_at") == (body["occurred_at"] is not None)


def as_call(hostile: Hostile) -> pb.ExecutePrimitiveRequest | None:
    """The ExecutePrimitive call carrying what the entry's request carries (None: it has no
    request a client could send: not JSON, no params, or a number no Struct holds)."""
    try:
        check_depth(hostile.body)
        body = msgspec.json.decode(hostile.body)
    except msgspec.MsgspecError:
        return None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("params"), dict):
        return None
    req = pb.ExecutePrimitiveRequest(objective_type="capture_email",
                                     conversation_id=body["conversation_id"],
                                     trace_id=body["trace_id"], purpose=data.get("purpose", ""))
    try:
        req.params.update(data["params"])
    except OverflowError:  # huge_integer
        return None
    return req


REFUSED = {"huge_purpose": "purpose", "deep_below_limit": "the request is not a valid"}
"""Entries ExecutePrimitive refuses with INVALID_ARGUMENT (the field named first)."""


@pytest.mark.parametrize("hostile", [h for h in corpus() if as_call(h) is not None],
                         ids=lambda h: h.name)
async def test_execute_primitive_with_what_each_hostile_request_carries(
        bus: Bus, email_worker: Worker, channel: grpc.aio.Channel, hostile: Hostile) -> None:
    req = as_call(hostile)
    assert req is not None
    conversation = f"vc.ev.{req.conversation_id}.>"
    params = convert.from_struct(req.params)
    if hostile.name in REFUSED or req.ByteSize() > limits.MAX_MESSAGE_BYTES:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call(channel, req, timeout=60)
        expected = (grpc.StatusCode.INVALID_ARGUMENT, REFUSED[hostile.name]) \
            if hostile.name in REFUSED else (grpc.StatusCode.RESOURCE_EXHAUSTED, "")
        details = err.value.details() or ""
        assert err.value.code() == expected[0] and details.startswith(expected[1]), details
        assert len(details) < 300
        assert await stored_events(bus, conversation) == []
        return
    resp, _ = await call(channel, req, timeout=60)
    stored = await stored_events(bus, conversation)
    if len(params["transcript"]) > 4000:
        assert resp.error.code == "INVALID_PARAMS" and stored == []
        assert resp.error.message.startswith("capture_email: params.transcript:")
        return
    assert resp.success, resp
    assert convert.from_struct(resp.data)["value"].endswith("@gmail.com")  # markup: as parsed
    # What was asked is stored literally: markup, NUL and all.
    assert stored[0].data.params.transcript == params["transcript"]
    assert len(stored[0].data.purpose) <= limits.MAX_PURPOSE
