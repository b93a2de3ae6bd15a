"""What ``replay --rerun`` compares of an answer: its kind and data without the fields its
primitive declares volatile, dotted paths with ``*`` for each item of a list."""

from __future__ import annotations

import json
from typing import Any

import core.transcribe
import core.transcribe_stream  # noqa: F401  (registers transcribe_stream)
from orchestrator.replay import _outcome


def row(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": event_type, "data": json.dumps(data).encode()}


def test_a_stream_final_is_compared_without_its_timing_nor_its_segments_times() -> None:
    segment = {"start": 0.0, "end": 2.96, "text": "My email is", "confidence": 0.6}
    recorded = {"text": "My email is", "time_to_final_ms": 512.0, "final_pass_started_ms": -99.0,
                "real_time_factor": 0.2, "audio": {"name": "c/r/0.wav", "sha256": "ab"},
                "segments": [segment, dict(segment, start=3.0, end=4.0)]}
    rerun = dict(recorded, time_to_final_ms=480.0, final_pass_started_ms=3.0,
                 real_time_factor=0.3, audio={"name": "d/s/0.wav", "sha256": "ab"},
                 segments=[dict(segment, end=2.92), dict(segment, start=3.04, end=4.0)])
    a = _outcome(row("transcribe_stream.completed", recorded))
    b = _outcome(row("transcribe_stream.completed", rerun))
    assert a == b
    assert a is not None and a["data"]["segments"][1] == {"text": "My email is",
                                                          "confidence": 0.6}
    assert a["data"]["audio"] == {"sha256": "ab"}


def test_what_is_not_declared_volatile_still_differs() -> None:
    segment = {"start": 0.0, "end": 2.96, "text": "My email is", "confidence": 0.6}
    recorded = {"text": "My email is", "segments": [segment]}
    other_words = {"text": "My email is", "segments": [dict(segment, text="My e-mail is")]}
    assert _outcome(row("transcribe_stream.completed", recorded)) != _outcome(
        row("transcribe_stream.completed", other_words))
    batch = {"text": "x", "segments": [segment]}  # transcribe keeps its segments' times
    assert _outcome(row("transcribe.completed", batch)) != _outcome(
        row("transcribe.completed", {"text": "x", "segments": [dict(segment, end=2.92)]}))
    failed = {"code": "TIMEOUT", "segments": [segment]}  # only results drop volatile fields
    assert _outcome(row("transcribe_stream.failed", failed))["data"] == failed  # type: ignore[index]
