"""core/audio.py: every format round-trips through PyAV; bad audio is a one-line InvalidAudio."""

from __future__ import annotations

import io
import random
import struct
import wave
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest

from core.audio import (
    DEFAULT_LIMITS,
    ENCODE_FORMATS,
    AudioLimits,
    Pcm,
    concat,
    decode,
    encode,
    encoded_rate,
    resample,
)
from core.errors import ConfigError, InvalidAudio, InvalidParams

TONE_HZ = 440.0


def tone(seconds: float = 1.0, rate: int = 22050, hz: float = TONE_HZ) -> Pcm:
    t = np.arange(int(seconds * rate)) / rate
    return Pcm((0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32), rate)


def peaks(pcm: Pcm, count: int = 1) -> list[float]:
    """The ``count`` strongest frequencies of ``pcm``, in Hz (1 Hz resolution at 1 s)."""
    spectrum = np.abs(np.fft.rfft(pcm.samples))
    strongest = np.argsort(spectrum)[::-1]
    found: list[float] = []
    for index in strongest:
        hz = float(index * pcm.rate / len(pcm.samples))
        if all(abs(hz - other) > 20 for other in found):
            found.append(hz)
        if len(found) == count:
            break
    return sorted(found)


def decode_any(data: bytes, fmt: str, rate: int | None = None, source_rate: int = 0,
               limits: AudioLimits = DEFAULT_LIMITS) -> Pcm:
    """Decode ``data`` (raw ``pcm_s16le`` needs its rate; the others say theirs)."""
    if fmt == "pcm_s16le":
        return decode(data, rate=rate, fmt=fmt, source_rate=source_rate, limits=limits)
    return decode(data, rate=rate, limits=limits)


def mux(container: str, codec: str, channels: npt.NDArray[np.float32], rate: int) -> bytes:
    """A file written with PyAV directly (not through core.audio): one or two channels."""
    layout = "stereo" if len(channels) == 2 else "mono"
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        assert isinstance(stream, av.AudioStream)
        planar = av.AudioFrame.from_ndarray(np.ascontiguousarray(channels), format="fltp",
                                            layout=layout)
        planar.sample_rate = rate
        planar.pts = 0
        out.mux(stream.encode(planar))
        out.mux(stream.encode(None))
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ENCODE_FORMATS)
@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100])
def test_every_format_round_trips_at_the_asked_rate(fmt: str, rate: int) -> None:
    data = encode(tone(), fmt, rate=rate)
    native = decode_any(data, fmt, source_rate=rate)
    assert native.rate == encoded_rate(fmt, rate)
    for asked in (16000, 24000):
        back = decode_any(data, fmt, rate=asked, source_rate=rate)
        assert back.rate == asked
        assert back.samples.dtype == np.float32
        assert back.duration_s == pytest.approx(1.0, abs=0.05)
        assert peaks(back) == [pytest.approx(TONE_HZ, abs=3)]


def test_opus_is_made_at_a_rate_it_takes_and_read_back_at_48k() -> None:
    assert encoded_rate("ogg", 22050) == 48000 == encoded_rate("webm", 8000)
    assert encoded_rate("mp3", 22050) == 22050
    assert encoded_rate("mp3", 23000) == 24000  # the next MP3 rate up
    assert encoded_rate("flac", 23000) == 23000
    ogg = av.open(io.BytesIO(encode(tone(), "ogg", rate=22050)))
    assert ogg.streams.audio[0].rate == 48000


@pytest.mark.parametrize(("container", "codec"), [("webm", "libopus"), ("wav", "pcm_s16le"),
                                                  ("flac", "flac"), ("mp3", "libmp3lame"),
                                                  ("ogg", "libopus")])
def test_stereo_input_is_downmixed_to_mono(container: str, codec: str) -> None:
    rate = 48000
    left, right = tone(rate=rate, hz=440).samples, tone(rate=rate, hz=660).samples
    data = mux(container, codec, np.stack([left, right]), rate)
    pcm = decode(data, rate=16000)
    assert pcm.rate == 16000
    assert pcm.samples.ndim == 1
    assert pcm.duration_s == pytest.approx(1.0, abs=0.05)
    assert peaks(pcm, 2) == [pytest.approx(440, abs=3), pytest.approx(660, abs=3)]


def test_webm_made_by_pyav_decodes_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "in.webm"
    path.write_bytes(mux("webm", "libopus", tone(rate=48000).samples.reshape(1, -1), 48000))
    pcm = decode(path, rate=16000)
    assert pcm.duration_s == pytest.approx(1.0, abs=0.05)
    assert peaks(pcm) == [pytest.approx(TONE_HZ, abs=3)]


def test_resample_keeps_duration_and_pitch() -> None:
    pcm = resample(tone(rate=22050), 16000)
    assert pcm.rate == 16000
    assert len(pcm.samples) == pytest.approx(16000, abs=32)
    assert peaks(pcm) == [pytest.approx(TONE_HZ, abs=3)]
    same = tone()
    assert resample(same, same.rate) is same


def test_concat_joins_parts_at_the_first_rate() -> None:
    joined = concat([tone(0.5, 16000), tone(0.5, 22050)])
    assert joined.rate == 16000
    assert joined.duration_s == pytest.approx(1.0, abs=0.01)
    with pytest.raises(ValueError, match="at least one part"):
        concat([])


def test_pcm_s16le_is_raw_little_endian() -> None:
    pcm = Pcm(np.array([0.0, 1.0, -1.0, 0.5], dtype=np.float32), 8000)
    assert encode(pcm, "pcm_s16le") == struct.pack("<4h", 0, 32767, -32768, 16384)


@pytest.mark.parametrize("fmt", ["wav", "pcm_s16le"])
def test_16_bit_audio_read_and_written_again_is_the_same_bytes(fmt: str) -> None:
    """Every 16-bit value survives decode → encode (a stream's chunks and a batch pass over
    the same 16-bit audio hear the same samples)."""
    values = np.arange(-32768, 32768, dtype="<i2")
    raw = values.tobytes()
    pcm = decode(raw, fmt="pcm_s16le", source_rate=8000)
    assert encode(pcm, "pcm_s16le") == raw
    again = encode(decode(encode(pcm, fmt), fmt=fmt if fmt != "wav" else None,
                          source_rate=8000), fmt)
    assert again == encode(pcm, fmt)


@pytest.mark.parametrize("fmt", ["wav", "flac", "pcm_s16le"])
def test_out_of_range_samples_are_clipped_not_wrapped(fmt: str) -> None:
    pcm = Pcm(np.array([0.0, 2.0, -3.0, np.nan, np.inf, 0.5] * 100, dtype=np.float32), 8000)
    back = decode_any(encode(pcm, fmt), fmt, source_rate=8000).samples[:6]
    assert back.tolist() == pytest.approx([0.0, 1.0, -1.0, 0.0, 1.0, 0.5], abs=1e-3)


def _wav_with_format_tag(tag: int) -> bytes:
    data = encode(tone(), "wav")
    at = data.index(b"fmt ") + 8
    return data[:at] + struct.pack("<H", tag) + data[at + 2:]


def _silent_wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
    return buffer.getvalue()


def _video_only() -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="matroska") as out:
        stream = out.add_stream("mjpeg", rate=5)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 16, 16, "yuvj420p"
        frame = av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8), format="rgb24")
        frame.pts = 0
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return buffer.getvalue()


BAD: dict[str, tuple[Callable[[], bytes], str]] = {
    "empty": (lambda: b"", "empty audio: no bytes"),
    "text": (lambda: b"hello, this is not audio at all\n" * 4,
             "not audio in a supported format (wav, mp3, ogg, flac, webm)"),
    "video": (_video_only, "not audio: the webm file holds video, no audio stream"),
    "codec": (lambda: _wav_with_format_tag(0x7777),
              "unsupported codec in wav audio: no decoder for it here"),
    "wav cut": (lambda: encode(tone(), "wav")[:20000],
                "truncated wav audio: 19,956 of the 44,100 bytes its data chunk declares"),
    "wav header cut": (lambda: encode(tone(), "wav")[:30],
                       "truncated or corrupt wav audio: its header does not read"),
    "mp3 cut": (lambda: encode(tone(2.0), "mp3")[:4000], "truncated mp3 audio: "),
    "ogg cut": (lambda: encode(tone(), "ogg")[:2000], "truncated or corrupt ogg audio"),
    "flac cut": (lambda: encode(tone(), "flac")[:2000], "truncated or corrupt flac audio"),
    "webm cut": (lambda: encode(tone(2.0), "webm")[:3000], "truncated webm audio: "),
    "zero-length": (_silent_wav, "zero-length audio: the wav stream has no samples"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_audio_is_invalid_audio_with_a_one_line_reason(case: str) -> None:
    make, message = BAD[case]
    with pytest.raises(InvalidAudio) as raised:
        decode(make())
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)
    assert raised.value.code == "INVALID_AUDIO"


def test_a_vbr_mp3_without_a_length_header_is_not_called_truncated() -> None:
    """FFmpeg estimates such a file's duration from its first frames' bit rate: quiet first
    frames make it far too long. Only a Xing/Info/VBRI header's length is trusted."""
    rate = 22050
    noise = np.random.default_rng(0).uniform(-0.8, 0.8, rate * 3)
    signal = np.concatenate([np.zeros(rate * 3), noise, np.zeros(rate * 6)]).astype(np.float32)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp3", options={"write_xing": "0"}) as out:
        stream = out.add_stream("libmp3lame", rate=rate, layout="mono")
        assert isinstance(stream, av.AudioStream)
        stream.codec_context.qscale = True  # variable bit rate
        out.mux(stream.encode(_frame_of(Pcm(signal, rate))))
        out.mux(stream.encode(None))
    assert decode(buffer.getvalue()).duration_s == pytest.approx(12.0, abs=0.1)


def _frame_of(pcm: Pcm) -> av.AudioFrame:
    frame = av.AudioFrame.from_ndarray(pcm.samples.reshape(1, -1), format="flt", layout="mono")
    frame.sample_rate = pcm.rate
    frame.pts = 0
    return frame


def test_raw_pcm_needs_its_rate_and_whole_samples() -> None:
    with pytest.raises(InvalidAudio, match=r"^truncated pcm_s16le audio: an odd number"):
        decode(b"\x00\x01\x02", fmt="pcm_s16le", source_rate=8000)
    with pytest.raises(InvalidParams, match="needs its sample rate"):
        decode(b"\x00\x01", fmt="pcm_s16le")
    for rate in (1, 7_999, 48_001):  # headerless: a rate that is not speech's is a wrong one
        with pytest.raises(InvalidParams, match=f"^raw pcm_s16le audio at {rate} Hz: its rate"):
            decode(b"\x00\x01", fmt="pcm_s16le", source_rate=rate)
    assert decode(b"\x00\x01", fmt="pcm_s16le", source_rate=48_000).rate == 48_000


def test_the_byte_limit_is_checked_before_decoding(tmp_path: Path) -> None:
    data = encode(tone(), "wav")
    limits = AudioLimits(max_bytes=len(data) - 1)
    message = f"^audio is {len(data):,} bytes, over the limit of {len(data) - 1:,} bytes$"
    with pytest.raises(InvalidAudio, match=message):
        decode(data, limits=limits)
    path = tmp_path / "big.wav"
    path.write_bytes(data)
    with pytest.raises(InvalidAudio, match=message):
        decode(path, limits=limits)
    assert decode(path, limits=AudioLimits(max_bytes=len(data))).duration_s > 0


@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "pcm_s16le"])
def test_the_duration_limit(fmt: str) -> None:
    data = encode(tone(3.0, 16000), fmt)
    with pytest.raises(InvalidAudio, match=r"^audio is longer than the limit of 2\.5 s$"):
        decode_any(data, fmt, source_rate=16000, limits=AudioLimits(max_duration_s=2.5))
    longer = AudioLimits(max_duration_s=3.1)
    assert decode_any(data, fmt, source_rate=16000, limits=longer).duration_s > 2.9


def test_a_missing_file_is_invalid_audio(tmp_path: Path) -> None:
    with pytest.raises(InvalidAudio, match=r"^cannot read nothing\.wav: No such file"):
        decode(tmp_path / "nothing.wav")


def test_limits_have_defaults_and_come_from_the_environment() -> None:
    assert AudioLimits(max_bytes=25 * 1024 * 1024, max_duration_s=600.0) == DEFAULT_LIMITS
    assert AudioLimits.from_env({}) == DEFAULT_LIMITS
    env = {"VOICECORE_AUDIO_MAX_BYTES": "1000", "VOICECORE_AUDIO_MAX_SECONDS": "2.5"}
    assert AudioLimits.from_env(env) == AudioLimits(max_bytes=1000, max_duration_s=2.5)
    for bad in ("0", "-1", "lots", "inf"):
        with pytest.raises(ConfigError, match=r"VOICECORE_AUDIO_MAX_SECONDS=.*positive"):
            AudioLimits.from_env({"VOICECORE_AUDIO_MAX_SECONDS": bad})


def test_encode_refuses_what_it_cannot_write() -> None:
    with pytest.raises(InvalidParams, match=r"^unknown audio format 'aiff': use wav, mp3"):
        encode(tone(), "aiff")
    with pytest.raises(InvalidAudio, match=r"^zero-length audio: nothing to encode$"):
        encode(Pcm(np.zeros(0, np.float32), 8000), "wav")
    with pytest.raises(InvalidParams, match=r"^sample rate -5 Hz is out of range"):
        encode(tone(), "wav", rate=-5)


def _damaged(data: bytes, rng: random.Random) -> bytes:
    """``data`` with bytes overwritten, cut short, or with junk inserted."""
    damaged = bytearray(data)
    how = rng.randrange(3)
    if how == 0:
        for _ in range(rng.randrange(1, 20)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
    elif how == 1:
        del damaged[rng.randrange(len(damaged)):]
    else:
        at = rng.randrange(len(damaged))
        damaged[at:at] = rng.randbytes(rng.randrange(1, 50))
    return bytes(damaged)


@pytest.mark.parametrize("fmt", ["wav", "mp3", "ogg", "flac", "webm"])
def test_damaged_files_decode_or_are_invalid_audio_never_another_error(fmt: str) -> None:
    """Seeded damage (the same cases every run): metadata that is not UTF-8, MP3 frames
    whose header changes the rate mid-stream, … decode, or are one-line InvalidAudio."""
    rng = random.Random(f"damaged-{fmt}")
    data = encode(tone(0.5, 8000), fmt)
    reasons, decoded = [], []
    for _ in range(400):
        try:
            decoded.append(decode(_damaged(data, rng), rate=16000))
        except InvalidAudio as exc:
            reasons.append(str(exc))
    assert reasons and not [r for r in reasons if "\n" in r]
    assert all(pcm.rate == 16000 and pcm.samples.dtype == np.float32 for pcm in decoded)
