"""Conversation state as a fold over its events: the one definition live and replay share.

``fold(events)`` turns a conversation's events, in stream order, into what it
did: what was asked (each primitive request), what was captured (completed
results), what failed, and what is still pending. It is pure: no I/O, no clock,
the same events always give the same state. The orchestrator keeps a
:class:`Folder` per conversation and feeds it events as they arrive;
``voicecore replay`` feeds the same folder the events read back from the event
log, so replayed state and live state cannot disagree.

Events may be typed (:class:`schemas.events.Event`) or, for types this process
does not know, envelopes with raw data (:class:`schemas.events.EnvelopeOnly`);
both fold the same way because only the envelope and generic data are read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import msgspec

from schemas.events import EnvelopeOnly, Event
from schemas.payloads import CaptureResult, Failure

REDACTION_TYPE = "eventlog.redacted"


class Asked(msgspec.Struct, frozen=True, kw_only=True):
    request_id: str
    primitive: str
    params: dict[str, Any]
    purpose: str
    trace_id: str
    at: dt.datetime | None


class Captured(msgspec.Struct, frozen=True, kw_only=True):
    request_id: str
    primitive: str
    purpose: str
    value: Any
    """``data.value`` for capture primitives; the whole result data otherwise."""
    confidence: float | None
    needs_confirmation: bool | None
    attempt: int
    at: dt.datetime | None


class Failed(msgspec.Struct, frozen=True, kw_only=True):
    request_id: str
    primitive: str
    purpose: str
    code: str
    message: str
    retryable: bool
    attempt: int
    at: dt.datetime | None


class ConversationState(msgspec.Struct, frozen=True, kw_only=True):
    conversation_id: str
    events: int
    first_at: dt.datetime | None
    last_at: dt.datetime | None
    asked: tuple[Asked, ...]
    captured: tuple[Captured, ...]
    failed: tuple[Failed, ...]
    pending: tuple[str, ...]
    """Request ids without a result yet, in the order they were asked."""
    redactions: int

    @property
    def latest(self) -> dict[str, Captured]:
        """The last captured value per primitive (a later capture supersedes an earlier one)."""
        return {c.primitive: c for c in self.captured}

    @property
    def outcome(self) -> str:
        """``open`` (work pending), ``failed`` (a primitive's last result failed), ``completed``."""
        if self.pending:
            return "open"
        last: dict[str, str] = {}
        for kind, primitive in self._results_in_order():
            last[primitive] = kind
        if "failed" in last.values():
            return "failed"
        return "completed" if last else "no requests"

    def _results_in_order(self) -> list[tuple[str, str]]:
        order = {a.request_id: i for i, a in enumerate(self.asked)}
        found = [(order.get(c.request_id, -1), "completed", c.primitive) for c in self.captured]
        found += [(order.get(f.request_id, -1), "failed", f.primitive) for f in self.failed]
        return [(kind, prim) for _, kind, prim in sorted(found, key=lambda t: t[0])]


AnyEvent = Event | EnvelopeOnly


class Folder:
    """Incremental fold: ``apply`` each event in order, read :meth:`state` at any time."""

    def __init__(self, conversation_id: str = "") -> None:
        self.conversation_id = conversation_id
        self.count = 0
        self.first_at: dt.datetime | None = None
        self.last_at: dt.datetime | None = None
        self.asked: list[Asked] = []
        self.captured: list[Captured] = []
        self.failed: list[Failed] = []
        self.pending: dict[str, Asked] = {}
        self.seen: set[str] = set()
        self.redactions = 0

    def apply(self, event: AnyEvent) -> None:
        if event.id in self.seen:  # a redelivered duplicate changes nothing
            return
        self.seen.add(event.id)
        self.count += 1
        self.conversation_id = self.conversation_id or event.conversation_id
        at = event.occurred_at
        if at is not None:
            self.first_at = at if self.first_at is None else min(self.first_at, at)
            self.last_at = at if self.last_at is None else max(self.last_at, at)
        type_ = _type(event)
        source, _, kind = type_.rpartition(".")
        if type_ == REDACTION_TYPE:
            self.redactions += 1
        elif kind == "requested":
            self._asked(event, source, at)
        elif kind in ("completed", "failed"):
            self._answered(event, source, kind, at)

    def _asked(self, event: AnyEvent, source: str, at: dt.datetime | None) -> None:
        data = event.data
        if isinstance(data, msgspec.Struct):  # typed: read the fields, convert only params
            params = _dict(msgspec.to_builtins(getattr(data, "params", None)))
            purpose = str(getattr(data, "purpose", "") or "")
        else:
            raw = _data(event)
            params, purpose = _dict(raw.get("params")), str(raw.get("purpose") or "")
        asked = Asked(request_id=event.id, primitive=source, params=params, purpose=purpose,
                      trace_id=event.trace_id, at=at)
        self.asked.append(asked)
        self.pending[event.id] = asked

    def _answered(self, event: AnyEvent, source: str, kind: str, at: dt.datetime | None) -> None:
        request = self.pending.pop(event.causation_id or "", None)
        purpose = request.purpose if request else ""
        attempt = int(getattr(event, "attempt", 1))
        request_id = event.causation_id or ""
        data = event.data
        if kind == "completed":
            value: Any
            confidence: float | None
            confirm: bool | None
            if isinstance(data, CaptureResult):  # typed: no copy of the data
                value, confidence, confirm = (data.value, data.confidence,
                                              data.needs_confirmation)
            else:
                raw = _data(event)
                value, confidence = raw.get("value", raw), raw.get("confidence")
                confirm = raw.get("needs_confirmation")
            self.captured.append(Captured(
                request_id=request_id, primitive=source, purpose=purpose, value=value,
                confidence=confidence, needs_confirmation=confirm, attempt=attempt, at=at))
            return
        if isinstance(data, Failure):
            code, message, retryable = data.code, data.message, data.retryable
        else:
            raw = _data(event)
            code, message = str(raw.get("code", "")), str(raw.get("message", ""))
            retryable = bool(raw.get("retryable", False))
        self.failed.append(Failed(
            request_id=request_id, primitive=source, purpose=purpose, code=code,
            message=message, retryable=retryable, attempt=attempt, at=at))

    def state(self) -> ConversationState:
        return ConversationState(
            conversation_id=self.conversation_id, events=self.count, first_at=self.first_at,
            last_at=self.last_at, asked=tuple(self.asked), captured=tuple(self.captured),
            failed=tuple(self.failed), pending=tuple(self.pending), redactions=self.redactions)


def fold(events: Iterable[AnyEvent], conversation_id: str = "") -> ConversationState:
    """The state of one conversation after ``events`` (in stream order)."""
    folder = Folder(conversation_id)
    for event in events:
        folder.apply(event)
    return folder.state()


def _type(event: AnyEvent) -> str:
    return event.type if isinstance(event, EnvelopeOnly) else event.event_type


def _data(event: AnyEvent) -> dict[str, Any]:
    if isinstance(event, EnvelopeOnly):
        raw = msgspec.json.decode(event.data)
    else:
        raw = msgspec.to_builtins(event.data)
    return raw if isinstance(raw, dict) else {"value": raw}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
