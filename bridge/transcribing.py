"""Speech to text through the ``transcribe`` primitive: what SpeechToText and
ProcessAudioFile (with ``audio``) share.

A call is checked before anything is stored or published: its ids and fields (``hint``,
``language`` against the schema's bounds; ``INVALID_ARGUMENT`` naming the field) and its
audio, decoded once here off the event loop (:func:`core.audio.decode_detected`, within
:class:`core.audiocheck.AudioLimits`): audio that does not decode, or is over a limit, is
``INVALID_ARGUMENT`` with the reason ``INVALID_AUDIO: …``. Its format is detected from
the bytes (raw ``pcm_s16le`` must be declared, with its rate). Then a live worker serving
``transcribe`` is required (``UNAVAILABLE``), the audio is stored in ``VC_AUDIO`` as
``<conversation>/<request id>/0.<ext>`` and ``transcribe.requested`` is published with
its :class:`~schemas.audio.AudioRef` (word timestamps on: the answer has the words);
the ``transcribe.completed`` result read from the stream (:mod:`bridge.answers`) is the
answer, a ``transcribe.failed`` one its code's status.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import cast, get_args

import grpc
import msgspec

from bridge import calls, limits
from bridge._proto import audio_service_pb2 as pb
from bridge.answers import Publisher
from bridge.audiofile import audio_object
from bridge.errors import CallError
from bridge.limits import Malformed
from bridge.listen import next_chunk
from core.audio import Pcm, decode_detected
from core.audiocheck import AudioLimits
from core.audiostore import AudioStore, object_name, reference
from core.bus import Bus
from core.errors import InvalidAudio, InvalidParams
from core.presence import PresenceTracker
from core.stt import subtitles
from schemas import events, ids
from schemas.audio import AudioFormat, AudioRef, Segment, Transcription

PRIMITIVE = "transcribe"
RAW = "pcm_s16le"
RAW_DEFAULT_RATE = 16_000
FORMATS: tuple[str, ...] = get_args(AudioFormat)


@dataclass(frozen=True)
class Hearing:
    """One checked transcription call, its audio not decoded yet."""

    audio: bytes
    format: str
    """The declared format: empty (detected), or ``pcm_s16le``/a container name."""
    sample_rate: int
    language: str
    hint: str
    conversation_id: str
    trace_id: str


@dataclass(frozen=True)
class Heard:
    """The result that answered the call, and where its audio is stored."""

    result: Transcription
    audio: AudioRef
    request_id: str
    result_id: str


def hearing(audio: bytes, *, fmt: str, sample_rate: int, language: str, hint: str,
            conversation_id: str, trace_id: str) -> Hearing:
    """A call's fields; ``INVALID_ARGUMENT`` for an unknown format or a bad conversation."""
    if fmt and fmt not in FORMATS:
        raise limits.invalid(f"format: {fmt[:20]!r} is not one of {', '.join(FORMATS)}")
    if sample_rate < 0:
        raise limits.invalid("sample_rate: must not be negative")
    if conversation_id:
        limits.check_conversation(conversation_id)
    rate = sample_rate or (RAW_DEFAULT_RATE if fmt == RAW else 0)
    return Hearing(audio, fmt, rate, language, hint,
                   conversation_id or calls.new_conversation_id(), trace_id)


async def gathered(chunks: AsyncIterator[pb.AudioChunk | Malformed],
                   max_bytes: int) -> tuple[pb.AudioChunk, bytes]:
    """SpeechToText's first chunk and all the audio, up to the one marked ``is_final`` or
    the caller's end; ``INVALID_AUDIO`` as soon as it is over ``max_bytes``."""
    first = await next_chunk(chunks)
    if first is None:
        raise limits.invalid("no AudioChunk: the first one says what the audio is")
    parts, size, chunk = [], 0, first
    while True:
        size += len(chunk.data)
        if size > max_bytes:
            raise invalid_audio(InvalidAudio(f"audio is over the limit of {max_bytes:,} bytes "
                                             f"({size:,} bytes so far)"))
        parts.append(chunk.data)
        following = None if chunk.is_final else await next_chunk(chunks)
        if following is None:
            return first, b"".join(parts)
        chunk = following


class Scribe(Publisher):
    """Runs transcription calls for the AudioService (one per bridge)."""

    primitive = PRIMITIVE

    def __init__(self, bus: Bus, presence: PresenceTracker, store: AudioStore, *,
                 max_timeout_s: float = calls.MAX_TIMEOUT_S) -> None:
        super().__init__(bus, presence, max_timeout_s=max_timeout_s)
        self.store = store

    async def transcribe(self, call: Hearing, time_remaining: float | None) -> Heard:
        """Check the audio and the workers, store the audio, publish the request, and
        answer its result."""
        pcm, fmt = await asyncio.to_thread(_decoded, call)
        prim = await self.serving()
        timed = self.timing(time_remaining)
        request_id = ids.uuid7()
        ref = reference(object_name(call.conversation_id, request_id, 0, fmt), call.audio,
                        format=cast(AudioFormat, fmt), sample_rate=pcm.rate,
                        duration_s=pcm.duration_s)
        params = {"audio": msgspec.to_builtins(ref), "language": call.language,
                  "hint": call.hint, "word_timestamps": True}
        request = self.request(prim, params, timed, conversation_id=call.conversation_id,
                               trace_id=call.trace_id, request_id=request_id)
        await self.store.put(ref.name, call.audio, format=ref.format,
                             sample_rate=ref.sample_rate, duration_s=ref.duration_s)
        async with await self.publish(request, timed) as answers:
            event = await answers.next()  # transcribe has no chunks: this is its result
        assert isinstance(event, events.TranscribeCompleted), event.event_type
        return Heard(event.data, ref, answers.request_id, answers.result_id)


def _decoded(call: Hearing) -> tuple[Pcm, str]:
    """The audio (its own rate) and its format; ``INVALID_AUDIO`` when it does not decode."""
    try:
        return decode_detected(call.audio, limits=AudioLimits.from_env(),
                               fmt=call.format if call.format == RAW else None,
                               source_rate=call.sample_rate or None)
    except (InvalidAudio, InvalidParams) as exc:
        raise invalid_audio(exc) from None


def invalid_audio(exc: InvalidAudio | InvalidParams) -> CallError:
    """``INVALID_ARGUMENT`` with the reason's code, as a worker's failure would say it."""
    return CallError(grpc.StatusCode.INVALID_ARGUMENT, f"{InvalidAudio.code}: {exc}")


def stt_response(call: Hearing, heard: Heard) -> pb.STTResponse:
    found = heard.result
    return pb.STTResponse(
        text=found.text, language=found.language,
        language_probability=found.language_probability, confidence=found.confidence,
        segments=[_segment(s) for s in found.segments], duration_seconds=found.duration_s,
        trace_id=call.trace_id, conversation_id=call.conversation_id,
        request_event_id=heard.request_id, result_event_id=heard.result_id,
        model=found.model, real_time_factor=found.real_time_factor,
        audio=audio_object(heard.audio))


def file_response(call: Hearing, heard: Heard, subtitle_format: str
                  ) -> pb.ProcessAudioFileResponse:
    """ProcessAudioFile's answer for a transcription (with subtitles when asked)."""
    found, ref = heard.result, heard.audio
    return pb.ProcessAudioFileResponse(
        format=ref.format, sample_rate=ref.sample_rate, duration_seconds=found.duration_s,
        objects=[audio_object(ref)],
        usage=pb.Usage(engine=found.usage.engine, voice=found.usage.voice,
                       audio_seconds=found.usage.audio_seconds),
        transcription=stt_response(call, heard), conversation_id=call.conversation_id,
        trace_id=call.trace_id, request_event_id=heard.request_id,
        result_event_id=heard.result_id,
        subtitles=subtitles.subtitles(found.segments, subtitle_format)
        if subtitle_format else "")


def check_subtitles(fmt: str) -> str:
    if fmt and fmt not in subtitles.FORMATS:
        raise limits.invalid(f"subtitles: {fmt[:20]!r} is not one of "
                             f"{', '.join(subtitles.FORMATS)} (or empty)")
    return fmt


def _segment(segment: Segment) -> pb.Segment:
    return pb.Segment(start=segment.start, end=segment.end, text=segment.text,
                      confidence=segment.confidence,
                      words=[pb.Word(start=w.start, end=w.end, word=w.word,
                                     probability=w.probability) for w in segment.words])
