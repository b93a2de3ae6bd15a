"""The worker runtime against a real nats-server, with the test primitive ``sleepy``."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from core import captures, tracing
from core.bus import Bus
from core.capture import capture_email
from core.config import WorkerOptions
from core.natsserver import EmbeddedNats
from core.worker import Worker
from schemas import events as ev
from schemas import ids
from schemas.payloads import CaptureParams, Failure, Language, Request
from tests.support import plugin
from tests.support.plugin import SLEEPY, Echo, SleepyParams, SleepyRequested
from tests.support.streams import results_for, stream_events, stream_messages, wait_for_events
from tests.support.waiting import until

FAST = WorkerOptions(concurrency=8, ack_wait_s=2.0, max_deliver=3, backoff_s=(0.05,),
                     fetch_timeout_s=0.2, shutdown_grace_s=5.0)


def request(text: str, conversation_id: str = "conv-1", timeout_s: float = 0.0,
            **params: float) -> SleepyRequested:
    return ev.new_event(SleepyRequested, conversation_id=conversation_id, trace_id=f"t-{text}",
                        data=Request(params=SleepyParams(text=text, **params),  # type: ignore[arg-type]
                                     timeout_s=timeout_s))


@asynccontextmanager
async def worker(bus: Bus, options: WorkerOptions = FAST) -> AsyncIterator[Worker]:
    w = Worker(bus, SLEEPY, options)
    await w.start()
    try:
        yield w
    finally:
        await w.stop()


def answered(ids_: set[str]) -> Callable[[list[ev.Event]], bool]:
    return lambda found: {e.causation_id for e in found} >= ids_


async def test_worker_completes_requests_with_derived_result_ids(bus: Bus) -> None:
    sent = [request(f"hello-{i}") for i in range(10)]
    async with worker(bus):
        for r in sent:
            await bus.publish(r)
        found = await wait_for_events(bus, answered({r.id for r in sent}))
    for r in sent:
        [result] = results_for(found, {r.id})
        assert result.event_type == "sleepy.completed"
        assert result.id == ids.derive_id(r.id, "result")
        assert (result.conversation_id, result.trace_id, result.attempt) == (
            r.conversation_id, r.trace_id, 1)
        assert result.data == Echo(text=r.data.params.text)


async def test_failed_attempts_are_retried_with_backoff_then_complete_once(bus: Bus) -> None:
    r = request("flaky-twice", fail_times=2)
    async with worker(bus):
        await bus.publish(r)
        found = await wait_for_events(bus, answered({r.id}))
        await asyncio.sleep(0.3)  # would a late duplicate show up?
    [result] = results_for(await wait_for_events(bus, answered({r.id})), {r.id})
    assert result.event_type == "sleepy.completed" and result.attempt == 3
    assert len(found) == 2


async def test_exhausted_retries_are_answered_with_a_failure(bus: Bus) -> None:
    r = request("always-fails", fail_times=99)
    async with worker(bus):
        await bus.publish(r)
        found = await wait_for_events(bus, answered({r.id}))
    [result] = results_for(found, {r.id})
    assert result.event_type == "sleepy.failed" and result.attempt == FAST.max_deliver
    assert isinstance(result.data, Failure) and result.data.code == "PRIMITIVE_FAILED"
    assert "flaky failure 3" in result.data.message


async def test_execution_timeout_is_retried_then_answered_timeout(bus: Bus) -> None:
    r = request("slow", seconds=5.0, timeout_s=0.2)
    async with worker(bus):
        await bus.publish(r)
        found = await wait_for_events(bus, answered({r.id}))
    [result] = results_for(found, {r.id})
    assert result.event_type == "sleepy.failed"
    assert result.data == Failure(code="TIMEOUT", message="no result in 0.2s")
    assert result.attempt == FAST.max_deliver


async def test_garbage_is_dead_lettered_and_the_worker_keeps_serving(bus: Bus) -> None:
    good = request("after-garbage")
    async with worker(bus):
        await bus.publish_raw("vc.ev.conv-1.sleepy.requested", b"\x00not json{",
                              {"Nats-Msg-Id": "garbage-1", "X-Origin": "test"})
        await bus.publish(good)
        await wait_for_events(bus, answered({good.id}))
    [dead] = await stream_messages(bus, "VC_DLQ")
    assert dead.subject == "vc.dlq.sleepy"
    assert dead.data == b"\x00not json{"  # the body, byte for byte
    headers = dead.headers or {}
    assert headers["Vc-Dlq-Reason"].startswith("invalid event: JSON is malformed")
    assert headers["Vc-Dlq-Subject"] == "vc.ev.conv-1.sleepy.requested"
    assert headers["Vc-Dlq-Stream-Sequence"] == "1"
    assert headers["X-Origin"] == "test"
    info = await bus.js.consumer_info("VC_EVENTS", "primitive_sleepy")
    assert info.num_ack_pending == 0 and info.num_pending == 0  # terminated, not retried


async def test_invalid_params_are_answered_and_dead_lettered(bus: Bus) -> None:
    r = request("bad-params")
    body = json.loads(ev.encode(r))
    body["data"]["params"]["seconds"] = "a while"
    async with worker(bus):
        await bus.publish_raw("vc.ev.conv-1.sleepy.requested", json.dumps(body).encode(), {})
        found = await wait_for_events(bus, answered({r.id}))
    [result] = results_for(found, {r.id})
    assert result.event_type == "sleepy.failed" and result.id == ids.derive_id(r.id, "result")
    assert result.data.code == "INVALID_PARAMS" and "seconds" in result.data.message
    [dead] = await stream_messages(bus, "VC_DLQ")
    assert "Expected `float`" in (dead.headers or {})["Vc-Dlq-Reason"]


async def test_wrong_event_type_on_the_request_subject_is_dead_lettered(bus: Bus) -> None:
    stray = ev.new_event(ev.CaptureEmailRequested, conversation_id="conv-1", trace_id="t",
                         data=Request(params=CaptureParams(transcript="x")))
    async with worker(bus):
        await bus.publish(stray, subject="vc.ev.conv-1.sleepy.requested")

        async def dead_lettered() -> bool:
            return bool(await stream_messages(bus, "VC_DLQ"))

        await until(dead_lettered, "the stray request was dead-lettered")
    [dead] = await stream_messages(bus, "VC_DLQ")
    assert ("body is a 'capture_email.requested' event but the subject says 'sleepy.requested'"
            in (dead.headers or {})["Vc-Dlq-Reason"])


async def test_a_request_answered_before_a_crash_is_answered_once(bus: Bus) -> None:
    """A worker died after storing the result but before its ack: the redelivery dedups."""
    r = request("answered-then-crashed")
    stored = ev.new_event(SLEEPY.completed, conversation_id=r.conversation_id,
                          trace_id=r.trace_id, causation_id=r.id,
                          event_id=ids.derive_id(r.id, "result"), data=Echo(text="first"))
    await bus.publish(r)
    await bus.publish(stored)
    async with worker(bus) as w:  # it runs the request again and stores its result ...
        await until(lambda: w.completed == 1, "the worker answered the redelivered request")

    async def acked() -> bool:
        info = await bus.js.consumer_info("VC_EVENTS", "primitive_sleepy")
        return (info.num_pending, info.num_ack_pending) == (0, 0)

    await until(acked, "the request was acked")  # ... and acked it,
    # ... but JetStream dropped that second result: the first one is the only one.
    assert results_for(await stream_events(bus), {r.id}) == [stored]


async def test_long_work_sends_heartbeats_instead_of_being_redelivered(bus: Bus) -> None:
    r = request("long", seconds=2.5)
    options = WorkerOptions(ack_wait_s=0.6, max_deliver=3, backoff_s=(0.05,),
                            fetch_timeout_s=0.2)
    async with worker(bus, options):
        await bus.publish(r)
        found = await wait_for_events(bus, answered({r.id}))
    [result] = results_for(found, {r.id})
    assert result.event_type == "sleepy.completed" and result.attempt == 1


async def test_graceful_shutdown_loses_nothing(bus: Bus, nats_server: EmbeddedNats) -> None:
    sent = [request(f"job-{i}", seconds=0.3) for i in range(40)]
    for r in sent:
        await bus.publish(r)
    impatient = WorkerOptions(concurrency=4, ack_wait_s=30.0, backoff_s=(0.05,),
                              fetch_timeout_s=0.2, shutdown_grace_s=0.1)
    first = Worker(bus, SLEEPY, impatient)
    await first.start()
    await until(lambda: first.completed > 0, "the first worker completed a job")
    await first.stop()  # some finished, some nak'ed by the short grace; none left hanging
    assert 0 < first.completed < len(sent)
    second_bus = await Bus.connect(nats_server.url, auth=nats_server.identity("admin"))
    try:
        async with worker(second_bus):
            found = await wait_for_events(bus, answered({r.id for r in sent}), timeout=20)
    finally:
        await second_bus.drain()
    for r in sent:
        assert len(results_for(found, {r.id})) == 1


async def test_two_workers_share_one_consumer(bus: Bus, nats_server: EmbeddedNats) -> None:
    other_bus = await Bus.connect(nats_server.url, auth=nats_server.identity("admin"))
    sent = [request(f"shared-{i}", seconds=0.05) for i in range(60)]
    options = WorkerOptions(concurrency=2, fetch_timeout_s=0.2)
    try:
        async with worker(bus, options) as a, worker(other_bus, options) as b:
            for r in sent:
                await bus.publish(r)
            found = await wait_for_events(bus, answered({r.id for r in sent}))
            assert a.completed > 0 and b.completed > 0
            assert a.completed + b.completed == len(sent)
    finally:
        await other_bus.drain()
    assert len(results_for(found, {r.id for r in sent})) == len(sent)


async def test_consumer_continues_the_producer_trace(bus: Bus) -> None:
    exporter = InMemorySpanExporter()
    tracing.add_span_processor(SimpleSpanProcessor(exporter))
    r = request("traced")
    async with worker(bus):
        await bus.publish(r)
        await wait_for_events(bus, answered({r.id}))
    spans = {s.name: s for s in exporter.get_finished_spans()
             if s.attributes and s.attributes.get("voicecore.trace_id") == r.trace_id}
    publish, process = spans["publish sleepy.requested"], spans["process sleepy.requested"]
    answer = spans["publish sleepy.completed"]
    wanted = tracing.otel_trace_id(r.trace_id)
    assert {s.context.trace_id for s in (publish, process, answer)} == {wanted}
    assert publish.kind == SpanKind.PRODUCER and process.kind == SpanKind.CONSUMER
    assert process.parent is not None and process.parent.span_id == publish.context.span_id
    assert answer.parent is not None and answer.parent.span_id == process.context.span_id
    assert process.attributes is not None
    assert process.attributes["messaging.system"] == "nats"
    assert process.attributes["messaging.consumer.group.name"] == "primitive_sleepy"
    assert process.attributes["messaging.message.id"] == r.id


@pytest.mark.parametrize("concurrency", [1, 4])
async def test_concurrency_bounds_work_in_flight(bus: Bus, concurrency: int) -> None:
    sent = [request(f"c{concurrency}-{i}", hold=True) for i in range(8)]
    plugin.gate = asyncio.Event()  # bound to this test's loop
    plugin.peak = 0
    async with worker(bus, WorkerOptions(concurrency=concurrency, fetch_timeout_s=0.1)) as w:
        for r in sent:
            await bus.publish(r)
        await until(lambda: plugin.running == concurrency, f"{concurrency} handlers running")
        info = await bus.js.consumer_info("VC_EVENTS", "primitive_sleepy")
        assert info.num_ack_pending == concurrency  # fetched no more than it can run
        plugin.gate.set()
        await wait_for_events(bus, answered({r.id for r in sent}))
        assert w.completed == len(sent)
    assert plugin.peak == concurrency


async def test_a_worker_whose_consumer_was_deleted_recreates_it_and_keeps_serving(
        bus: Bus) -> None:
    """The old fetch loop kept fetching from a consumer that no longer existed (a warning a
    round, no work done, forever); the one pull consumer re-ensures it."""
    async with worker(bus):
        first = request("before")
        await bus.publish(first)
        await wait_for_events(bus, answered({first.id}))
        await bus.js.delete_consumer("VC_EVENTS", "primitive_sleepy")
        second = request("after")
        await bus.publish(second)
        found = await wait_for_events(bus, answered({second.id}), timeout=60)
    [result] = results_for(found, {second.id})
    assert result.event_type == "sleepy.completed"


async def test_short_captures_run_on_the_loop_and_long_ones_in_a_thread(
        bus: Bus, monkeypatch: pytest.MonkeyPatch) -> None:
    """``inline`` primitives (the captures) skip the thread hop for utterance-sized input,
    and still answer it; a long transcript goes to a thread (it may take ~10 ms)."""
    threads: dict[str, str] = {}

    def recording(transcript: str, language: Language) -> object:
        threads[transcript[:5]] = threading.current_thread().name
        return capture_email(transcript, language)

    monkeypatch.setattr(captures, "capture_email", recording)
    short = "my email is john dot smith at gmail dot com"
    long = "hello " * 100 + short
    sent = [ev.new_event(ev.CaptureEmailRequested, conversation_id="conv-1", trace_id="t-1",
                         data=Request(params=CaptureParams(transcript=text)))
            for text in (short, long)]
    w = Worker(bus, captures.CAPTURE_EMAIL, FAST)
    await w.start()
    try:
        for r in sent:
            await bus.publish(r)
        found = await wait_for_events(bus, answered({r.id for r in sent}))
    finally:
        await w.stop()
    assert threads == {"my em": threading.main_thread().name,
                       "hello": threads["hello"]} and threads["hello"] != "MainThread"
    for r in sent:
        [result] = results_for(found, {r.id})
        assert result.data.value == "john.smith@gmail.com"
