"""A plain WAV (16-bit, mono, whole) is read without FFmpeg to the very samples FFmpeg
gives; every other WAV still goes to FFmpeg, whose errors say what is wrong."""

from __future__ import annotations

import io
import wave

import av
import numpy as np
import pytest

from core import audio
from core.audio import Pcm, decode, decode_detected, encode
from core.audiocheck import AudioLimits
from core.errors import InvalidAudio
from core.pcmwav import plain_wav


def tone(rate: int, seconds: float = 1.3) -> Pcm:
    t = np.arange(int(rate * seconds)) / rate
    noise = np.random.default_rng(7).uniform(-0.2, 0.2, len(t))
    return Pcm((0.5 * np.sin(2 * np.pi * 440 * t) + noise).astype(np.float32), rate)


def no_ffmpeg(*_: object, **__: object) -> None:
    raise AssertionError("a plain WAV went to FFmpeg")


def by_ffmpeg(monkeypatch: pytest.MonkeyPatch, data: bytes, rate: int | None) -> Pcm:
    with monkeypatch.context() as patched:
        patched.setattr(audio, "plain_wav", lambda _: None)
        return decode(data, rate=rate)


@pytest.mark.parametrize("source_rate", [8_000, 16_000, 22_050, 44_100])
@pytest.mark.parametrize("rate", [None, 16_000])
def test_a_plain_wav_decodes_to_ffmpegs_samples(monkeypatch: pytest.MonkeyPatch,
                                                source_rate: int, rate: int | None) -> None:
    data = encode(tone(source_rate), "wav")
    with monkeypatch.context() as patched:
        patched.setattr(av, "open", no_ffmpeg)
        fast, kind = decode_detected(data, rate=rate)
    slow = by_ffmpeg(monkeypatch, data, rate)
    assert kind == "wav"
    assert fast.rate == slow.rate == (rate or source_rate)
    assert fast.samples.dtype == np.float32
    np.testing.assert_array_equal(fast.samples, slow.samples)


def wav(channels: int = 1, width: int = 2, frames: int = 1024, rate: int = 8_000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(width)
        writer.setframerate(rate)
        writer.writeframes(bytes(range(256)) * (frames * channels * width // 256))
    return out.getvalue()


def test_other_wavs_are_left_to_ffmpeg() -> None:
    assert plain_wav(wav()) is not None
    assert plain_wav(wav(channels=2)) is None
    assert plain_wav(wav(width=1)) is None
    assert plain_wav(wav(width=3)) is None
    assert plain_wav(wav(frames=0)) is None
    assert plain_wav(wav()[:-10]) is None  # cut short
    streamed = bytearray(wav())
    streamed[40:44] = (0xFFFFFFFF).to_bytes(4, "little")  # data length unknown
    assert plain_wav(bytes(streamed)) is None
    assert plain_wav(b"RIFF\x00\x00\x00\x00WAVEjunk") is None
    assert plain_wav(encode(tone(16_000), "flac")) is None


def test_a_plain_wav_keeps_the_limits_and_ffmpeg_still_names_what_is_wrong() -> None:
    with pytest.raises(InvalidAudio, match=r"^audio is longer than the limit of 1 s$"):
        decode(wav(frames=8_800), limits=AudioLimits(max_duration_s=1.0))
    with pytest.raises(InvalidAudio, match=r"^truncated wav audio: 2,038 of the 2,048 bytes"):
        decode(wav()[:-10])
    with pytest.raises(InvalidAudio, match="zero-length"):
        decode(wav(frames=0))
    assert decode(wav(channels=2)).rate == 8_000  # stereo: FFmpeg downmixes it
