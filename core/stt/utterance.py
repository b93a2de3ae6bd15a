"""The state of one streamed utterance while :mod:`core.transcribe_stream` hears it: the
audio so far, how the stream ended, the local agreement, the end of speech, and the
final's pass started early (at the end of speech); and the final made from it."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import msgspec
import numpy as np

from core.audio import Pcm
from core.audioin import AudioPiece
from core.errors import InvalidAudio
from core.stt.agreement import LocalAgreement, text_of
from core.stt.vad import SpeechEnd
from schemas.audio import (
    AudioRef,
    EndedBy,
    StreamTranscription,
    TranscribeStreamParams,
    Transcription,
)

EARLY_SILENCE_S = 0.1
"""Silence after speech that starts the final's pass before the stream ends. Short: the
pass is wasted (and the model busy for it) when speech resumes, but a stream often ends
a tenth or two of a second after its last word."""
MAX_UTTERANCE_S = 600.0
TRIM_S = 15.0
"""A buffer longer than this is cut at a committed segment end (whisper_streaming's)."""


@dataclass
class Utterance:
    """The audio heard so far, and how the stream ended (set by the receiving task)."""

    rate: int
    parts: list[np.ndarray] = field(default_factory=list)
    samples: int = 0
    chunks: int = 0
    ended_by: EndedBy | None = None
    failure: BaseException | None = None
    last_audio: float = field(default_factory=time.monotonic)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    nudged: bool = False

    def add(self, piece: AudioPiece) -> None:
        if len(piece.data) % 2:
            raise InvalidAudio(f"audio chunk {piece.sequence}: an odd number of bytes "
                               "(pcm_s16le has two per sample)")
        samples = np.frombuffer(piece.data, dtype="<i2").astype(np.float32) / 32768.0
        self.parts.append(samples)
        self.samples += len(samples)
        self.chunks += 1
        self.last_audio = time.monotonic()
        if self.samples > MAX_UTTERANCE_S * self.rate:
            raise InvalidAudio(f"stream longer than {MAX_UTTERANCE_S:g} s")
        self.changed.set()

    def over(self) -> bool:
        """The stream ended or failed: no partial is wanted any more (read on the model's
        thread: a partial's pass stops at its next stage, :mod:`core.stt.abandon`)."""
        return self.ended_by is not None or self.failure is not None

    def end(self, why: EndedBy) -> None:
        if self.ended_by is None:
            self.ended_by = why
        self.changed.set()

    def pcm(self, start_s: float = 0.0) -> Pcm:
        if len(self.parts) > 1:
            self.parts = [np.concatenate(self.parts)]
        whole = self.parts[0] if self.parts else np.zeros(0, dtype=np.float32)
        return Pcm(whole[int(start_s * self.rate):], self.rate)

    def since(self, start: int) -> np.ndarray:
        """The samples from ``start`` on, copying only those (the VAD looks at every
        chunk: joining the whole utterance each time would cost its square)."""
        picked, first = [], self.samples
        for part in reversed(self.parts):
            if first <= start:
                break
            picked.append(part)
            first -= len(part)
        if not picked:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate([picked[-1][start - first:], *reversed(picked[:-1])])

    def nudge(self) -> None:
        """Wake the one waiting in :meth:`grown` (an early pass is done)."""
        self.nudged = True
        self.changed.set()

    async def grown(self, since: int, step: int) -> None:
        """Until ``step`` samples more than ``since`` were heard, the stream ended (or
        failed), or a nudge."""
        while (self.ended_by is None and self.failure is None and not self.nudged
               and self.samples - since < step):
            self.changed.clear()
            await self.changed.wait()
        self.nudged = False


@dataclass(frozen=True)
class Pass:
    """One pass of the model over the buffer from ``offset_s``, and when it started."""

    found: Transcription
    offset_s: float
    started: float
    """``time.monotonic()`` when the model started on it."""


@dataclass
class EarlyPass:
    """The final's pass, started at the end of speech over the buffer up to ``covers_s``."""

    covers_s: float
    task: asyncio.Task[Pass]
    shown: bool = False
    """Its hypothesis was published as a partial."""


@dataclass
class Hearing:
    """The streaming transcription of one utterance."""

    params: TranscribeStreamParams
    utterance: Utterance
    agreement: LocalAgreement = field(default_factory=LocalAgreement)
    offset_s: float = 0.0
    """Where the buffer starts in the utterance (after a trim)."""
    speech: SpeechEnd = field(default_factory=lambda: SpeechEnd(EARLY_SILENCE_S))
    early: EarlyPass | None = None
    """The final's pass started at the end of speech, while no speech came after it."""
    passes: set[asyncio.Task[Pass]] = field(default_factory=set)
    """Early passes not finished (a dropped one runs on: README, *Streaming speech to text*)."""

    @property
    def timed_words(self) -> bool:
        """The final carries word times (asked for in the params; off by default)."""
        return self.params.word_timestamps is True

    def drop_early(self) -> None:
        self.early = None

    async def settle(self) -> None:
        """Leave no early pass behind (one still running finishes in its thread)."""
        for task in self.passes:
            task.cancel()
        await asyncio.gather(*self.passes, return_exceptions=True)

    def trim(self, found: Transcription) -> None:
        """Cut a long buffer at the end of its last segment whose words are all committed
        (their text stays in the committed words; the next pass hears what follows)."""
        buffer_s = self.utterance.samples / self.utterance.rate - self.offset_s
        if buffer_s <= TRIM_S:
            return
        committed_end = self.agreement.committed_end
        ends = [s.end + self.offset_s for s in found.segments
                if s.end + self.offset_s <= committed_end]
        if ends:
            self.offset_s = max(ends[-1], self.offset_s)

    def final(self, done: Pass, whole: Pcm, audio: AudioRef | None) -> StreamTranscription:
        """The stream's result from the final's pass ``done``: the words committed before
        the buffer it heard, then its text, its segments and words on the utterance's time
        (the buffer may have been trimmed), and how and how fast the stream ended."""
        utterance = self.utterance
        found, offset_s = done.found, done.offset_s
        before = [w for w in self.agreement.committed if w.end <= offset_s]
        text = " ".join(t for t in (text_of(before), found.text) if t)
        timed = self.timed_words  # an early pass has them regardless
        segments = tuple(msgspec.structs.replace(
            s, start=s.start + offset_s, end=s.end + offset_s,
            words=tuple(msgspec.structs.replace(w, start=w.start + offset_s,
                                                end=w.end + offset_s)
                        for w in s.words if timed)) for s in found.segments)
        fields = msgspec.structs.asdict(found)
        fields.update(text=text, segments=segments, duration_s=whole.duration_s,
                      usage=msgspec.structs.replace(found.usage,
                                                    audio_seconds=whole.duration_s))
        return StreamTranscription(
            **fields, ended_by=utterance.ended_by or "end_of_stream",
            time_to_final_ms=(time.monotonic() - utterance.last_audio) * 1000,
            final_pass_started_ms=(done.started - utterance.last_audio) * 1000,
            audio=audio, chunks=utterance.chunks)
