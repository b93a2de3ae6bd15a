"""Audio plumbing for every speech feature: decode, encode and resample through PyAV.

Everything in between is :class:`Pcm`: mono float32 samples in [-1, 1] at one rate.
:func:`decode` reads WAV, MP3, OGG/Opus, FLAC and WebM (from bytes or a file; raw
``pcm_s16le`` when told its rate) at any asked rate, downmixing to mono; :func:`encode`
writes WAV, MP3, OGG (Opus), FLAC, WebM (Opus) and raw ``pcm_s16le``. Audio that does
not decode is :class:`~core.errors.InvalidAudio` with a one-line reason
(:mod:`core.audiocheck`), never a library traceback.

Opus takes only 8, 12, 16, 24 and 48 kHz and MP3 only its nine rates: :func:`encode`
resamples to the nearest rate the codec takes (the next one up), and
:func:`encoded_rate` says which rate a reader of the file will see (48 kHz for Opus,
whose decoders always output 48 kHz whatever rate the header says it was made from).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import av.error
import numpy as np
import numpy.typing as npt

from core.audiocheck import DEFAULT_LIMITS as DEFAULT_LIMITS
from core.audiocheck import (
    DEMUXERS,
    check_complete,
    check_duration,
    check_wav_size,
    format_name,
    read_limited,
    reason,
    unreadable,
)
from core.audiocheck import AudioLimits as AudioLimits
from core.errors import InvalidAudio, InvalidParams
from core.pcmwav import plain_wav
from core.text import one_line
from schemas.audio import SPEECH_RATES

MAX_RATE = 384_000
CHEAP_SECONDS = 10.0
"""The longest audio :func:`cheap_to_encode` says an event loop may encode itself (10 s at
22,050 Hz: ~0.5 ms here)."""
OPUS_OUTPUT_RATE = 48_000


@dataclass(frozen=True)
class Pcm:
    """Mono audio as float32 samples in [-1, 1] at ``rate`` Hz."""

    samples: npt.NDArray[np.float32]
    rate: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.rate if self.rate else 0.0


def decode(source: bytes | Path, *, rate: int | None = None,
           limits: AudioLimits = DEFAULT_LIMITS, fmt: str | None = None,
           source_rate: int | None = None) -> Pcm:
    """The audio of ``source`` as mono at ``rate`` (default: its own rate).

    The container is recognised from the bytes, except raw ``pcm_s16le`` (no header),
    which needs ``fmt="pcm_s16le"`` and its ``source_rate``. The byte limit is checked
    before decoding, the duration while decoding (it stops at the limit).
    """
    return decode_detected(source, rate=rate, limits=limits, fmt=fmt,
                           source_rate=source_rate)[0]


def decode_detected(source: bytes | Path, *, rate: int | None = None,
                    limits: AudioLimits = DEFAULT_LIMITS, fmt: str | None = None,
                    source_rate: int | None = None) -> tuple[Pcm, str]:
    """:func:`decode`'s audio, and the format the bytes are in (``wav``, ``mp3``, ``ogg``,
    ``flac``, ``webm``; ``pcm_s16le`` when told so): what a caller that was not told the
    format stores them as."""
    if rate is not None:
        _check_rate(rate)
    data = read_limited(source, limits)
    if fmt == "pcm_s16le":
        pcm = _from_s16le(data, source_rate)
        check_duration(pcm.duration_s, limits)
        return (pcm if rate is None else resample(pcm, rate)), fmt
    plain = plain_wav(data)
    if plain is not None:  # the common case, ~50x faster than FFmpeg's frames
        samples, found_rate = plain
        check_duration(len(samples) / found_rate, limits)
        pcm = Pcm(_from_int16(samples), found_rate)
        return (pcm if rate is None else resample(pcm, rate)), "wav"
    try:
        container = av.open(io.BytesIO(data), mode="r", metadata_errors="replace",
                            options={"format_whitelist": DEMUXERS})
    except av.error.FFmpegError as exc:
        raise unreadable(data, exc) from exc
    with container:
        check_wav_size(data, container)
        return _decode_stream(data, container, rate, limits), format_name(container)


def _from_s16le(data: bytes, source_rate: int | None) -> Pcm:
    if source_rate is None:
        raise InvalidParams("raw pcm_s16le audio needs its sample rate")
    low, high = SPEECH_RATES  # headerless: a rate outside speech's is a wrong rate, not audio
    if not low <= source_rate <= high:
        raise InvalidParams(f"raw pcm_s16le audio at {source_rate} Hz: its rate must be "
                            f"{low:,}-{high:,} Hz")
    if len(data) % 2:
        raise InvalidAudio("truncated pcm_s16le audio: an odd number of bytes")
    return Pcm(_from_int16(np.frombuffer(data, dtype="<i2")), source_rate)


def _from_int16(samples: npt.NDArray[np.int16]) -> npt.NDArray[np.float32]:
    """16-bit samples in [-1, 1), as FFmpeg's ``s16`` → ``flt`` gives them."""
    return samples.astype(np.float32) / np.float32(32768.0)


def _decode_stream(data: bytes, container: av.container.InputContainer, rate: int | None,
                   limits: AudioLimits) -> Pcm:
    kind = format_name(container)
    if not container.streams.audio:
        found = sorted({str(s.type) for s in container.streams}) or ["nothing"]
        raise InvalidAudio(f"not audio: the {kind} file holds {', '.join(found)}, "
                           "no audio stream")
    stream = container.streams.audio[0]
    if stream.codec_context is None or not stream.rate:
        raise InvalidAudio(f"unsupported codec in {kind} audio: no decoder for it here")
    target = rate or stream.rate
    blocks: list[npt.NDArray[np.float32]] = []
    count = 0
    try:
        for block in _mono_blocks(container, stream, target):
            blocks.append(block)
            count += len(block)
            check_duration(count / target, limits)  # stop early, not after decoding it all
    except av.error.FFmpegError as exc:
        raise InvalidAudio(f"corrupt or truncated {kind} audio ({reason(exc)})") from exc
    if not count:
        raise InvalidAudio(f"zero-length audio: the {kind} stream has no samples")
    check_complete(data, container, stream, count / target)
    return Pcm(np.concatenate(blocks), target)


def _mono_blocks(container: av.container.InputContainer, stream: av.AudioStream,
                 rate: int) -> Iterator[npt.NDArray[np.float32]]:
    """``stream`` as mono float32 blocks at ``rate``. A resampler takes one input shape:
    when the frames change it (chained Ogg, a damaged MP3 header), a new one takes over."""
    resampler: av.AudioResampler | None = None
    shape: tuple[str, str, int] | None = None
    for frame in container.decode(stream):
        now = (frame.format.name, frame.layout.name, frame.sample_rate)
        if resampler is None or now != shape:
            if resampler is not None:
                yield from _samples(resampler.resample(None))
            resampler, shape = _resampler(rate), now
        yield from _samples(resampler.resample(frame))
    if resampler is not None:
        yield from _samples(resampler.resample(None))


def _resampler(rate: int) -> av.AudioResampler:
    return av.AudioResampler(format="flt", layout="mono", rate=rate)


def _samples(frames: list[av.AudioFrame]) -> Iterator[npt.NDArray[np.float32]]:
    for frame in frames:
        yield frame.to_ndarray()[0].astype(np.float32, copy=False)


@dataclass(frozen=True)
class _Output:
    container: str
    codec: str


_OUTPUTS = {
    "wav": _Output("wav", "pcm_s16le"),
    "mp3": _Output("mp3", "libmp3lame"),
    "ogg": _Output("ogg", "libopus"),
    "flac": _Output("flac", "flac"),
    "webm": _Output("webm", "libopus"),
}
ENCODE_FORMATS = (*_OUTPUTS, "pcm_s16le")


def encode(pcm: Pcm, fmt: str, *, rate: int | None = None) -> bytes:
    """``pcm`` as a ``fmt`` file (one of :data:`ENCODE_FORMATS`) at ``rate`` (default:
    the pcm's), or at the nearest rate its codec takes (see :func:`encoded_rate`)."""
    if fmt not in ENCODE_FORMATS:
        raise InvalidParams(f"unknown audio format {one_line(fmt, 40)!r}: use "
                            f"{', '.join(ENCODE_FORMATS)}")
    if not len(pcm.samples):
        raise InvalidAudio("zero-length audio: nothing to encode")
    target = _codec_rate(fmt, rate or pcm.rate)
    # An engine's stray sample (NaN, or over full scale) must not wrap around in integers.
    clean = np.nan_to_num(np.clip(pcm.samples, -1.0, 1.0), nan=0.0).astype(np.float32)
    pcm = resample(Pcm(clean, pcm.rate), target)
    if fmt == "pcm_s16le":
        return _s16le(pcm)
    if fmt == "wav":  # a header and the samples: PyAV's muxer costs ~1 ms more a part
        return _wav_header(pcm.rate, len(pcm.samples)) + _s16le(pcm)
    output = _OUTPUTS[fmt]
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=output.container) as container:
        stream = container.add_stream(output.codec, rate=target, layout="mono")
        assert isinstance(stream, av.AudioStream)
        container.mux(stream.encode(_frame(pcm)))  # PyAV cuts it to the codec's frame size
        container.mux(stream.encode(None))
    return buffer.getvalue()


def cheap_to_encode(pcm: Pcm, fmt: str, rate: int | None = None) -> bool:
    """Whether :func:`encode` of ``pcm`` is quick enough for an event loop (well under a
    millisecond): WAV or raw samples, at most :data:`CHEAP_SECONDS`, not resampled."""
    return (fmt in ("wav", "pcm_s16le") and (rate or pcm.rate) == pcm.rate
            and pcm.duration_s <= CHEAP_SECONDS)


def _s16le(pcm: Pcm) -> bytes:
    """16-bit samples scaled as FFmpeg scales them (×32768, clipped) and as every reader here
    divides them (/32768), so 16-bit audio read and written again is the same bytes (×32767
    made each such round trip a little quieter, and a stream's worker heard other samples than
    a batch transcription of the same 16-bit audio)."""
    scaled = np.clip(np.round(pcm.samples * 32768.0), -32768.0, 32767.0)
    return scaled.astype("<i2").tobytes()


def _wav_header(rate: int, frames: int) -> bytes:
    """The 44-byte header of a mono 16-bit PCM WAV of ``frames`` samples."""
    size = frames * 2
    return (b"RIFF" + struct.pack("<I", 36 + size) + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
            + b"data" + struct.pack("<I", size))


def encoded_rate(fmt: str, rate: int) -> int:
    """The sample rate a reader of :func:`encode`'s ``fmt`` output at ``rate`` sees."""
    output = _OUTPUTS.get(fmt)
    if output is not None and output.codec == "libopus":
        return OPUS_OUTPUT_RATE
    return _codec_rate(fmt, rate)


def _codec_rate(fmt: str, rate: int) -> int:
    """``rate`` if the codec of ``fmt`` takes it, else its next rate up (or its highest)."""
    _check_rate(rate)
    output = _OUTPUTS.get(fmt)
    rates = sorted(av.Codec(output.codec, "w").audio_rates or ()) if output else []
    if not rates or rate in rates:
        return rate
    return next((r for r in rates if r >= rate), rates[-1])


def _frame(pcm: Pcm) -> av.AudioFrame:
    mono = np.ascontiguousarray(pcm.samples, dtype=np.float32).reshape(1, -1)
    frame = av.AudioFrame.from_ndarray(mono, format="flt", layout="mono")
    frame.sample_rate = pcm.rate
    frame.pts = 0
    return frame


def resample(pcm: Pcm, rate: int) -> Pcm:
    """``pcm`` at ``rate`` Hz (itself when it already is)."""
    _check_rate(rate)
    if rate == pcm.rate:
        return pcm
    if not len(pcm.samples):
        return Pcm(pcm.samples, rate)
    resampler = _resampler(rate)
    blocks = [*_samples(resampler.resample(_frame(pcm))), *_samples(resampler.resample(None))]
    return Pcm(np.concatenate(blocks) if blocks else np.zeros(0, np.float32), rate)


def concat(parts: Sequence[Pcm]) -> Pcm:
    """The parts one after another, at the first part's rate."""
    if not parts:
        raise ValueError("concat needs at least one part")
    rate = parts[0].rate
    samples = [resample(part, rate).samples for part in parts]
    return Pcm(np.concatenate(samples).astype(np.float32, copy=False), rate)


def _check_rate(rate: int) -> None:
    if not 1 <= rate <= MAX_RATE:
        raise InvalidParams(f"sample rate {rate} Hz is out of range 1..{MAX_RATE}")
