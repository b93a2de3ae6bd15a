"""A request and its result as the fold records them, read from a typed event or from an
envelope with raw data alike (:mod:`orchestrator.state` holds the rule they follow).

A request's ``purpose`` and a failure's ``code`` are JSON strings; any other value
(missing, ``null``, a number) is no purpose or code: ``""``. A typed event's fields are
read where they are, without converting its data to JSON values first.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from orchestrator.json_values import as_dict, as_text
from schemas.events import EnvelopeOnly, Event
from schemas.payloads import CaptureResult, Failure


class Asked(msgspec.Struct, frozen=True, kw_only=True):
    request_id: str
    primitive: str
    params: dict[str, Any]
    purpose: str
    trace_id: str
    at: dt.datetime | None


class Captured(msgspec.Struct, frozen=True, kw_only=True):
    request_id: str
    result_id: str
    primitive: str
    purpose: str
    value: Any
    """``data.value`` for capture primitives; the whole result data otherwise."""
    confidence: float | None
    needs_confirmation: bool | None
    attempt: int
    at: dt.datetime | None
    readback: str = ""
    """A capture result's ``data.readback``; ``""`` for other results."""


class Failed(msgspec.Struct, frozen=True, kw_only=True):
    request_id: str
    result_id: str
    primitive: str
    purpose: str
    code: str
    message: str
    retryable: bool
    attempt: int
    at: dt.datetime | None


def read_asked(event: Event | EnvelopeOnly, source: str, at: dt.datetime | None) -> Asked:
    """The request ``event`` of primitive ``source``."""
    data = event.data
    if isinstance(data, msgspec.Struct):  # typed: read the fields, convert only params
        params = as_dict(msgspec.to_builtins(getattr(data, "params", None)))
        purpose = as_text(getattr(data, "purpose", ""))
    else:
        raw = _data(event)
        params, purpose = as_dict(raw.get("params")), as_text(raw.get("purpose"))
    return Asked(request_id=event.id, primitive=source, params=params, purpose=purpose,
                 trace_id=event.trace_id, at=at)


def read_captured(event: Event | EnvelopeOnly, common: dict[str, Any]) -> Captured:
    data = event.data
    if isinstance(data, CaptureResult):  # typed: no copy of the data
        return Captured(value=data.value, confidence=data.confidence,
                        needs_confirmation=data.needs_confirmation, readback=data.readback,
                        **common)
    raw = _data(event)
    return Captured(value=raw.get("value", raw), confidence=raw.get("confidence"),
                    needs_confirmation=raw.get("needs_confirmation"),
                    readback=as_text(raw.get("readback")), **common)


def read_failed(event: Event | EnvelopeOnly, common: dict[str, Any]) -> Failed:
    data = event.data
    if isinstance(data, Failure):
        return Failed(code=data.code, message=data.message, retryable=data.retryable, **common)
    raw = _data(event)
    return Failed(code=as_text(raw.get("code")), message=str(raw.get("message", "")),
                  retryable=bool(raw.get("retryable", False)), **common)


def event_type(event: Event | EnvelopeOnly) -> str:
    return event.type if isinstance(event, EnvelopeOnly) else event.event_type


def raw_data(event: Event | EnvelopeOnly) -> Any:
    """The event's data as JSON values (a raw envelope's as stored)."""
    if isinstance(event, EnvelopeOnly):
        return msgspec.json.decode(event.data)
    return msgspec.to_builtins(event.data)


def _data(event: Event | EnvelopeOnly) -> dict[str, Any]:
    raw = raw_data(event)
    return raw if isinstance(raw, dict) else {"value": raw}
