"""Payloads carried in ``Event.data``: primitive parameters, results and failures.

The evolution rules of :mod:`schemas.events` apply here too: fields are only
ever added, every added field has a default, and nothing is renamed or retyped.
Unknown fields are ignored on decode so an older reader accepts a newer writer.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Generic, Literal, TypeVar

import msgspec

Language = Literal["en", "es", "fr", "de"]
"""Languages the capture primitives understand (ISO 639-1)."""

Confidence = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
Transcript = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
RegionCode = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$")]
Purpose = Annotated[str, msgspec.Meta(max_length=1000)]
TimeoutSeconds = Annotated[float, msgspec.Meta(ge=0.0, le=3600.0)]
P = TypeVar("P")


class CaptureParams(msgspec.Struct, frozen=True, kw_only=True):
    """Parameters every capture primitive takes."""

    transcript: Transcript
    language: Language = "en"


class PhoneParams(CaptureParams, frozen=True, kw_only=True):
    """``capture_phone``: numbers without a country code are read in ``default_region``."""

    default_region: RegionCode = "US"


class DateParams(CaptureParams, frozen=True, kw_only=True):
    """``capture_date``: relative dates ("tomorrow") resolve against ``reference_date``.

    ``None`` means the worker's current UTC date at execution time.
    """

    reference_date: dt.date | None = None


class CaptureResult(msgspec.Struct, frozen=True, kw_only=True):
    """What a capture primitive answers when it captured something."""

    value: str
    """Canonical value: lowercase email, E.164 phone, ``yes``/``no``, ISO date."""
    confidence: Confidence
    needs_confirmation: bool
    readback: str
    """Text fit to be spoken back to the caller, in the request's language."""


class Failure(msgspec.Struct, frozen=True, kw_only=True):
    """Why a primitive produced no result.

    Codes: ``NO_MATCH`` (nothing captured; retryable), ``INVALID_PARAMS``,
    ``TIMEOUT`` (an attempt ran out of time, or the caller's deadline had passed
    before the request was picked up), ``PRIMITIVE_FAILED``.
    """

    code: str
    message: str
    retryable: bool = False


class Request(msgspec.Struct, Generic[P], frozen=True, kw_only=True):
    """Data of every ``<primitive>.requested`` event."""

    params: P
    purpose: Purpose = ""
    """Why the orchestrator asks (free text, e.g. ``"billing email"``); for audit."""
    timeout_s: TimeoutSeconds = 0.0
    """Execution timeout for one attempt; 0 means the primitive's default."""
    deadline: Annotated[dt.datetime, msgspec.Meta(tz=True)] | msgspec.UnsetType = msgspec.UNSET
    """When the caller stops waiting (UTC). A worker that picks the request up later
    answers ``TIMEOUT`` without running it. Unset = no deadline; unset is not written,
    so requests without one keep their exact bytes (added after v1's golden files)."""


class Redaction(msgspec.Struct, frozen=True, kw_only=True):
    """Data of ``eventlog.redacted``: what the event log removed from a conversation.

    ``previous_head``/``new_head`` are the conversation chain's head before the redaction
    and after its rows were re-hashed; ``first_pos``/``last_pos`` the log positions covered.
    """

    reason: str = ""
    redacted_events: int
    fields: tuple[str, ...]
    """Where values were removed (``data.params.transcript``, ``raw``, …), never the values."""
    previous_head: str
    new_head: str
    first_pos: int
    last_pos: int
