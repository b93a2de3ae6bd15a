"""What :func:`core.audio.decode` refuses, and the one-line reason it gives.

Every check here raises :class:`~core.errors.InvalidAudio`: empty input, input over the
byte limit (checked before decoding) or the duration limit (checked while decoding),
bytes that are no supported audio format, a truncated file, a stream with no samples.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import av
import av.error

from core.errors import ConfigError, InvalidAudio
from core.text import one_line

DEMUXERS = "wav,mp3,ogg,flac,matroska,webm"
"""The only containers FFmpeg may recognise (``format_whitelist``): the formats we take,
and none of its playlist or network demuxers."""
_NAMES = {"matroska,webm": "webm"}
_MAGIC = {b"RIFF": "wav", b"ID3": "mp3", b"\xff\xfb": "mp3", b"\xff\xf3": "mp3",
          b"OggS": "ogg", b"fLaC": "flac", b"\x1aE\xdf\xa3": "webm"}


@dataclass(frozen=True)
class AudioLimits:
    """The most audio one decode accepts: bytes in, seconds out."""

    max_bytes: int = 25 * 1024 * 1024
    max_duration_s: float = 600.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AudioLimits:
        """The defaults, overridden by ``$VOICECORE_AUDIO_MAX_BYTES`` and
        ``$VOICECORE_AUDIO_MAX_SECONDS`` (positive numbers)."""
        env = os.environ if environ is None else environ
        default = cls()
        return cls(max_bytes=int(_positive(env, ENV_MAX_BYTES, default.max_bytes)),
                   max_duration_s=_positive(env, ENV_MAX_SECONDS, default.max_duration_s))


ENV_MAX_BYTES = "VOICECORE_AUDIO_MAX_BYTES"
ENV_MAX_SECONDS = "VOICECORE_AUDIO_MAX_SECONDS"
DEFAULT_LIMITS = AudioLimits()


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise ConfigError(f"{name}={one_line(text, 40)!r}: use a positive number")
    return value


def read_limited(source: bytes | Path, limits: AudioLimits) -> bytes:
    """The bytes of ``source``, refused when empty or over ``limits.max_bytes`` (a file's
    size is checked before it is read)."""
    if isinstance(source, Path):
        try:
            size = source.stat().st_size
            data = source.read_bytes() if size <= limits.max_bytes else b""
        except OSError as exc:
            raise InvalidAudio(f"cannot read {source.name}: {exc.strerror or exc}") from exc
    else:
        size, data = len(source), source
    if size > limits.max_bytes:
        raise InvalidAudio(f"audio is {size:,} bytes, over the limit of "
                           f"{limits.max_bytes:,} bytes")
    if not data:
        raise InvalidAudio("empty audio: no bytes")
    return data


def format_name(container: av.container.InputContainer) -> str:
    """Our name of the container's format (``webm``, not FFmpeg's ``matroska,webm``)."""
    name = container.format.name
    return _NAMES.get(name, name)


def unreadable(data: bytes, exc: av.error.FFmpegError) -> InvalidAudio:
    """Why FFmpeg found no container: cut short (a known signature) or not audio at all."""
    kind = next((name for magic, name in _MAGIC.items() if data.startswith(magic)), None)
    if kind is None:
        return InvalidAudio("not audio in a supported format (wav, mp3, ogg, flac, webm): "
                            f"{reason(exc)}")
    return InvalidAudio(f"truncated or corrupt {kind} audio: its header does not read "
                        f"({reason(exc)})")


def reason(exc: av.error.FFmpegError) -> str:
    return one_line(str(getattr(exc, "strerror", None) or exc), 120)


def check_wav_size(data: bytes, container: av.container.InputContainer) -> None:
    """A WAV whose ``data`` chunk declares more bytes than follow was cut short (FFmpeg
    would quietly decode what is there)."""
    if container.format.name != "wav":
        return
    at = data.find(b"data", 12, 4096)
    if at < 0 or at + 8 > len(data):
        return
    declared = int.from_bytes(data[at + 4:at + 8], "little")
    present = len(data) - at - 8
    if declared not in (0, 0xFFFFFFFF) and present < declared:  # 0 / ~0: streamed, unknown
        raise InvalidAudio(f"truncated wav audio: {present:,} of the {declared:,} bytes "
                           "its data chunk declares")


def check_duration(seconds: float, limits: AudioLimits) -> None:
    if seconds > limits.max_duration_s:
        raise InvalidAudio(f"audio is longer than the limit of {limits.max_duration_s:g} s")


def check_complete(data: bytes, container: av.container.InputContainer,
                   stream: av.AudioStream, decoded_s: float) -> None:
    """A file that ends well before the duration its header declares was cut short."""
    if container.format.name == "mp3" and not _mp3_length_header(data):
        return  # FFmpeg guessed the duration from the first frames' bit rate (wrong for VBR)
    declared = _declared_duration(container, stream)
    if declared is not None and decoded_s < declared * 0.9 - 0.1:  # codec delay, padding
        raise InvalidAudio(f"truncated {format_name(container)} audio: {decoded_s:.2f} s "
                           f"of the {declared:.2f} s its header declares")


def _mp3_length_header(data: bytes) -> bool:
    """Whether the first MP3 frame (after an ID3v2 tag) is a Xing/Info/VBRI header, which
    states the stream's length."""
    start = 0
    if data.startswith(b"ID3") and len(data) >= 10:
        size = data[6:10]  # "syncsafe": 7 bits a byte
        start = 10 + (size[0] << 21 | size[1] << 14 | size[2] << 7 | size[3])
    first = data[start:start + 64]
    return b"Xing" in first or b"Info" in first or first[36:40] == b"VBRI"


def _declared_duration(container: av.container.InputContainer,
                       stream: av.AudioStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None
