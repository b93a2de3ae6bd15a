"""The incremental half of the one fold (:mod:`orchestrator.state`) that reads a
conversation's course: the records it builds are :mod:`orchestrator.course`'s, where the
rules (which call belongs to which objective, when a confirmation is in progress) are
described. Only :class:`~orchestrator.state.Folder` calls it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import msgspec

from orchestrator.course import (
    Call,
    Confirming,
    ConversationStatus,
    Course,
    ObjectiveCourse,
    PromptSpoken,
    TurnReceived,
    parse_purpose,
)
from orchestrator.json_values import as_dict, as_text
from schemas import conversation_events as ev
from schemas.envelope import type_of

_RANK = {"requested": 0, "active": 1, "completed": 2, "abandoned": 2}
_REQUESTED = type_of(ev.ConversationRequested)
STARTED = type_of(ev.ConversationStarted)
ENDINGS: dict[str, ConversationStatus] = {type_of(ev.ConversationCompleted): "completed",
                                          type_of(ev.ConversationAbandoned): "abandoned"}
"""**The status rule** (the log's ``conversations.status`` is built from it by
:mod:`orchestrator.views`): a conversation with any event of the course is ``requested``;
``active`` once an orchestrator started it (``conversation.started`` with object data);
then the status of its last ending (``completed``/``abandoned``, object data), which a
late ``conversation.started`` or ``conversation.requested`` never reopens."""
_CALLERS = frozenset({_REQUESTED, type_of(ev.TurnReceived), type_of(ev.ConversationHungUp)})
"""What the caller's side publishes; every other event of the course is the orchestrator's."""


class CourseFolder:
    """The incremental half of the fold for a conversation's course (see the module doc)."""

    def __init__(self) -> None:
        self.course: Course | None = None
        self.objectives: dict[str, ObjectiveCourse] = {}
        self.prompt_objective: dict[str, str] = {}
        self.call_objective: dict[str, str] = {}
        self.turn_objective: dict[str, str] = {}
        self.entry = 0

    def apply(self, entry: int, type_: str, event_id: str, causation_id: str, trace_id: str,
              data: Any, at: dt.datetime | None) -> None:
        """Fold the orchestrator's (or the caller's) event, the conversation's ``entry``-th."""
        self.entry = entry
        course = self._course(trace_id=(self.course and self.course.trace_id) or trace_id)
        if type_ not in _CALLERS:
            self._handled(causation_id, event_id)
            course = self._course(last_event_id=event_id)
        if not isinstance(data, dict):
            self._course(malformed=course.malformed + 1)
            return
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

    def _handled(self, turn_id: str, by: str) -> None:
        """An orchestrator event named a turn as its cause: the turn was acted on."""
        objective = self.turn_objective.get(turn_id)
        record = self.objectives.get(objective or "")
        if record is None:
            return
        turns = tuple(msgspec.structs.replace(t, handled_by=by)
                      if t.id == turn_id and not t.handled_by else t for t in record.turns)
        self._put(record, turns=turns)

    def _requested(self, data: dict[str, Any], event_id: str, *_: Any) -> None:
        course = self._course()
        if course.request_id:  # asked again: the first request stands
            return
        flow = as_dict(data.get("flow"))
        self._course(request_id=event_id, flow_name=as_text(flow.get("name")),
                     flow_version=as_text(flow.get("version")),
                     flow_document=as_text(flow.get("document")),
                     language=as_text(data.get("language")) or "en",
                     voice=as_text(data.get("voice")), speak=data.get("speak") is True)

    def _started(self, data: dict[str, Any], *_: Any) -> None:
        course = self._course(status="active")
        self._course(flow_name=as_text(data.get("flow")) or course.flow_name,
                     flow_version=as_text(data.get("flow_version")) or course.flow_version,
                     language=as_text(data.get("language")) or course.language)
        for objective in _list(data.get("objectives")):
            if isinstance(objective, str):
                self._objective(objective)

    def _objective_started(self, data: dict[str, Any], _id: str, _cause: str,
                           at: dt.datetime | None) -> None:
        record = self._objective(as_text(data.get("objective")))
        self._put(record, status="active", primitive=as_text(data.get("primitive")),
                  slot=as_text(data.get("slot")), runs=record.runs + 1, started_entry=self.entry,
                  started_at=at, attempts=0, confirming=None, value=None, confidence=None,
                  confirmed=False, failure_code="", failure_reason="")
        self._course(current=record.id, last_objective=record.id)

    def _prompt(self, data: dict[str, Any], event_id: str, _cause: str,
                at: dt.datetime | None) -> None:
        record = self._objective(as_text(data.get("objective")))
        kind, attempt = as_text(data.get("kind")), _count(data.get("attempt"))
        prompt = PromptSpoken(id=event_id, entry=self.entry, kind=kind, attempt=attempt,
                              text=as_text(data.get("text")), audio=data.get("audio") is not None,
                              at=at)
        self.prompt_objective[event_id] = record.id
        self._course(last_prompt_id=event_id)
        changes: dict[str, Any] = {"prompts": (*record.prompts, prompt)}
        if kind in ("ask", "reprompt"):
            changes |= {"attempts": max(record.attempts, attempt), "confirming": None}
        elif kind == "confirm":
            last = record.latest_capture
            changes["confirming"] = Confirming(
                prompt_id=event_id, value=None if last is None else last.value,
                request_id="" if last is None else last.request_id,
                confidence=None if last is None else last.confidence,
                readback="" if last is None else last.readback)
        self._put(record, **changes)

    def _turn(self, data: dict[str, Any], event_id: str, cause: str,
              at: dt.datetime | None) -> None:
        turn = TurnReceived(id=event_id, entry=self.entry, prompt_id=cause,
                            text=as_text(data.get("text")), audio=data.get("audio") is not None,
                            at=at)
        objective = self.prompt_objective.get(cause) or self._course().current
        if not objective:
            course = self._course()
            self._course(stray_turns=(*course.stray_turns, turn))
            return
        record = self._objective(objective)
        self.turn_objective[event_id] = objective
        self._put(record, turns=(*record.turns, turn))

    def _hung_up(self, _data: dict[str, Any], event_id: str, *_: Any) -> None:
        if not self._course().hung_up:
            self._course(hung_up=event_id)

    def _objective_completed(self, data: dict[str, Any], *_: Any) -> None:
        record = self._objective(as_text(data.get("objective")))
        slot = as_text(data.get("slot"))
        value = data.get("value")
        self._put(record, status="completed", slot=slot or record.slot, value=value,
                  confidence=_number(data.get("confidence")), attempts=_count(data.get("attempts")),
                  confirmed=data.get("confirmed") is True, confirming=None)
        course = self._ended(record.id)
        if slot:
            self._course(slots={**course.slots, slot: value})

    def _objective_failed(self, data: dict[str, Any], *_: Any) -> None:
        record = self._objective(as_text(data.get("objective")))
        self._put(record, status="failed", failure_code=as_text(data.get("code")),
                  failure_reason=as_text(data.get("reason")), attempts=_count(data.get("attempts")),
                  confirming=None)
        self._ended(record.id)

    def _conversation_ended(self, status: ConversationStatus, data: dict[str, Any]) -> None:
        course = self._course(status=status, current="")
        slots = {**course.slots, **as_dict(data.get("slots"))}
        failed = tuple(f for f in _list(data.get("failed")) if isinstance(f, str))
        self._course(slots=slots, failed=failed or course.failed,
                     end_code=as_text(data.get("code")), end_reason=as_text(data.get("reason")))

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
    STARTED: CourseFolder._started,
    type_of(ev.ObjectiveStarted): CourseFolder._objective_started,
    type_of(ev.PromptSpoken): CourseFolder._prompt,
    type_of(ev.TurnReceived): CourseFolder._turn,
    type_of(ev.ConversationHungUp): CourseFolder._hung_up,
    type_of(ev.ObjectiveCompleted): CourseFolder._objective_completed,
    type_of(ev.ObjectiveFailed): CourseFolder._objective_failed,
    **{ending: lambda self, data, *_, status=status: self._conversation_ended(status, data)
       for ending, status in ENDINGS.items()},
}


def _list(value: Any) -> list[Any] | tuple[Any, ...]:
    """A JSON array (a tuple when the typed event's data was converted) as itself."""
    return value if isinstance(value, list | tuple) else []


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
