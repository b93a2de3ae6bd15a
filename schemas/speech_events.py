"""The speech primitives' events: ``synthesize`` (text to speech), ``transcribe`` (a whole
utterance to text) and ``transcribe_stream`` (a streamed utterance to text).

Members of the one union (:data:`schemas.events.BUILTIN_EVENTS`); their payloads are in
:mod:`schemas.audio`.
"""

from __future__ import annotations

from schemas.audio import (
    StreamTranscription,
    SynthesisChunk,
    SynthesisResult,
    SynthesizeParams,
    TranscribeParams,
    TranscribeStreamParams,
    Transcription,
    TranscriptionPartial,
)
from schemas.envelope import Event
from schemas.payloads import Failure, Request


class SynthesizeRequested(Event, frozen=True, kw_only=True, tag="synthesize.requested"):
    data: Request[SynthesizeParams]


class SynthesizeChunk(Event, frozen=True, kw_only=True, tag="synthesize.chunk"):
    """One part of the audio, published as soon as it is stored (before the result)."""

    data: SynthesisChunk


class SynthesizeCompleted(Event, frozen=True, kw_only=True, tag="synthesize.completed"):
    data: SynthesisResult


class SynthesizeFailed(Event, frozen=True, kw_only=True, tag="synthesize.failed"):
    data: Failure


class TranscribeRequested(Event, frozen=True, kw_only=True, tag="transcribe.requested"):
    data: Request[TranscribeParams]


class TranscribeCompleted(Event, frozen=True, kw_only=True, tag="transcribe.completed"):
    data: Transcription


class TranscribeFailed(Event, frozen=True, kw_only=True, tag="transcribe.failed"):
    data: Failure


class TranscribeStreamRequested(Event, frozen=True, kw_only=True,
                                tag="transcribe_stream.requested"):
    """The start of a streamed utterance; its owner (the worker that takes it) reads the
    chunks on ``vc.audio.<conversation>.<stream_id>``."""

    data: Request[TranscribeStreamParams]


class TranscribeStreamChunk(Event, frozen=True, kw_only=True, tag="transcribe_stream.chunk"):
    """A partial transcript (committed prefix + tentative tail) while audio arrives."""

    data: TranscriptionPartial


class TranscribeStreamCompleted(Event, frozen=True, kw_only=True,
                                tag="transcribe_stream.completed"):
    data: StreamTranscription


class TranscribeStreamFailed(Event, frozen=True, kw_only=True, tag="transcribe_stream.failed"):
    data: Failure


SPEECH_EVENTS: tuple[type[Event], ...] = (
    SynthesizeRequested,
    SynthesizeChunk,
    SynthesizeCompleted,
    SynthesizeFailed,
    TranscribeRequested,
    TranscribeCompleted,
    TranscribeFailed,
    TranscribeStreamRequested,
    TranscribeStreamChunk,
    TranscribeStreamCompleted,
    TranscribeStreamFailed,
)
