"""Conversation state as a fold over its events: the one conversation model.

``fold(events)`` turns a conversation's events, in stream order, into what it
did: what was asked (each primitive request), what was captured (completed
results), what failed, and what is still pending. It is pure: no I/O, no clock,
the same events always give the same state. The orchestrator keeps a
:class:`Folder` per conversation and feeds it events as they arrive;
``voicecore replay`` feeds the same folder the events read back from the event
log (:mod:`core.eventlog.readback`), so replayed state and live state cannot disagree.

The fold takes the read-back shape (:data:`schemas.events.ReadBack`): typed events,
envelopes with raw data for types this process does not know (both fold the same way
because only the envelope and generic data are read), and
:class:`~schemas.events.NotAnEvent` for a logged entry that is not an event
(undecodable, quarantined, or a body that disagrees with its subject): it counts as an
entry of the conversation, never as a request or a result.

**The rule** (the log's ``primitive_executions`` and ``conversations`` views are built
from the definitions below by :mod:`orchestrator.views`, and
``tests/test_eventlog_views.py`` holds every column of both equal to this fold on
generated histories):

* a *request* is an event of kind :data:`REQUESTED`; its primitive is the type's source;
* its *result* is the first event of a kind in :data:`RESULT_KINDS` after it, in log
  order, whose ``causation_id`` is its id; any other result answers nothing (``unmatched``);
* the outcome is ``open`` while some request has no result, else ``failed`` when
  some primitive's latest request failed, else ``completed``; ``no requests`` when
  nothing was asked (:data:`OUTCOME_RULE`). A later request does not close an earlier
  unanswered one;
* a request's ``purpose`` and a failure's ``code`` are JSON strings; any other value
  (missing, ``null``, a number) is no purpose or code: ``""``;
* an event of type :data:`REDACTION_TYPE` is a redaction: counted, nothing else;
* an event of a source in :data:`CONVERSATION_SOURCES` (``conversation.requested``,
  ``conversation.completed``, ``objective.failed``, …) is the conversation's course
  (:mod:`orchestrator.course`, :attr:`ConversationState.course`), never a request or a
  result, whatever its kind.

**Why the redaction record is a typed event in the schemas union.** The event log writes
it (``core``, which cannot import this module) and every reader reads it back with the
conversation's other events, so its *shape* belongs where every event's shape is
(:class:`schemas.events.EventlogRedacted`, with its data in the JSON Schema); what it
*means* for a conversation is decided here only, and the log's views and replay take its
type from :data:`REDACTION_TYPE`. Injecting the type into the log from above (as the
views are) would have the orchestrator name a record it never writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from orchestrator.course import Course
from orchestrator.course_fold import CourseFolder
from orchestrator.request_records import (
    Asked,
    Captured,
    Failed,
    event_type,
    raw_data,
    read_asked,
    read_captured,
    read_failed,
)
from schemas.conversation_events import CONVERSATION_SOURCES
from schemas.events import EnvelopeOnly, Event, EventlogRedacted, NotAnEvent, ReadBack, type_of

REQUESTED = "requested"
"""The kind (``<source>.<kind>``) of a request."""
COMPLETED, FAILED = "completed", "failed"
RESULT_KINDS = (COMPLETED, FAILED)
"""The kinds of a result (captured, or failed), which are also a request's outcome."""
PENDING = "pending"
"""A request's outcome while it has no result."""
REDACTION_TYPE = type_of(EventlogRedacted)
"""The type the fold counts as a redaction of the conversation (and nothing else)."""

OUTCOME_RULE: tuple[tuple[str, str], ...] = (
    ("open", "unanswered"),  # some request has no result yet
    ("failed", "latest_failed"),  # some primitive's latest request failed
    ("completed", "asked"),  # something was asked, and none of the above
)
"""(outcome, fact) in order: the first fact that holds decides the outcome."""
NO_REQUESTS = "no requests"


def decide_outcome(facts: Mapping[str, bool]) -> str:
    return next((outcome for outcome, fact in OUTCOME_RULE if facts[fact]), NO_REQUESTS)


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
    unreadable: int
    """Entries that are not events (undecodable, quarantined, subject/body disagree)."""
    unmatched: tuple[str, ...]
    """Ids of results that answer no pending request of this conversation."""
    course: Course | None = None
    """The orchestrator's events folded (flow, objectives, prompts, turns, slots, status);
    ``None`` when the conversation has none (primitives called directly)."""

    @property
    def latest(self) -> dict[str, Captured]:
        """The last captured value per primitive (a later capture supersedes an earlier one)."""
        return {c.primitive: c for c in self.captured}

    @property
    def outcome(self) -> str:
        """``open``, ``failed``, ``completed`` or ``no requests``: see :data:`OUTCOME_RULE`."""
        last: dict[str, str] = {}
        for kind, primitive in self._results_in_order():
            last[primitive] = kind
        return decide_outcome({"unanswered": bool(self.pending),
                               "latest_failed": FAILED in last.values(),
                               "asked": bool(self.asked)})

    def _results_in_order(self) -> list[tuple[str, str]]:
        order = {a.request_id: i for i, a in enumerate(self.asked)}
        found = [(order[c.request_id], COMPLETED, c.primitive) for c in self.captured]
        found += [(order[f.request_id], FAILED, f.primitive) for f in self.failed]
        return [(kind, prim) for _, kind, prim in sorted(found, key=lambda t: t[0])]


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
        self.unreadable = 0
        self.unmatched: list[str] = []
        self.course = CourseFolder()

    def apply(self, event: ReadBack) -> None:
        if isinstance(event, NotAnEvent):
            self._entry(event.at)
            self.unreadable += 1
            return
        if event.id in self.seen:  # a redelivered duplicate changes nothing
            return
        self.seen.add(event.id)
        self._entry(event.occurred_at)
        self.conversation_id = self.conversation_id or event.conversation_id
        at = event.occurred_at
        type_ = event_type(event)
        source, _, kind = type_.rpartition(".")
        if type_ == REDACTION_TYPE:
            self.redactions += 1
        elif source in CONVERSATION_SOURCES:
            self.course.apply(self.count, type_, event.id, event.causation_id or "",
                              event.trace_id, raw_data(event), at)
        elif kind == REQUESTED:
            self._asked(event, source, at)
        elif kind in RESULT_KINDS:
            self._answered(event, kind, at)

    def _entry(self, at: dt.datetime | None) -> None:
        self.count += 1
        if at is not None:
            self.first_at = at if self.first_at is None else min(self.first_at, at)
            self.last_at = at if self.last_at is None else max(self.last_at, at)

    def _asked(self, event: Event | EnvelopeOnly, source: str, at: dt.datetime | None) -> None:
        asked = read_asked(event, source, at)
        self.asked.append(asked)
        self.pending[event.id] = asked
        self.course.requested(self.count, event.id, source, asked.purpose)

    def _answered(self, event: Event | EnvelopeOnly, kind: str, at: dt.datetime | None) -> None:
        request = self.pending.pop(event.causation_id or "", None)
        if request is None:  # answers nothing asked here (or already answered)
            self.unmatched.append(event.id)
            return
        common: dict[str, Any] = {
            "request_id": request.request_id, "result_id": event.id,
            "primitive": request.primitive, "purpose": request.purpose,
            "attempt": int(getattr(event, "attempt", 1)), "at": at}
        if kind == COMPLETED:
            captured = read_captured(event, common)
            self.captured.append(captured)
            self.course.answered(request.request_id, outcome=COMPLETED, value=captured.value,
                                 confidence=captured.confidence, readback=captured.readback,
                                 needs_confirmation=captured.needs_confirmation)
            return
        failed = read_failed(event, common)
        self.failed.append(failed)
        self.course.answered(request.request_id, outcome=FAILED, code=failed.code,
                             retryable=failed.retryable)

    def state(self) -> ConversationState:
        return ConversationState(
            conversation_id=self.conversation_id, events=self.count, first_at=self.first_at,
            last_at=self.last_at, asked=tuple(self.asked), captured=tuple(self.captured),
            failed=tuple(self.failed), pending=tuple(self.pending), redactions=self.redactions,
            unreadable=self.unreadable, unmatched=tuple(self.unmatched),
            course=self.course.state())


def fold(events: Iterable[ReadBack], conversation_id: str = "") -> ConversationState:
    """The state of one conversation after ``events`` (in stream order)."""
    folder = Folder(conversation_id)
    for event in events:
        folder.apply(event)
    return folder.state()
