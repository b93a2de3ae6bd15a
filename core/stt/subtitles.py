"""A transcription's segments as subtitles: SRT (``voicecore transcribe --srt``) and WebVTT
(AudioService ``ProcessAudioFile`` with ``subtitles``: ``srt`` or ``vtt``).

Both are numbered cues of ``start --> end`` and the segment's text; they differ in the
header (``WEBVTT``) and the decimal mark of the times (SRT ``00:00:01,250``, WebVTT
``00:00:01.250``).
"""

from __future__ import annotations

from collections.abc import Sequence

from core.errors import InvalidParams
from schemas.audio import Segment

FORMATS = ("srt", "vtt")


def subtitles(segments: Sequence[Segment], fmt: str) -> str:
    """``segments`` as ``fmt`` (:data:`FORMATS`); :class:`InvalidParams` for another."""
    if fmt == "srt":
        return srt(segments)
    if fmt == "vtt":
        return vtt(segments)
    raise InvalidParams(f"subtitles: {fmt[:20]!r} is not one of {', '.join(FORMATS)}")


def srt(segments: Sequence[Segment]) -> str:
    """Numbered cues, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, the text, a blank line between."""
    return "\n".join(_cues(segments, ","))


def vtt(segments: Sequence[Segment]) -> str:
    """``WEBVTT``, then the cues with ``HH:MM:SS.mmm`` times."""
    return "\n".join(["WEBVTT\n", *_cues(segments, ".")])


def _cues(segments: Sequence[Segment], mark: str) -> list[str]:
    return [f"{n}\n{_time(s.start, mark)} --> {_time(s.end, mark)}\n{s.text.strip()}\n"
            for n, s in enumerate(segments, start=1)]


def _time(seconds: float, mark: str) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{mark}{millis:03d}"
