"""StreamEvents: stored events (history from a sequence or time, or none), then live.

Filters: ``conversation_id`` and ``event_types`` become subject filters on the
consumer (``vc.ev.<conversation|*>.<source>.<event>``), so JetStream filters
them; ``trace_id`` is not in the subject, so the bridge filters on the envelope.
Every filter is checked first (:mod:`bridge.limits`): a filter nothing can match
would otherwise be a call that waits forever.

A stored message that is not a readable event (see :mod:`bridge.convert`: not
decodable, out of the schema's bounds, body disagreeing with its subject, data
too deep or too big to send) is **skipped**: the client sees a gap in
``sequence`` there and the stream goes on. The proto has no field to mark such
a message with, and a mark dressed as an event would mislead every client that
reads ``type``; the event log keeps the message itself.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Awaitable, Callable

from bridge import convert, limits
from bridge._proto import voice_core_pb2 as pb
from bridge.reader import StartAt, Stored, StreamReader
from core import subjects
from core.bus import Bus
from core.errors import BusError, BusUnavailable

log = logging.getLogger(__name__)



def subject_filters(req: pb.StreamEventsRequest) -> list[str]:
    conversation = limits.check_conversation(req.conversation_id) \
        if req.conversation_id else "*"
    prefix = f"{subjects.EVENT_PREFIX}.{conversation}"
    if not req.event_types:
        return [f"{prefix}.>"]
    filters: list[str] = []
    for event_type in req.event_types:
        if not subjects.is_event_type_filter(event_type):
            raise limits.invalid(f"event_types: {subjects.preview(event_type)} is not "
                                 "<source>.<event> (e.g. capture_email.completed; "
                                 "* for any token)")
        if f"{prefix}.{event_type}" not in filters:
            filters.append(f"{prefix}.{event_type}")
    return filters


def start_of(req: pb.StreamEventsRequest) -> StartAt:
    return StartAt(sequence=req.start_sequence, time=limits.start_time(req))


def shown(stored: Stored, trace_id: str) -> pb.Event | None:
    """The event to send for ``stored``; ``None`` when it is filtered out or skipped."""
    try:
        event = convert.event_message(stored.subject, stored.sequence, stored.data)
    except convert.Unreadable as exc:
        log.info("StreamEvents: skipped stream sequence %d: %s", stored.sequence, exc)
        return None
    return None if trace_id and event.trace_id != trace_id else event


async def stream_events(bus: Bus, req: pb.StreamEventsRequest,
                        on_ready: Callable[[], Awaitable[None]] | None = None,
                        ) -> AsyncGenerator[pb.Event, None]:
    """Events in stream order until the caller cancels (the consumer is deleted then).

    ``on_ready`` runs once the consumer exists (the server sends the initial
    metadata then), so a caller knows from which point "live" starts. NATS trouble
    raises :class:`~core.errors.BusError` (the server maps it: ``bridge.errors``).
    """
    limits.check_stream(req)
    reader = StreamReader(bus, subject_filters(req), start_of(req))
    limits.check_request_size(req)
    if not bus.nc.is_connected:
        raise BusUnavailable("NATS unavailable: not connected")
    try:
        await reader.open()
    except BusError:
        await reader.close()
        raise
    try:
        if on_ready is not None:
            await on_ready()
        async for stored in reader.messages():
            event = shown(stored, req.trace_id)
            if event is not None:
                yield event
    finally:
        await reader.close()
