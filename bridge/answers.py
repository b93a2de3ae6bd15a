"""A published request and its answers read from the stream: what the AudioService calls
share (TextToSpeech and ProcessAudioFile on ``synthesize``, SpeechToText and
ProcessAudioFile on ``transcribe``, StreamingSpeechToText on ``transcribe_stream``).

:class:`Publisher` checks that a live worker serves the primitive (``UNAVAILABLE``
otherwise), makes the request event (conversation, timing and trace id as
ExecutePrimitive: :mod:`bridge.calls`; params that do not fit are ``INVALID_ARGUMENT``
naming the field, before anything is published or stored), publishes it and opens one
ordered consumer on the conversation's ``<primitive>.*`` events from the request's own
sequence on, so no answer is lost while the connection reconnects.

:meth:`Answers.next` gives the request's chunk events in order (the copies a redelivered
attempt publishes again are skipped) and then its completed result; a failed result
raises its code's status (``bridge.errors.failure_error``), and the call's time running
out ``DEADLINE_EXCEEDED``. The calls have no timeout field: they wait until the gRPC
deadline, at most the bridge's maximum (300 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

import grpc
import msgspec

from bridge import calls
from bridge.calls import Timing
from bridge.errors import CallError, failure_error
from bridge.reader import StartAt, Stored, StreamReader
from core import primitive as registry
from core import subjects
from core.bus import Bus
from core.chunks import chunk_id
from core.presence import PresenceTracker
from core.primitive import Primitive
from schemas import events

log = logging.getLogger(__name__)
T = TypeVar("T")


class Publisher:
    """Publishes one primitive's requests for the AudioService and follows their answers."""

    primitive = ""
    """The primitive (a subclass's)."""

    def __init__(self, bus: Bus, presence: PresenceTracker, *,
                 max_timeout_s: float = calls.MAX_TIMEOUT_S) -> None:
        self.bus = bus
        self.presence = presence
        self.max_timeout_s = max_timeout_s

    async def serving(self) -> Primitive:
        """The primitive, when NATS is connected and a live worker serves it."""
        calls.require_connected(self.bus)
        prim = registry.get(self.primitive)
        if prim is None or not await self.presence.serves(self.primitive):
            raise CallError(grpc.StatusCode.UNAVAILABLE, f"no live worker serves {self.primitive}")
        return prim

    def timing(self, time_remaining: float | None) -> Timing:
        """Until the caller's deadline, at most the bridge's maximum."""
        return calls.timing(self.max_timeout_s, time_remaining, default=self.max_timeout_s,
                            maximum=self.max_timeout_s)

    def request(self, prim: Primitive, params: dict[str, Any], timed: Timing, *,
                conversation_id: str, trace_id: str,
                request_id: str | None = None) -> events.Event:
        """The request event; ``INVALID_ARGUMENT`` naming the param that does not fit."""
        data = calls.request_data(prim, params, timed)
        return calls.request_event(prim, data, conversation_id=conversation_id,
                                   trace_id=trace_id, request_id=request_id)

    async def publish(self, request: events.Event, timed: Timing) -> Answers:
        """Publish ``request`` and open the reader of its answers (read them with
        :meth:`Answers.next`, inside ``async with``)."""
        published = await self.bus.publish(request)
        reader = StreamReader(
            self.bus, [subjects.event_subject(request.conversation_id, f"{self.primitive}.*")],
            StartAt(sequence=published.sequence))
        try:
            await reader.open()
        except BaseException:
            await reader.close()
            raise
        return Answers(reader, self.primitive, request, timed)


class Answers:
    """One published request's chunk events and result, read from the stream."""

    def __init__(self, reader: StreamReader, primitive: str, request: events.Event,
                 timed: Timing) -> None:
        self.reader = reader
        self.primitive = primitive
        self.request = request
        self.request_id = request.id
        self.result_id = calls.result_id(request.id)
        self.timed = timed
        self._until = asyncio.get_running_loop().time() + timed.wait
        self._next_index = 0

    async def __aenter__(self) -> Answers:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.reader.close()

    async def next(self, alongside: asyncio.Future[Any] | None = None) -> events.Event:
        """The next chunk event, or the completed result (the last). Raises the failure's
        status, DEADLINE_EXCEEDED when the time is up, or what ``alongside`` (work the
        call does meanwhile, e.g. sending audio) raised if it failed first."""
        while True:
            stored = await self.within(_next_stored(self.reader, alongside))
            event = own_event(stored, self.request_id, self.result_id)
            if event is None:
                continue
            kind = event.event_type.rpartition(".")[2]
            if kind == subjects.CHUNK_KIND:
                if event.data.index < self._next_index:
                    continue  # a redelivered attempt's copy, already handed over
                self._next_index = event.data.index + 1
            elif kind == "failed":
                raise failure_error(event.data.code, event.data.message)
            return event

    async def within(self, step: Awaitable[T]) -> T:
        """``step``'s value, or DEADLINE_EXCEEDED when the call's time is up first."""
        try:
            return await asyncio.wait_for(step, self._until - asyncio.get_running_loop().time())
        except TimeoutError:
            why = "the caller's deadline passed" if self.timed.caller_bound else "no result"
            raise CallError(grpc.StatusCode.DEADLINE_EXCEEDED,
                            f"{self.primitive}: {why} after {self.timed.wait:g}s") from None


async def _next_stored(reader: StreamReader, alongside: asyncio.Future[Any] | None) -> Stored:
    """The next stored event; what ``alongside`` raised, if that comes first."""
    if alongside is None:
        return await reader.next()
    following = asyncio.ensure_future(reader.next())
    try:
        await asyncio.wait({following, alongside}, return_when=asyncio.FIRST_COMPLETED)
        if not following.done() and alongside.done() and alongside.exception() is not None:
            raise alongside.exception()  # type: ignore[misc]
        return await following
    finally:
        if not following.done():
            following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await following


def own_event(stored: Stored, request_id: str, result_id: str) -> events.Event | None:
    """The stored event when it is a chunk or the result of ``request_id`` (its id the one
    the worker derives for it), else ``None``: another call's, the request itself, or a
    message that is no readable event."""
    try:
        event = events.decode(stored.data)
    except msgspec.MsgspecError:
        log.info("skipped stream sequence %d: not a readable event", stored.sequence)
        return None
    mismatch = subjects.body_mismatch(stored.subject, event.conversation_id, event.event_type)
    if mismatch is not None or event.causation_id != request_id:
        return None
    if event.event_type.endswith(f".{subjects.CHUNK_KIND}"):
        expected = chunk_id(request_id, event.data.index)
    else:
        expected = result_id
    return event if event.id == expected else None
