"""The worker against the hostile corpus (tests/support/hostile.py) and callers' deadlines."""

from __future__ import annotations

import asyncio
import datetime as dt

import msgspec
import pytest

from core import primitive as registry
from core.bus import Bus
from core.worker import Worker
from schemas import events as ev
from schemas import ids
from schemas.payloads import Request
from tests.support.hostile import PRIMITIVE, corpus
from tests.support.plugin import SleepyParams, SleepyRequested
from tests.support.streams import stream_events, stream_messages, wait_for_events
from tests.test_worker import FAST, answered, worker

HOSTILE = corpus()


async def _dead_letters(bus: Bus, expected: int) -> dict[str, dict[str, str]]:
    """VC_DLQ's messages by the conversation their original subject names."""
    for _ in range(150):
        found = await stream_messages(bus, "VC_DLQ")
        if len(found) >= expected:
            break
        await asyncio.sleep(0.1)
    return {(m.headers or {})["Vc-Dlq-Subject"].split(".")[2]: m.headers or {} for m in found}


async def test_every_hostile_message_is_dead_lettered_or_served_and_the_worker_goes_on(
        bus: Bus) -> None:
    capture = registry.get(PRIMITIVE)
    assert capture is not None
    w = Worker(bus, capture, FAST)
    await w.start()
    try:
        for entry in HOSTILE:
            await bus.publish_raw(entry.subject_or_default(), entry.body, entry.headers)
        dead = await _dead_letters(bus, sum(e.worker != "processed" for e in HOSTILE))
        answered_ids = {e.event_id for e in HOSTILE if e.worker != "silent"}
        found = await wait_for_events(bus, answered(answered_ids), timeout=30)
    finally:
        await w.stop()
    results = {e.causation_id: e for e in found if not e.event_type.endswith(".requested")}
    for entry in HOSTILE:
        result = results.get(entry.event_id)
        if entry.worker == "processed":
            assert entry.conversation_id not in dead, entry.name
            assert result is not None, entry.name
            continue
        headers = dead[entry.conversation_id]
        assert headers["Vc-Dlq-Reason"], entry.name
        assert headers["Vc-Dlq-Deliveries"] == "1", entry.name  # terminated, never retried
        if entry.worker == "answered":
            assert result is not None and result.event_type == f"{PRIMITIVE}.failed", entry.name
            assert result.data.code == "INVALID_PARAMS", entry.name
            assert result.id == ids.derive_id(entry.event_id, "result")
            assert len(result.data.message) <= 800, entry.name  # the reason is bounded
        else:
            assert result is None, entry.name
    # A forged body naming another conversation put nothing into that conversation.
    assert not [e for e in found if e.conversation_id == "h-victim" and e.causation_id]
    info = await bus.js.consumer_info("VC_EVENTS", f"primitive_{PRIMITIVE}")
    assert info.num_ack_pending == 0 and info.num_pending == 0


@pytest.mark.parametrize("name", ["deep_data", "deep_params"])
async def test_a_bracket_bomb_is_answered_by_its_envelope(bus: Bus, name: str) -> None:
    entry = next(e for e in HOSTILE if e.name == name)
    capture = registry.get(PRIMITIVE)
    assert capture is not None
    async with worker_for(bus, capture):
        await bus.publish_raw(entry.subject_or_default(), entry.body, {})
        found = await wait_for_events(bus, answered({entry.event_id}))
    [result] = [e for e in found if e.causation_id == entry.event_id]
    assert "nested" in result.data.message and result.conversation_id == entry.conversation_id


def worker_for(bus: Bus, prim: registry.Primitive) -> _Running:
    return _Running(Worker(bus, prim, FAST))


class _Running:
    def __init__(self, w: Worker) -> None:
        self.worker = w

    async def __aenter__(self) -> Worker:
        await self.worker.start()
        return self.worker

    async def __aexit__(self, *exc: object) -> None:
        await self.worker.stop()


def _with_deadline(seconds: float, deadline: dt.datetime | None) -> SleepyRequested:
    data = Request(params=SleepyParams(text="late", seconds=seconds),
                   deadline=deadline if deadline is not None else msgspec.UNSET)
    return ev.new_event(SleepyRequested, conversation_id="conv-1", trace_id="t-late", data=data)


async def test_a_request_past_its_callers_deadline_is_answered_timeout_without_running(
        bus: Bus) -> None:
    # Each would sleep 30 s if run; all are answered at once because their callers gave up.
    past = ev.now() - dt.timedelta(seconds=1)
    late = [_with_deadline(30.0, past) for _ in range(20)]
    async with worker(bus):
        for r in late:
            await bus.publish(r)
        found = await wait_for_events(bus, answered({r.id for r in late}), timeout=10)
    for r in late:
        [result] = [e for e in found if e.causation_id == r.id]
        assert result.event_type == "sleepy.failed"
        assert result.data.code == "TIMEOUT" and "deadline passed before" in result.data.message


async def test_execution_stops_at_the_callers_deadline_without_a_retry(bus: Bus) -> None:
    soon = ev.now() + dt.timedelta(seconds=0.5)
    r = _with_deadline(30.0, soon)
    async with worker(bus):
        await bus.publish(r)
        found = await wait_for_events(bus, answered({r.id}), timeout=10)
    [result] = [e for e in found if e.causation_id == r.id]
    assert result.data.code == "TIMEOUT" and "during execution" in result.data.message
    assert result.attempt == 1  # not retried: nobody waits for a second attempt


async def test_a_request_within_its_deadline_runs(bus: Bus) -> None:
    r = _with_deadline(0.0, ev.now() + dt.timedelta(seconds=30))
    async with worker(bus):
        await bus.publish(r)
        found = await wait_for_events(bus, answered({r.id}))
    [result] = [e for e in found if e.causation_id == r.id]
    assert result.event_type == "sleepy.completed"
    assert len(await stream_events(bus)) == 2
