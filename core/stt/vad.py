"""Where speech ends, by the Silero VAD bundled with faster-whisper."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.audio import Pcm, resample

RATE = 16_000
"""Silero hears 16 kHz."""
CONTEXT_S = 1.0
"""Audio already looked at that a new look hears again: Silero starts each look afresh,
and needs a little speech before to hear where it stops. (A look at 0.1 s of new audio
costs ~3 ms; at the last 4 s, ~10 ms: a tenth of a core while audio streams.)"""
CONFIRM_S = 3.0
"""How long before the speech's end a confirming look starts (before the utterance is
ended for silence: a short fresh look now and then misses the last words)."""


def last_speech_end(pcm: Pcm, silence_s: float) -> float | None:
    """Seconds into ``pcm`` where its last speech ends (its length when it ends in speech or
    in a pause shorter than ``silence_s``); None if it holds no speech. Speech of any length
    counts: a short word after a pause is speech too."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    audio = pcm if pcm.rate == RATE else resample(pcm, RATE)
    spans = get_speech_timestamps(audio.samples, VadOptions(
        min_silence_duration_ms=max(int(silence_s * 1000), 1), speech_pad_ms=0,
        min_speech_duration_ms=0))
    if not spans:
        return None
    return min(float(spans[-1]["end"]) / RATE, pcm.duration_s)


@dataclass
class SpeechEnd:
    """The end of the speech heard so far in a growing utterance. Each :meth:`look` hears
    what arrived since the previous one (and :data:`CONTEXT_S` before it), so the cost
    stays that of a few seconds however long the utterance grows."""

    silence_s: float
    """The shortest pause that ends speech."""
    looked: int = 0
    """Samples of the utterance already looked at."""
    end_s: float | None = None
    """Where the last speech heard ends, in the utterance (None: no speech yet)."""

    def start(self, rate: int) -> int:
        """Where the next look starts hearing (in samples of the utterance)."""
        return max(0, self.looked - int(CONTEXT_S * rate))

    def look(self, tail: np.ndarray, start: int, rate: int) -> None:
        """Hear ``tail``, the utterance's samples from ``start`` (:meth:`start`) to its end."""
        found = last_speech_end(Pcm(tail, rate), self.silence_s)
        if found is not None:
            self.end_s = start / rate + found
        self.looked = start + len(tail)

    def confirming_start(self, rate: int) -> int:
        """Where a confirming look starts: :data:`CONFIRM_S` before the speech's end."""
        end = self.end_s if self.end_s is not None else 0.0
        return max(0, int((end - CONFIRM_S) * rate))

    def confirm(self, tail: np.ndarray, start: int, rate: int) -> None:
        """Hear ``tail`` (from :meth:`confirming_start` to the end) again: the speech ends
        where this longer look hears it end, if that is later."""
        found = last_speech_end(Pcm(tail, rate), self.silence_s)
        if found is not None:
            self.end_s = max(self.end_s or 0.0, start / rate + found)

    def silence_after(self, duration_s: float) -> float:
        """Seconds of non-speech at the end of ``duration_s`` of utterance (0: no speech yet,
        or it goes on)."""
        return 0.0 if self.end_s is None else max(duration_s - self.end_s, 0.0)
