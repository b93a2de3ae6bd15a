"""Payloads of the speech primitives: audio references, synthesis, usage.

Audio never travels base64 in JSON. It lives in the JetStream Object Store bucket
``VC_AUDIO`` and events carry an :class:`AudioRef` to it (``core/audiostore.py``).
The evolution rules of :mod:`schemas.events` apply: additive only, every added field
has a default, unknown fields are ignored on decode.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

AudioFormat = Literal["wav", "mp3", "ogg", "flac", "webm", "pcm_s16le"]
"""A container or codec name. ``ogg`` is Opus in Ogg; ``pcm_s16le`` is raw 16-bit mono PCM
at the reference's ``sample_rate`` (no header)."""
SynthesisFormat = Literal["wav", "mp3", "ogg", "flac", "pcm_s16le"]
"""What ``synthesize`` can write (every :data:`AudioFormat` but ``webm``)."""
SpeechLanguage = Literal["en", "es", "fr", "de"]

Sha256 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}(?!\n)$")]
ObjectName = Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
BucketName = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
SampleRate = Annotated[int, msgspec.Meta(ge=0, le=384_000)]
SPEECH_RATES = (8_000, 48_000)
"""The rates speech is asked for or sent raw in (telephony's 8 kHz to 48 kHz): a synthesis's
output rate (or 0, the engine's own), and raw ``pcm_s16le`` audio in."""
Seconds = Annotated[float, msgspec.Meta(ge=0.0)]
Count = Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]
VoiceName = Annotated[str, msgspec.Meta(max_length=128)]
SynthesisText = Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]
Speed = Annotated[float, msgspec.Meta(ge=0.5, le=2.0)]


class AudioRef(msgspec.Struct, frozen=True, kw_only=True):
    """Where one piece of audio is stored, and what it is."""

    bucket: BucketName
    name: ObjectName
    """The object's name in the bucket: ``<conversation_id>/<request id>/<part>.<ext>``."""
    size: Count
    """Bytes of the object."""
    sha256: Sha256
    """Hex digest of the object's bytes (checked when it is read back)."""
    format: AudioFormat
    sample_rate: SampleRate
    duration_s: Seconds
    channels: Annotated[int, msgspec.Meta(ge=1, le=8)] = 1


class Usage(msgspec.Struct, frozen=True, kw_only=True):
    """What one speech call consumed, for ``voicecore log usage`` and its price table."""

    engine: Annotated[str, msgspec.Meta(max_length=64)]
    """``gtts``, ``piper``, ``espeak-ng``, ``faster-whisper``, …"""
    voice: VoiceName = ""
    """The engine's voice (synthesis) or model (recognition) that did the work."""
    characters: Count = 0
    """Characters synthesized."""
    audio_seconds: Seconds = 0.0
    """Seconds of audio produced (synthesis) or heard (recognition)."""


class SynthesizeParams(msgspec.Struct, frozen=True, kw_only=True):
    """``synthesize``: text to speech, split at sentence boundaries."""

    text: SynthesisText
    voice: VoiceName = ""
    """A voice id or name (``emma``, ``James``, ``piper:en_US-joe-medium``); empty = the
    default voice of ``language``."""
    language: SpeechLanguage = "en"
    format: SynthesisFormat = "wav"
    sample_rate: SampleRate = 0
    """0 = the engine's own rate; else 8,000-48,000 Hz (:data:`SPEECH_RATES`)."""
    speed: Speed = 1.0

    def __post_init__(self) -> None:
        low, high = SPEECH_RATES
        if self.sample_rate and not low <= self.sample_rate <= high:
            raise ValueError(f"sample_rate: {self.sample_rate} Hz is not a speech rate "
                             f"({low:,}-{high:,} Hz, or 0 for the voice's own)")


class SynthesisChunk(msgspec.Struct, frozen=True, kw_only=True):
    """Data of ``synthesize.chunk``: one part (a sentence or a few) as soon as it is ready."""

    index: Count
    """0, 1, 2, … in speaking order."""
    is_final: bool
    audio: AudioRef
    characters: Count = 0
    """Characters of the request's text this part speaks."""


class SynthesisResult(msgspec.Struct, frozen=True, kw_only=True):
    """Data of ``synthesize.completed``."""

    chunks: tuple[AudioRef, ...]
    """Every part, in order (the same references the chunk events carried)."""
    time_to_first_audio_ms: Seconds
    """From the start of execution to the first part stored."""
    duration_s: Seconds
    engine: str
    voice: str
    """The voice's id (``emma``) as resolved; ``usage.voice`` names the engine's voice."""
    language: SpeechLanguage
    format: SynthesisFormat
    sample_rate: SampleRate
    usage: Usage
    fallback_from: str = ""
    """Set when the configured engine failed and ``--tts-fallback`` answered instead: the
    engine that failed (``gtts``); its error is in ``fallback_reason``."""
    fallback_reason: str = ""


LanguageHint = Annotated[str, msgspec.Meta(pattern=r"^([a-z]{2,3})?(?!\n)$")]
"""An ISO 639-1/-3 code, or empty: detect the language."""
Probability = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]


class TranscribeParams(msgspec.Struct, frozen=True, kw_only=True):
    """``transcribe``: speech to text with faster-whisper."""

    audio: AudioRef
    language: LanguageHint = ""
    hint: Annotated[str, msgspec.Meta(max_length=500)] = ""
    """What the caller is about to say: ``email``, ``phone``, ``date``, ``confirmation``, or
    free text; it steers the recognizer toward the forms the next capture reads."""
    word_timestamps: bool = False
    vad_filter: bool = False
    beam_size: Annotated[int, msgspec.Meta(ge=1, le=10)] = 5


class Word(msgspec.Struct, frozen=True, kw_only=True):
    start: Seconds
    end: Seconds
    word: str
    probability: Probability


class Segment(msgspec.Struct, frozen=True, kw_only=True):
    start: Seconds
    end: Seconds
    text: str
    confidence: Probability
    avg_logprob: float = 0.0
    no_speech_prob: Probability = 0.0
    words: tuple[Word, ...] = ()


class Transcription(msgspec.Struct, frozen=True, kw_only=True):
    """Data of ``transcribe.completed``."""

    text: str
    language: str
    language_probability: Probability
    confidence: Probability
    segments: tuple[Segment, ...]
    duration_s: Seconds
    """Seconds of audio heard."""
    real_time_factor: Seconds
    """Processing time divided by audio duration (below 1: faster than real time)."""
    model: str
    usage: Usage


StreamId = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
"""One NATS subject token, like a conversation id (``core.subjects.audio_in_subject``
checks it): the chunks of a stream travel on ``vc.audio.<conversation>.<id>``."""
StreamFormat = Literal["pcm_s16le"]
"""What a streamed chunk may be: raw 16-bit mono PCM at the stream's rate (no header), so
every chunk decodes on its own."""
EndedBy = Literal["end_of_stream", "end_of_speech", "timeout"]


class TranscribeStreamParams(msgspec.Struct, frozen=True, kw_only=True):
    """``transcribe_stream``: one utterance, heard chunk by chunk (its audio on
    ``vc.audio.<conversation>.<stream_id>``, see ``core/audioin.py``)."""

    stream_id: StreamId
    format: StreamFormat = "pcm_s16le"
    sample_rate: Annotated[int, msgspec.Meta(ge=SPEECH_RATES[0], le=SPEECH_RATES[1])] = 16_000
    language: LanguageHint = ""
    hint: Annotated[str, msgspec.Meta(max_length=500)] = ""
    beam_size: Annotated[int, msgspec.Meta(ge=1, le=10)] = 5
    idle_timeout_s: Annotated[float, msgspec.Meta(gt=0.0, le=300.0)] = 10.0
    """No chunk for this long: the stream is closed with what was heard (``timeout``)."""
    end_of_speech_s: Annotated[float, msgspec.Meta(ge=0.0, le=10.0)] = 0.0
    """Silence after speech (Silero VAD) that ends the utterance; 0 = only the end of the
    stream or the timeout end it."""
    word_timestamps: bool | msgspec.UnsetType = msgspec.UNSET
    """Words with times in the final's segments, as ``transcribe``'s ``word_timestamps``
    (unset: false, and not written, so events of before it read and encode the same).
    Partials use word times whatever this says (local agreement compares timed words);
    the final's pass after the end computes them only when asked."""


class TranscriptionPartial(msgspec.Struct, frozen=True, kw_only=True):
    """Data of ``transcribe_stream.chunk``: what is heard so far, while audio arrives."""

    index: Count
    """0, 1, 2, … in order."""
    committed: str
    """The stable prefix: two successive hypotheses agreed on it (never changes again)."""
    tentative: str
    """The latest hypothesis after the committed prefix (may still change)."""
    stability: Probability
    """The committed share of the words shown."""
    audio_end_s: Seconds
    """Seconds of audio heard when this hypothesis was made."""


class StreamTranscription(Transcription, frozen=True, kw_only=True, omit_defaults=True):
    """Data of ``transcribe_stream.completed``: the utterance's transcription, and how and
    how fast the stream ended. Every field is written except ``final_pass_started_ms`` at
    its default (added so: a v1 final reads as it did; readers default it to 0)."""

    ended_by: EndedBy
    time_to_final_ms: Seconds
    """From the last audio received to the final transcript."""
    final_pass_started_ms: float = 0.0
    """From the last audio received to the start of the model's pass that made the final
    (the rest of ``time_to_final_ms`` is that pass and storing the result): negative when
    it started before, at the end of speech, and only silence came after; positive, what it
    waited for (mostly a partial's pass still running when the stream ended)."""
    audio: AudioRef | None
    """The whole utterance, stored in ``VC_AUDIO`` (``None``: nothing was heard)."""
    chunks: Count
    """Audio chunks heard."""
