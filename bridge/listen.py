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
from collections.abc import AsyncIterator
from typing import Any

import msgspec

from bridge import calls, limits
from bridge._proto import audio_service_pb2 as pb
from bridge.answers import Answers, Publisher
from bridge.limits import Malformed
from bridge.tracecontext import TRACE_ID_HEADER, resolve_trace_id
from core.audioin import publish_chunk
from schemas import events, ids
from schemas.audio import TranscribeStreamParams

PRIMITIVE = "transcribe_stream"


class Listener(Publisher):
    """Runs StreamingSpeechToText calls (one per bridge)."""

    primitive = PRIMITIVE

    async def stream(self, chunks: AsyncIterator[pb.AudioChunk | Malformed], context: Any,
                     metadata: dict[str, str]) -> AsyncIterator[pb.STTResult]:
        first = await next_chunk(chunks)
        if first is None:
            raise limits.invalid("no AudioChunk: the first one says what the stream is")
        trace_id = resolve_trace_id(first.trace_id, metadata)
        context.set_trailing_metadata(((TRACE_ID_HEADER, trace_id),))
        params = _params(first)
        conversation_id = limits.check_conversation(first.conversation_id) \
            if first.conversation_id else calls.new_conversation_id()
        prim = await self.serving()
        timed = self.timing(context.time_remaining())
        request = self.request(prim, msgspec.to_builtins(params), timed,
                               conversation_id=conversation_id, trace_id=trace_id)
        async with await self.publish(request, timed) as answers:
            sending = asyncio.create_task(self._send(request, first, chunks))
            try:
                async for result in _results(answers, sending):
                    yield result
            finally:
                sending.cancel()
                await asyncio.gather(sending, return_exceptions=True)

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
            following = await next_chunk(chunks)
            chunk = pb.AudioChunk(is_final=True) if following is None else following


async def next_chunk(chunks: AsyncIterator[pb.AudioChunk | Malformed]) -> pb.AudioChunk | None:
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


async def _results(answers: Answers,
                   sending: asyncio.Task[None]) -> AsyncIterator[pb.STTResult]:
    """The request's partials and its final, as results; a failure to send audio ends it."""
    while True:
        event = await answers.next(alongside=sending)
        if isinstance(event, events.TranscribeStreamChunk):
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
