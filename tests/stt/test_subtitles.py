"""A transcription's segments as SRT and WebVTT (core/stt/subtitles.py)."""

from __future__ import annotations

import pytest

from core.errors import InvalidParams
from core.stt.subtitles import srt, subtitles, vtt
from schemas.audio import Segment

SEGMENTS = (Segment(start=0.0, end=1.25, text=" My email is", confidence=0.9),
            Segment(start=1.25, end=3723.5004, text=" john dot smith.", confidence=0.8))


def test_srt_numbers_its_cues_with_comma_times() -> None:
    assert srt(SEGMENTS) == ("1\n00:00:00,000 --> 00:00:01,250\nMy email is\n\n"
                             "2\n00:00:01,250 --> 01:02:03,500\njohn dot smith.\n")


def test_vtt_has_its_header_and_dot_times() -> None:
    assert vtt(SEGMENTS) == ("WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.250\nMy email is\n\n"
                             "2\n00:00:01.250 --> 01:02:03.500\njohn dot smith.\n")
    assert subtitles(SEGMENTS, "vtt") == vtt(SEGMENTS) and subtitles((), "srt") == ""


def test_another_format_is_invalid() -> None:
    with pytest.raises(InvalidParams, match="subtitles: 'ass'"):
        subtitles(SEGMENTS, "ass")
