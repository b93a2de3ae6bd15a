"""StreamEvents: stored events (history from a sequence or time, or none), then live.

Filters: ``conversation_id`` and ``event_types`` become subject filters on the
consumer (``vc.ev.<conversation|*>.<source>.<event>``), so JetStream filters
them; ``trace_id`` is not in the subject, so the bridge filters on the envelope.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Awaitable, Callable

import grpc

from bridge import convert
from bridge._proto import voice_core_pb2 as pb
from bridge.errors import CallError
from bridge.reader import StartAt, StreamReader
from core import subjects
from core.bus import Bus
from core.errors import BusError, InvalidConversationId

_EVENT_TYPE = re.compile(r"([a-z][a-z0-9_]{0,63}|\*)\.([a-z][a-z0-9_]{0,63}|\*)")


def subject_filters(req: pb.StreamEventsRequest) -> list[str]:
    conversation = "*"
    if req.conversation_id:
        try:
            conversation = subjects.check_conversation_id(req.conversation_id)
        except InvalidConversationId as exc:
            raise CallError(grpc.StatusCode.INVALID_ARGUMENT, str(exc)) from exc
    prefix = f"{subjects.EVENT_PREFIX}.{conversation}"
    if not req.event_types:
        return [f"{prefix}.>"]
    filters: list[str] = []
    for event_type in req.event_types:
        if not _EVENT_TYPE.fullmatch(event_type):
            raise CallError(grpc.StatusCode.INVALID_ARGUMENT,
                            f"event type {event_type!r}: use <source>.<event> "
                            "(e.g. capture_email.completed; * for any token)")
        if f"{prefix}.{event_type}" not in filters:
            filters.append(f"{prefix}.{event_type}")
    return filters


def start_of(req: pb.StreamEventsRequest) -> StartAt:
    when = convert.timestamp_to_datetime(req.start_time) if req.HasField("start_time") else None
    return StartAt(sequence=req.start_sequence, time=when)


async def stream_events(bus: Bus, req: pb.StreamEventsRequest,
                        on_ready: Callable[[], Awaitable[None]] | None = None,
                        ) -> AsyncGenerator[pb.Event, None]:
    """Events in stream order until the caller cancels (the consumer is deleted then).

    ``on_ready`` runs once the consumer exists (the server sends the initial
    metadata then), so a caller knows from which point "live" starts.
    """
    if not bus.nc.is_connected:
        raise CallError(grpc.StatusCode.UNAVAILABLE, "NATS unavailable: not connected")
    reader = StreamReader(bus, subject_filters(req), start_of(req))
    try:
        await reader.open()
    except BusError as exc:
        await reader.close()
        raise CallError(grpc.StatusCode.UNAVAILABLE, str(exc)) from exc
    try:
        if on_ready is not None:
            await on_ready()
        async for stored in reader.messages():
            event = convert.event_message(stored.subject, stored.sequence, stored.data)
            if event is None or (req.trace_id and event.trace_id != req.trace_id):
                continue
            yield event
    finally:
        await reader.close()
