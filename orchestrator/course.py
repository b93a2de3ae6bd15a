"""A conversation's course: the part of the one fold (:mod:`orchestrator.state`) that reads
the orchestrator's own events (``conversation.*``, ``objective.*``, ``prompt.spoken``,
``turn.received``) and the primitive calls made for an objective.

:class:`~orchestrator.state.Folder` feeds this module every event of
:data:`CONVERSATION_SOURCES` and every primitive request and result it paired; nothing
else calls it, so live state (the driver) and replayed state (``voicecore replay``) are
the same fold. :class:`Course` is what the driver needs to continue after a crash and what
replay shows: the flow, each objective's status, prompts, turns, primitive calls and
confirmation, the slots, the conversation's status and its current objective.

**Which primitive call belongs to which objective: the request's ``purpose``.** The
bridge publishes a request with the caller's ``purpose`` (its causation is not the
caller's to set), so the driver calls with :func:`purpose_for` (``objective:email``,
``objective:email:confirm``, ``objective:email:transcribe``, ``objective:email:speak``)
and the fold reads it back with :func:`parse_purpose`. A call answers the objective's
latest turn received before it (``turn_id``). A request with another purpose is a
primitive call of the conversation (``ConversationState.asked``), of no objective.

**Confirmation** is in progress from a ``confirm`` prompt until the objective's next
``ask``/``reprompt`` prompt or its end; it confirms the value of the objective's latest
completed ``capture`` call before that prompt.

Data is read by field with defaults (typed events and raw envelopes alike), so an event
whose personal values were redacted (``"[redacted]"`` where an object was) still folds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Literal

import msgspec

from schemas import conversation_events as ev
from schemas.envelope import type_of

Role = Literal["capture", "confirm", "transcribe", "speak"]
ROLES: tuple[Role, ...] = ("capture", "confirm", "transcribe", "speak")
"""``capture``: the objective's own primitive reading a turn; ``confirm``: the yes/no after
a read-back; ``transcribe``: a spoken turn to text; ``speak``: a prompt synthesized."""
PURPOSE_PREFIX = "objective:"
ObjectiveStatus = Literal["pending", "active", "completed", "failed"]
ConversationStatus = Literal["requested", "active", "completed", "abandoned"]
_RANK = {"requested": 0, "active": 1, "completed": 2, "abandoned": 2}


def purpose_for(objective: str, role: Role = "capture") -> str:
    """The ``purpose`` of a primitive request made for ``objective`` in ``role``."""
    return PURPOSE_PREFIX + objective + ("" if role == "capture" else f":{role}")


def parse_purpose(purpose: str) -> tuple[str, Role] | None:
    """(objective, role) of a purpose :func:`purpose_for` made, else ``None``."""
    if not purpose.startswith(PURPOSE_PREFIX):
        return None
    objective, _, role = purpose[len(PURPOSE_PREFIX):].partition(":")
    role = role or "capture"
    if not objective or role not in ROLES:
        return None
    return objective, role


class PromptSpoken(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    entry: int
    """The event's position among the conversation's entries (1-based): prompts, turns and
    calls of an objective in one order (:mod:`orchestrator.timeline`)."""
    kind: str
    attempt: int
    text: str
    audio: bool
    at: dt.datetime | None


class TurnReceived(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    entry: int
    prompt_id: str
    """The ``prompt.spoken`` it answers (its ``causation_id``); ``""`` when it names none."""
    text: str
    audio: bool
    at: dt.datetime | None


class Call(msgspec.Struct, frozen=True, kw_only=True):
    """A primitive request made for an objective, and its result once there is one."""

    request_id: str
    entry: int
    """The request's position among the conversation's entries."""
    primitive: str
    role: Role
    turn_id: str
    """The objective's latest turn before the request (``""``: none)."""
    outcome: str = "pending"
    """``pending``, ``completed`` or ``failed`` (the request/result pairing of the fold)."""
    value: Any = None
    """``data.value`` of a capture result; the whole result data otherwise."""
    confidence: float | None = None
    needs_confirmation: bool | None = None
    code: str = ""
    retryable: bool = False


class Confirming(msgspec.Struct, frozen=True, kw_only=True):
    value: Any
    request_id: str
    """The capture call whose value is being confirmed (``""``: none completed before)."""
    prompt_id: str


class ObjectiveCourse(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    status: ObjectiveStatus = "pending"
    primitive: str = ""
    slot: str = ""
    attempts: int = 0
    """The highest attempt an ``ask``/``reprompt`` prompt opened; the end event's count."""
    prompts: tuple[PromptSpoken, ...] = ()
    turns: tuple[TurnReceived, ...] = ()
    calls: tuple[Call, ...] = ()
    confirming: Confirming | None = None
    value: Any = None
    """The completed objective's value (``objective.completed``)."""
    confidence: float | None = None
    confirmed: bool = False
    failure_code: str = ""
    failure_reason: str = ""

    @property
    def last_prompt(self) -> PromptSpoken | None:
        return self.prompts[-1] if self.prompts else None

    @property
    def unhandled_turn(self) -> TurnReceived | None:
        """The latest turn when no call was made for it yet (what a restarted driver reads)."""
        if not self.turns or any(c.turn_id == self.turns[-1].id for c in self.calls):
            return None
        return self.turns[-1]


class Course(msgspec.Struct, frozen=True, kw_only=True):
    status: ConversationStatus
    flow_name: str = ""
    flow_version: str = ""
    flow_document: str = ""
    language: str = "en"
    voice: str = ""
    speak: bool = False
    objectives: dict[str, ObjectiveCourse] = {}
    """In the flow's order (``conversation.started``), then any other in order of appearance."""
    current: str = ""
    """The objective started last and not ended; ``""`` between objectives and after the end."""
    slots: dict[str, Any] = {}
    failed: tuple[str, ...] = ()
    end_code: str = ""
    end_reason: str = ""
    stray_turns: tuple[TurnReceived, ...] = ()
    """Turns naming no prompt of this conversation while no objective was current."""
    malformed: int = 0
    """Events of these sources whose data is not an object (nothing read from them)."""


class CourseFolder:
    """The incremental half of the fold for a conversation's course (see the module doc)."""

    def __init__(self) -> None:
        self.course: Course | None = None
        self.objectives: dict[str, ObjectiveCourse] = {}
        self.prompt_objective: dict[str, str] = {}
        self.call_objective: dict[str, str] = {}
        self.entry = 0

    def apply(self, entry: int, type_: str, event_id: str, causation_id: str, data: Any,
              at: dt.datetime | None) -> None:
        """Fold the orchestrator's event, the conversation's ``entry``-th."""
        self.entry = entry
        course = self.course or Course(status="requested")
        if not isinstance(data, dict):
            self.course = msgspec.structs.replace(course, malformed=course.malformed + 1)
            return
        self.course = course
        handler = _HANDLERS.get(type_)
        if handler is not None:
            handler(self, data, event_id, causation_id, at)

    def state(self) -> Course | None:
        if self.course is None:
            return None
        return msgspec.structs.replace(self.course, objectives=dict(self.objectives))

    # --- primitive calls (from the fold's request/result pairing) -----------------

    def requested(self, entry: int, request_id: str, primitive: str, purpose: str) -> None:
        found = parse_purpose(purpose)
        if found is None or self.course is None:
            return
        objective, role = found
        record = self._objective(objective)
        turn = record.turns[-1].id if record.turns else ""
        call = Call(request_id=request_id, entry=entry, primitive=primitive, role=role,
                    turn_id=turn)
        self.call_objective[request_id] = objective
        self._put(record, calls=(*record.calls, call))

    def answered(self, request_id: str, **result: Any) -> None:
        objective = self.call_objective.get(request_id)
        if objective is None:
            return
        record = self.objectives[objective]
        calls = tuple(msgspec.structs.replace(c, **result) if c.request_id == request_id else c
                      for c in record.calls)
        self._put(record, calls=calls)

    # --- the orchestrator's events --------------------------------------------------

    def _requested(self, data: dict[str, Any], *_: Any) -> None:
        flow = _dict(data.get("flow"))
        self._course(flow_name=_text(flow.get("name")), flow_version=_text(flow.get("version")),
                     flow_document=_text(flow.get("document")),
                     language=_text(data.get("language")) or "en",
                     voice=_text(data.get("voice")), speak=data.get("speak") is True)

    def _started(self, data: dict[str, Any], *_: Any) -> None:
        course = self._course(status="active")
        self._course(flow_name=_text(data.get("flow")) or course.flow_name,
                     flow_version=_text(data.get("flow_version")) or course.flow_version,
                     language=_text(data.get("language")) or course.language)
        for objective in data.get("objectives") or ():
            if isinstance(objective, str):
                self._objective(objective)

    def _objective_started(self, data: dict[str, Any], *_: Any) -> None:
        record = self._objective(_text(data.get("objective")))
        self._put(record, status="active", primitive=_text(data.get("primitive")),
                  slot=_text(data.get("slot")))
        self._course(current=record.id)

    def _prompt(self, data: dict[str, Any], event_id: str, _cause: str,
                at: dt.datetime | None) -> None:
        record = self._objective(_text(data.get("objective")))
        kind, attempt = _text(data.get("kind")), _count(data.get("attempt"))
        prompt = PromptSpoken(id=event_id, entry=self.entry, kind=kind, attempt=attempt,
                              text=_text(data.get("text")), audio=data.get("audio") is not None,
                              at=at)
        self.prompt_objective[event_id] = record.id
        changes: dict[str, Any] = {"prompts": (*record.prompts, prompt)}
        if kind in ("ask", "reprompt"):
            changes |= {"attempts": max(record.attempts, attempt), "confirming": None}
        elif kind == "confirm":
            captured = [c for c in record.calls if c.role == "capture" and c.outcome == "completed"]
            last = captured[-1] if captured else None
            changes["confirming"] = Confirming(value=last and last.value, prompt_id=event_id,
                                               request_id=last.request_id if last else "")
        self._put(record, **changes)

    def _turn(self, data: dict[str, Any], event_id: str, cause: str,
              at: dt.datetime | None) -> None:
        turn = TurnReceived(id=event_id, entry=self.entry, prompt_id=cause,
                            text=_text(data.get("text")), audio=data.get("audio") is not None,
                            at=at)
        objective = self.prompt_objective.get(cause) or self._course().current
        if not objective:
            course = self._course()
            self._course(stray_turns=(*course.stray_turns, turn))
            return
        record = self._objective(objective)
        self._put(record, turns=(*record.turns, turn))

    def _objective_completed(self, data: dict[str, Any], *_: Any) -> None:
        record = self._objective(_text(data.get("objective")))
        slot = _text(data.get("slot"))
        value = data.get("value")
        self._put(record, status="completed", slot=slot or record.slot, value=value,
                  confidence=_number(data.get("confidence")), attempts=_count(data.get("attempts")),
                  confirmed=data.get("confirmed") is True, confirming=None)
        course = self._ended(record.id)
        if slot:
            self._course(slots={**course.slots, slot: value})

    def _objective_failed(self, data: dict[str, Any], *_: Any) -> None:
        record = self._objective(_text(data.get("objective")))
        self._put(record, status="failed", failure_code=_text(data.get("code")),
                  failure_reason=_text(data.get("reason")), attempts=_count(data.get("attempts")),
                  confirming=None)
        self._ended(record.id)

    def _conversation_ended(self, status: ConversationStatus, data: dict[str, Any]) -> None:
        course = self._course(status=status, current="")
        slots = {**course.slots, **_dict(data.get("slots"))}
        failed = tuple(f for f in data.get("failed") or () if isinstance(f, str))
        self._course(slots=slots, failed=failed or course.failed,
                     end_code=_text(data.get("code")), end_reason=_text(data.get("reason")))

    # --- helpers ---------------------------------------------------------------------

    def _course(self, **changes: Any) -> Course:
        course = self.course or Course(status="requested")
        status = changes.get("status")
        if status is not None and _RANK[status] < _RANK[course.status]:
            del changes["status"]  # a late ``requested`` never reopens an ended conversation
        self.course = msgspec.structs.replace(course, **changes)
        return self.course

    def _objective(self, objective: str) -> ObjectiveCourse:
        record = self.objectives.get(objective)
        if record is None:
            record = self.objectives[objective] = ObjectiveCourse(id=objective)
        return record

    def _put(self, record: ObjectiveCourse, **changes: Any) -> None:
        self.objectives[record.id] = msgspec.structs.replace(record, **changes)

    def _ended(self, objective: str) -> Course:
        course = self._course()
        return self._course(current="") if course.current == objective else course


_HANDLERS: dict[str, Callable[..., None]] = {
    type_of(ev.ConversationRequested): CourseFolder._requested,
    type_of(ev.ConversationStarted): CourseFolder._started,
    type_of(ev.ObjectiveStarted): CourseFolder._objective_started,
    type_of(ev.PromptSpoken): CourseFolder._prompt,
    type_of(ev.TurnReceived): CourseFolder._turn,
    type_of(ev.ObjectiveCompleted): CourseFolder._objective_completed,
    type_of(ev.ObjectiveFailed): CourseFolder._objective_failed,
    type_of(ev.ConversationCompleted):
        lambda self, data, *_: self._conversation_ended("completed", data),
    type_of(ev.ConversationAbandoned):
        lambda self, data, *_: self._conversation_ended("abandoned", data),
}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
