"""Text to speech through the ``synthesize`` primitive: what TextToSpeech and
ProcessAudioFile share.

A call is checked before anything is published: its fields against the schema's
bounds (``synthesize``'s params; ``INVALID_ARGUMENT`` naming the field), its voice
against the voice catalogue (``NOT_FOUND``), a live worker serving ``synthesize``
(``UNAVAILABLE``). Then the bridge publishes ``synthesize.requested`` on the call's
conversation and reads its answers from the stream (:mod:`bridge.answers`): every
``synthesize.chunk`` of the request is handed over as it is stored (its audio read from
the object store), so the first part reaches the caller while the worker still speaks
the next ones; the ``synthesize.completed`` result ends the call, a ``synthesize.failed``
one ends it with its code's status (``bridge.errors.failure_error``).

The calls have no timeout field: they wait until the gRPC deadline, at most the
bridge's maximum (300 s); without a deadline, that maximum.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec

from bridge import calls, limits
from bridge.answers import Answers, Publisher
from core.bus import Bus
from core.presence import PresenceTracker
from schemas import events
from schemas.audio import AudioRef, SynthesisChunk, SynthesisResult, SynthesizeParams

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


class Speaker(Publisher):
    """Runs synthesis calls for the AudioService (one per bridge)."""

    primitive = PRIMITIVE

    def __init__(self, bus: Bus, presence: PresenceTracker, voices: VoiceCheck,
                 store: AudioReader, *, max_timeout_s: float = calls.MAX_TIMEOUT_S) -> None:
        super().__init__(bus, presence, max_timeout_s=max_timeout_s)
        self.voices = voices
        self.store = store

    async def start(self, call: Speech, time_remaining: float | None) -> Synthesis:
        """Check the voice and the workers, publish the request, and open the reader of
        its parts (read them with :meth:`Synthesis.parts`, inside ``async with``)."""
        params = call.params
        await asyncio.to_thread(self.voices.resolve, params.voice, params.language)
        prim = await self.serving()
        timed = self.timing(time_remaining)
        request = self.request(prim, msgspec.to_builtins(params), timed,
                               conversation_id=call.conversation_id, trace_id=call.trace_id)
        return Synthesis(await self.publish(request, timed), self.store)


class Synthesis:
    """One published synthesis: its parts and result, read from the stream."""

    def __init__(self, answers: Answers, store: AudioReader) -> None:
        self.answers = answers
        self.store = store

    async def __aenter__(self) -> Synthesis:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.answers.__aexit__(*exc)

    async def parts(self) -> AsyncIterator[Spoken | Finished]:
        """Each part as it is stored, then the result; raises a voicecore error (the
        failure's status, DEADLINE_EXCEEDED when the time is up)."""
        answers = self.answers
        while True:
            event = await answers.next()
            if isinstance(event, events.SynthesizeChunk):
                audio = await answers.within(self.store.get(event.data.audio))
                yield Spoken(event.data, audio)
            elif isinstance(event, events.SynthesizeCompleted):
                yield Finished(event.data, answers.request_id, answers.result_id)
                return
