"""Argument checks and result building shared by the capture primitives.

Rules
-----
* ``needs_confirmation`` is true exactly when ``confidence < CONFIRM_BELOW`` (0.85). Each
  primitive documents how its confidence is derived; anything the parser had to guess
  (spelled letters, a guessed year or country code, a self-correction, an only-"possible"
  phone number, conflicting yes/no signals) lands below the threshold, so the agent reads
  it back before relying on it.
* Invalid *arguments* raise ``ValueError`` with a one-line message. Transcript *content*
  never raises: whatever the text, a primitive returns a result or ``None``.
"""

from __future__ import annotations

from typing import get_args

from schemas.payloads import CaptureResult, Language

CONFIRM_BELOW = 0.85
LANGUAGES: tuple[Language, ...] = get_args(Language)


def check_language(language: object) -> Language:
    """Return ``language`` if it is one of the supported codes, else raise ``ValueError``."""
    for code in LANGUAGES:
        if language == code:
            return code
    raise ValueError(f"unsupported language {language!r}: expected one of {', '.join(LANGUAGES)}")


def check_transcript(transcript: object) -> str:
    """Return ``transcript`` if it is a ``str``, else raise ``ValueError``."""
    if not isinstance(transcript, str):
        raise ValueError(f"transcript must be a str, not {type(transcript).__name__}")
    return transcript


def build_result(value: str, confidence: float, readback: str) -> CaptureResult:
    """A ``CaptureResult`` whose ``needs_confirmation`` follows the shared rule."""
    score = round(min(1.0, max(0.0, confidence)), 2)
    return CaptureResult(
        value=value,
        confidence=score,
        needs_confirmation=score < CONFIRM_BELOW,
        readback=readback,
    )
