"""Text to speech through the ``synthesize`` primitive: what TextToSpeech and
ProcessAudioFile share.

A call is checked before anything is published: its fields against the schema's
bounds (``synthesize``'s params; ``INVALID_ARGUMENT`` naming the field), its voice
against the voice catalogue (``NOT_FOUND``), a live worker serving ``synthesize``
(``UNAVAILABLE``). Then the bridge publishes ``synthesize.requested`` on the call's
conversation (conversation, timing and trace id as ExecutePrimitive: :mod:`bridge.calls`)
and reads the conversation's ``synthesize.*`` events from the stream, from the
request's own sequence on, with one ordered consumer: every ``synthesize.chunk`` of the
request is handed over as it is stored (its audio read from the object store), so
the first part reaches the caller while the worker still speaks the next ones; the
``synthesize.completed`` result ends the call, a ``synthesize.failed`` one ends it
with its code's status (``bridge.errors.failure_error``). Reading the stream rather
than core NATS means no part is lost while the connection reconnects.

The calls have no timeout field: they wait until the gRPC deadline, at most the
bridge's maximum (300 s); without a deadline, that maximum.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import grpc
import msgspec

from bridge import calls, limits
from bridge.calls import Timing
from bridge.errors import CallError, failure_error
from bridge.reader import StartAt, Stored, StreamReader
from core import primitive as registry
from core import subjects
from core.bus import Bus
from core.chunks import chunk_id
from core.errors import InvalidParams
from core.presence import PresenceTracker
from schemas import events
from schemas.audio import AudioRef, SynthesisChunk, SynthesisResult, SynthesizeParams

log = logging.getLogger(__name__)
T = TypeVar("T")

PRIMITIVE = "synthesize"
_FIELD_NAMES = {"voice": "voice_id"}
"""The proto's name of a params field, where it differs from the schema's."""


class VoiceCheck(Protocol):
    """The voice catalogue as the bridge uses it (``core.tts.voices.VoiceCatalog``)."""

    def resolve(self, voice: str, language: str) -> Any:
        """Raises :class:`~core.errors.UnknownVoice` when there is no such voice."""
        ...


class AudioReader(Protocol):
    """The audio object store as the bridge uses it (``core.audiostore.AudioStore``)."""

    async def get(self, ref: AudioRef) -> bytes:
        ...


@dataclass(frozen=True)
class Speech:
    """One checked synthesis call, ready to publish."""

    params: SynthesizeParams
    conversation_id: str
    trace_id: str


@dataclass(frozen=True)
class Spoken:
    """One part of the audio, in order."""

    chunk: SynthesisChunk
    audio: bytes


@dataclass(frozen=True)
class Finished:
    """The result that ended the call."""

    result: SynthesisResult
    request_id: str
    result_id: str


def speech(text: str, *, voice: str, language: str, fmt: str, sample_rate: int, speed: float,
           conversation_id: str, trace_id: str) -> Speech:
    """A call's fields as ``synthesize``'s params (proto defaults: ``en``, ``wav``, the
    engine's rate, speed 1); ``INVALID_ARGUMENT`` naming the field that does not fit."""
    raw = {"text": text, "voice": voice, "language": language or "en", "format": fmt or "wav",
           "sample_rate": sample_rate, "speed": speed or 1.0}
    try:
        params = msgspec.convert(raw, SynthesizeParams)
    except msgspec.ValidationError as exc:
        message = limits.invalid_params(exc, raw)
        field, sep, rest = message.partition(":")
        if sep and field in raw:
            message = f"{_FIELD_NAMES.get(field, field)}:{rest}"
        raise limits.invalid(message) from None
    if conversation_id:
        limits.check_conversation(conversation_id)
    return Speech(params, conversation_id or calls.new_conversation_id(), trace_id)


class Speaker:
    """Runs synthesis calls for the AudioService (one per bridge)."""

    def __init__(self, bus: Bus, presence: PresenceTracker, voices: VoiceCheck,
                 store: AudioReader, *, max_timeout_s: float = calls.MAX_TIMEOUT_S) -> None:
        self.bus = bus
        self.presence = presence
        self.voices = voices
        self.store = store
        self.max_timeout_s = max_timeout_s

    async def start(self, call: Speech, time_remaining: float | None) -> Synthesis:
        """Check the voice and the workers, publish the request, and open the reader of
        its parts (read them with :meth:`Synthesis.parts`, inside ``async with``)."""
        params = call.params
        await asyncio.to_thread(self.voices.resolve, params.voice, params.language)
        calls.require_connected(self.bus)
        prim = registry.get(PRIMITIVE)
        if prim is None or not await self.presence.serves(PRIMITIVE):
            raise CallError(grpc.StatusCode.UNAVAILABLE, f"no live worker serves {PRIMITIVE}")
        timed = calls.timing(self.max_timeout_s, time_remaining, default=self.max_timeout_s,
                             maximum=self.max_timeout_s)
        try:
            data = calls.request_data(prim, msgspec.to_builtins(params), timed)
        except InvalidParams as exc:  # the params were converted once already: a bug
            raise CallError(grpc.StatusCode.INTERNAL, str(exc)) from None
        request = calls.request_event(prim, data, conversation_id=call.conversation_id,
                                      trace_id=call.trace_id)
        published = await self.bus.publish(request)
        reader = StreamReader(self.bus, [_events_of(call.conversation_id)],
                              StartAt(sequence=published.sequence))
        try:
            await reader.open()
        except BaseException:
            await reader.close()
            raise
        return Synthesis(reader, self.store, request.id, timed)


class Synthesis:
    """One published synthesis: its parts and result, read from the stream."""

    def __init__(self, reader: StreamReader, store: AudioReader, request_id: str,
                 timed: Timing) -> None:
        self.reader = reader
        self.store = store
        self.request_id = request_id
        self.result_id = calls.result_id(request_id)
        self.timed = timed
        self._until = asyncio.get_running_loop().time() + timed.wait

    async def __aenter__(self) -> Synthesis:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.reader.close()

    async def parts(self) -> AsyncIterator[Spoken | Finished]:
        """Each part as it is stored, then the result; raises a voicecore error (the
        failure's status, DEADLINE_EXCEEDED when the time is up)."""
        next_index = 0
        while True:
            event = _own_event(await self._within(self.reader.next()), self.request_id,
                               self.result_id)
            if isinstance(event, events.SynthesizeChunk):
                if event.data.index < next_index:
                    continue  # a redelivered attempt's copy, already sent
                next_index = event.data.index + 1
                audio = await self._within(self.store.get(event.data.audio))
                yield Spoken(event.data, audio)
            elif isinstance(event, events.SynthesizeCompleted):
                yield Finished(event.data, self.request_id, self.result_id)
                return
            elif isinstance(event, events.SynthesizeFailed):
                raise failure_error(event.data.code, event.data.message)

    async def _within(self, step: Awaitable[T]) -> T:
        """``step``'s value, or DEADLINE_EXCEEDED when the call's time is up first."""
        try:
            return await asyncio.wait_for(step, self._until - asyncio.get_running_loop().time())
        except TimeoutError:
            why = "the caller's deadline passed" if self.timed.caller_bound else "no result"
            raise CallError(grpc.StatusCode.DEADLINE_EXCEEDED,
                            f"{PRIMITIVE}: {why} after {self.timed.wait:g}s") from None


def _events_of(conversation_id: str) -> str:
    """The subject filter of a conversation's ``synthesize`` events."""
    return subjects.event_subject(conversation_id, f"{PRIMITIVE}.*")


def _own_event(stored: Stored, request_id: str, result_id: str) -> events.Event | None:
    """The stored event when it is a part or the result of ``request_id`` (its id the one
    the worker derives for it), else ``None``: another call's, the request itself, or a
    message that is no readable event."""
    try:
        event = events.decode(stored.data)
    except msgspec.MsgspecError:
        log.info("%s: skipped stream sequence %d: not a readable event", PRIMITIVE,
                 stored.sequence)
        return None
    mismatch = subjects.body_mismatch(stored.subject, event.conversation_id, event.event_type)
    if mismatch is not None or event.causation_id != request_id:
        return None
    if isinstance(event, events.SynthesizeChunk):
        expected = chunk_id(request_id, event.data.index)
    else:
        expected = result_id
    return event if event.id == expected else None
