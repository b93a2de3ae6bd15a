"""StreamingSpeechToText through the ``transcribe_stream`` primitive.

The first ``AudioChunk`` carries the stream's format (``pcm_s16le``, the default), sample
rate (default 16000), language, hint, conversation and trace ids, and may carry audio;
the others carry audio, the last one ``is_final`` (or the caller closes its side). The
bridge checks all that, then publishes ``transcribe_stream.requested`` (a fresh stream
id) and each chunk, in order, as it comes (:mod:`core.audioin`: each waits for its
PubAck), while it reads the conversation's ``transcribe_stream.*`` events from the
request's sequence on: each partial becomes an ``STTResult`` (``is_final`` false, its
``stability``), the final one more (``is_final``, its confidence), and the call ends. A
``transcribe_stream.failed`` ends it with its code's status. The caller's gRPC deadline
bounds the call (at most the bridge's maximum).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import grpc
import msgspec

from bridge import calls, limits
from bridge._proto import audio_service_pb2 as pb
from bridge.errors import CallError, failure_error
from bridge.limits import Malformed
from bridge.reader import StartAt, Stored, StreamReader
from bridge.tracecontext import TRACE_ID_HEADER, resolve_trace_id
from core import primitive as registry
from core import subjects
from core.audioin import publish_chunk
from core.bus import Bus
from core.chunks import chunk_id
from core.presence import PresenceTracker
from schemas import events, ids
from schemas.audio import TranscribeStreamParams

PRIMITIVE = "transcribe_stream"


class Listener:
    """Runs StreamingSpeechToText calls (one per bridge)."""

    def __init__(self, bus: Bus, presence: PresenceTracker, *,
                 max_timeout_s: float = calls.MAX_TIMEOUT_S) -> None:
        self.bus = bus
        self.presence = presence
        self.max_timeout_s = max_timeout_s

    async def stream(self, chunks: AsyncIterator[pb.AudioChunk | Malformed], context: Any,
                     metadata: dict[str, str]) -> AsyncIterator[pb.STTResult]:
        first = await _next_chunk(chunks)
        if first is None:
            raise limits.invalid("no AudioChunk: the first one says what the stream is")
        trace_id = resolve_trace_id(first.trace_id, metadata)
        context.set_trailing_metadata(((TRACE_ID_HEADER, trace_id),))
        params = _params(first)
        conversation_id = limits.check_conversation(first.conversation_id) \
            if first.conversation_id else calls.new_conversation_id()
        request, reader = await self._start(params, conversation_id, trace_id,
                                            context.time_remaining())
        sending = asyncio.create_task(self._send(request, first, chunks))
        try:
            async for result in _results(reader, request.id, sending):
                yield result
        finally:
            sending.cancel()
            await asyncio.gather(sending, return_exceptions=True)
            await reader.close()

    async def _start(self, params: TranscribeStreamParams, conversation_id: str,
                     trace_id: str, time_remaining: float | None,
                     ) -> tuple[events.Event, StreamReader]:
        calls.require_connected(self.bus)
        prim = registry.get(PRIMITIVE)
        if prim is None or not await self.presence.serves(PRIMITIVE):
            raise CallError(grpc.StatusCode.UNAVAILABLE, f"no live worker serves {PRIMITIVE}")
        timed = calls.timing(self.max_timeout_s, time_remaining, default=self.max_timeout_s,
                             maximum=self.max_timeout_s)
        data = calls.request_data(prim, msgspec.to_builtins(params), timed)
        request = calls.request_event(prim, data, conversation_id=conversation_id,
                                      trace_id=trace_id)
        published = await self.bus.publish(request)
        reader = StreamReader(
            self.bus, [subjects.event_subject(conversation_id, f"{PRIMITIVE}.*")],
            StartAt(sequence=published.sequence))
        try:
            await reader.open()
        except BaseException:
            await reader.close()
            raise
        return request, reader

    async def _send(self, request: events.Event, first: pb.AudioChunk,
                    chunks: AsyncIterator[pb.AudioChunk | Malformed]) -> None:
        """Every chunk of the call, in order; an empty final one if the caller closed its
        side without marking one."""
        stream_id = request.data.params.stream_id
        sequence, chunk = 0, first
        while True:
            await publish_chunk(self.bus, request.conversation_id, stream_id, sequence,
                                chunk.data, final=chunk.is_final, trace_id=request.trace_id)
            if chunk.is_final:
                return
            sequence += 1
            following = await _next_chunk(chunks)
            chunk = pb.AudioChunk(is_final=True) if following is None else following


async def _next_chunk(chunks: AsyncIterator[pb.AudioChunk | Malformed]) -> pb.AudioChunk | None:
    try:
        chunk = await anext(chunks)
    except StopAsyncIteration:
        return None
    if isinstance(chunk, Malformed):
        raise limits.invalid(chunk.reason)
    return chunk


def _params(first: pb.AudioChunk) -> TranscribeStreamParams:
    raw = {"stream_id": ids.uuid7().replace("-", ""), "format": first.format or "pcm_s16le",
           "sample_rate": first.sample_rate or 16_000, "language": first.language,
           "hint": first.hint}
    try:
        return msgspec.convert(raw, TranscribeStreamParams)
    except msgspec.ValidationError as exc:
        raise limits.invalid(limits.invalid_params(exc, raw)) from None


async def _results(reader: StreamReader, request_id: str,
                   sending: asyncio.Task[None]) -> AsyncIterator[pb.STTResult]:
    """The request's partials and its final, as results; a failure to send audio ends it."""
    result_id, next_index = calls.result_id(request_id), 0
    while True:
        event = _own_event(await _next_stored(reader, sending), request_id, result_id)
        if isinstance(event, events.TranscribeStreamChunk):
            if event.data.index < next_index:
                continue  # a redelivered attempt's copy, already sent
            next_index = event.data.index + 1
            partial = event.data
            yield pb.STTResult(
                text=" ".join(t for t in (partial.committed, partial.tentative) if t),
                is_final=False, stability=partial.stability,
                audio_end_seconds=partial.audio_end_s)
        elif isinstance(event, events.TranscribeStreamCompleted):
            final = event.data
            yield pb.STTResult(text=final.text, is_final=True, stability=1.0,
                               confidence=final.confidence,
                               audio_end_seconds=final.duration_s)
            return
        elif isinstance(event, events.TranscribeStreamFailed):
            raise failure_error(event.data.code, event.data.message)


async def _next_stored(reader: StreamReader, sending: asyncio.Task[None]) -> Stored:
    """The next stored event; what went wrong sending the audio, if that comes first."""
    following = asyncio.ensure_future(reader.next())
    try:
        await asyncio.wait({following, sending}, return_when=asyncio.FIRST_COMPLETED)
        if not following.done() and sending.done() and sending.exception() is not None:
            raise sending.exception()  # type: ignore[misc]
        return await following
    finally:
        if not following.done():
            following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await following


def _own_event(stored: Stored, request_id: str, result_id: str) -> events.Event | None:
    """The stored event when it is a partial or the result of ``request_id``."""
    try:
        event = events.decode(stored.data)
    except msgspec.MsgspecError:
        return None
    mismatch = subjects.body_mismatch(stored.subject, event.conversation_id, event.event_type)
    if mismatch is not None or event.causation_id != request_id:
        return None
    if isinstance(event, events.TranscribeStreamChunk):
        expected = chunk_id(request_id, event.data.index)
    else:
        expected = result_id
    return event if event.id == expected else None
