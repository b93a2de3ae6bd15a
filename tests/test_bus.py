"""The bus against a real nats-server: streams, wire format, de-duplication, tracing."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from nats.js import api

from core import subjects, tracing
from core.bus import Bus
from core.config import StreamLimits
from core.errors import BusUnavailable, InvalidConversationId
from core.natsserver import EmbeddedNats
from schemas import events as ev
from tests.samples import sample
from tests.support.streams import stream_events, stream_messages


async def test_every_event_type_round_trips_through_jetstream(bus: Bus) -> None:
    sent = []
    for i, cls in enumerate(ev.BUILTIN_EVENTS):
        event = ev.new_event(cls, conversation_id=f"conv-{i % 3}", trace_id="rt-trace",
                             data=sample(cls).data)
        published = await bus.publish(event)
        assert published.subject == f"vc.ev.conv-{i % 3}.{ev.type_of(cls)}"
        assert not published.duplicate
        sent.append(event)
    assert await stream_events(bus) == sent


async def test_wire_format_is_readable_by_the_nats_cli(bus: Bus) -> None:
    event = ev.new_event(ev.CaptureEmailRequested, conversation_id="c42",
                         trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
                         data=sample(ev.CaptureEmailRequested).data)
    await bus.publish(event)
    [msg] = await stream_messages(bus, subject="vc.ev.c42.>")
    assert msg.subject == "vc.ev.c42.capture_email.requested"
    assert msg.data.startswith(b'{"type":"capture_email.requested"')
    headers = msg.headers or {}
    assert headers["Nats-Msg-Id"] == event.id
    assert headers["Vc-Event-Type"] == "capture_email.requested"
    version, trace_hex, span_hex, flags = headers["traceparent"].split("-")
    assert (version, trace_hex) == ("00", "4bf92f3577b34da6a3ce929d0e0e4736")
    assert flags in ("00", "01")  # sampled only while spans are exported
    assert len(span_hex) == 16


async def test_non_hex_trace_ids_map_to_one_deterministic_otel_trace(bus: Bus) -> None:
    data = sample(ev.CaptureEmailRequested).data
    for _ in range(2):
        await bus.publish(ev.new_event(ev.CaptureEmailRequested, conversation_id="c1",
                                       trace_id="test-trace-123", data=data))
    msgs = await stream_messages(bus)
    trace_ids = {(m.headers or {})["traceparent"].split("-")[1] for m in msgs}
    assert trace_ids == {f"{tracing.otel_trace_id('test-trace-123'):032x}"}


async def test_duplicate_publish_is_stored_once(bus: Bus) -> None:
    event = sample(ev.CaptureEmailCompleted)
    first = await bus.publish(event)
    again = await bus.publish(event)
    assert again.duplicate and again.sequence == first.sequence
    assert await stream_events(bus) == [event]


async def test_conversation_ids_that_are_not_subject_tokens_are_rejected(bus: Bus) -> None:
    for bad in ("c.42", "c 42", "c*", "c>", "", "é"):
        with pytest.raises(InvalidConversationId, match="not a NATS subject token"):
            subjects.event_subject(bad, "capture_email.requested")
    event = sample(ev.CaptureEmailRequested, conversation_id="a.b")
    with pytest.raises(InvalidConversationId):
        await bus.publish(event)
    assert await stream_events(bus) == []


async def test_streams_are_created_idempotently_and_updated(bus: Bus) -> None:
    await bus.ensure_streams(StreamLimits())
    await bus.ensure_streams(StreamLimits(max_age_s=3600, duplicate_window_s=30))
    info = await bus.js.stream_info(subjects.EVENTS_STREAM)
    assert info.config.max_age == 3600
    assert info.config.duplicate_window == 30
    assert info.config.storage == api.StorageType.FILE
    assert info.config.retention == api.RetentionPolicy.LIMITS
    assert info.config.subjects == ["vc.ev.>"]
    dlq = await bus.js.stream_info(subjects.DLQ_STREAM)
    assert dlq.config.subjects == ["vc.dlq.>"]


async def test_publish_without_a_server_is_a_clear_unavailable_error(
    nats_server: EmbeddedNats,
) -> None:
    bus = await Bus.connect(nats_server.url, auth=nats_server.identity("admin"))
    await bus.ensure_streams(StreamLimits())
    await nats_server.stop()
    with pytest.raises(BusUnavailable, match="NATS unavailable"):
        await bus.publish(sample(ev.CaptureEmailRequested))
    # nats-py's close after the server vanished can surface its transport's cancelled
    # close-waiter (seen once under load): what this test is about is the error above.
    with contextlib.suppress(asyncio.CancelledError):
        await bus.nc.close()


async def test_connect_to_nothing_is_unavailable() -> None:
    with pytest.raises(BusUnavailable):
        await Bus.connect("nats://127.0.0.1:1")
