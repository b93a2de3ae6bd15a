"""End of speech, by the Silero VAD bundled with faster-whisper."""

from __future__ import annotations

from core.audio import Pcm, resample

RATE = 16_000
"""Silero hears 16 kHz."""


def ended_after(pcm: Pcm, silence_s: float) -> bool:
    """Whether ``pcm`` holds speech followed by at least ``silence_s`` of non-speech."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    audio = pcm if pcm.rate == RATE else resample(pcm, RATE)
    spans = get_speech_timestamps(audio.samples, VadOptions(
        min_silence_duration_ms=int(silence_s * 1000), speech_pad_ms=0))
    if not spans:
        return False
    last_speech_end = float(spans[-1]["end"]) / RATE
    return audio.duration_s - last_speech_end >= silence_s
