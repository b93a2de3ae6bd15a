"""Where a conversation stands, for deciding its next step: a pure fold over its events.

:class:`Progress` is what :mod:`orchestrator.decide` reads: the request (its flow document
and trace id), whether it started or ended, per objective its last run (attempt, phase,
the value waiting for a yes/no), the slots filled, and the caller's turn not handled
yet. It is built from the same events live (the driver applies what it publishes) and
after a crash (:mod:`orchestrator.history` folds the conversation's stored events), so a
process that takes a conversation over continues exactly where its events say.

A turn is *handled* once an orchestrator event names it as its cause; a turn counts
only when it answers the last prompt (``causation_id``), so a late answer to an earlier
question is ignored rather than read as the answer to the current one. A captured
value comes from a primitive's result whose request's ``purpose`` names the objective
(:func:`purpose_for`): the log has it, the live driver notes it from the
call's outcome with :meth:`Progress.captured` — one method, two feeders.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec

from schemas import conversation as cv
from schemas import conversation_events as ce
from schemas.events import Event
from schemas.payloads import CaptureResult

Phase = Literal["ask", "confirm", "said"]
Status = Literal["open", "completed", "failed"]
ORCHESTRATOR_SOURCES = frozenset({"conversation", "objective", "prompt"})
"""Sources of the events an orchestrator publishes (``turn`` and ``conversation.requested``
are the caller's side)."""


PURPOSE_PREFIX = "objective:"


def purpose_for(objective: str, role: str = "capture") -> str:
    """The ``purpose`` of a call made for ``objective`` (``objective:email``,
    ``objective:email:confirm``, ``…:transcribe``, ``…:speak``): how the log ties a
    primitive call to its objective."""
    return PURPOSE_PREFIX + objective + ("" if role == "capture" else f":{role}")


@dataclass(frozen=True)
class Candidate:
    """A captured value waiting for the caller's yes (or driving the decision now)."""

    value: str
    confidence: float
    needs_confirmation: bool
    readback: str


@dataclass
class ObjectiveRun:
    """The latest run of one objective (a ``goto`` may start it again)."""

    id: str
    started_at: dt.datetime
    attempt: int = 0
    """The attempt the last prompt opened (1 = the first ask)."""
    phase: Phase = "ask"
    status: Status = "open"
    latest: Candidate | None = None
    """The value the objective's primitive read last."""
    candidate: Candidate | None = None
    """The value the last read-back (``confirm`` prompt) asked about: what a yes confirms."""


@dataclass
class Progress:
    conversation_id: str = ""
    trace_id: str = ""
    request_id: str = ""
    request: cv.ConversationRequest | None = None
    started: bool = False
    ended: bool = False
    current: str | None = None
    """The objective started last."""
    runs: dict[str, ObjectiveRun] = field(default_factory=dict)
    slots: dict[str, str] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    last_prompt_id: str = ""
    last_event_id: str = ""
    """The orchestrator's last event (the cause of a step no turn caused)."""
    handled: set[str] = field(default_factory=set)
    turns: list[ce.TurnReceived] = field(default_factory=list)
    """Turns answering the last prompt, in order."""
    prompts: list[tuple[str, str, int]] = field(default_factory=list)
    """(objective, kind, attempt) of every prompt spoken, in order."""
    seen: set[str] = field(default_factory=set)
    _purposes: dict[str, str] = field(default_factory=dict)

    @property
    def run(self) -> ObjectiveRun | None:
        return self.runs.get(self.current) if self.current else None

    @property
    def pending_turn(self) -> ce.TurnReceived | None:
        """The caller's answer to the last prompt that no orchestrator event handled yet."""
        return next((t for t in self.turns if t.id not in self.handled), None)

    def apply(self, event: Event) -> None:
        """Fold one event (a duplicate, by id, changes nothing)."""
        if event.id in self.seen:
            return
        self.seen.add(event.id)
        self.conversation_id = self.conversation_id or event.conversation_id
        if event.source in ORCHESTRATOR_SOURCES and event.event_type != "conversation.requested":
            self.last_event_id = event.id
            if event.causation_id:
                self.handled.add(event.causation_id)
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)
        elif event.event_type.endswith(".requested"):
            self._purposes[event.id] = str(getattr(event.data, "purpose", ""))
        elif isinstance(event.data, CaptureResult):
            self._result(event.causation_id or "", event.data)

    def captured(self, objective: str, result: CaptureResult) -> None:
        """A primitive captured ``result`` for ``objective`` (live, or from the log)."""
        run = self.runs.get(objective)
        if run is not None and run.status == "open":
            run.latest = Candidate(result.value, result.confidence,
                                   result.needs_confirmation, result.readback)

    def _result(self, request_id: str, data: CaptureResult) -> None:
        purpose = self._purposes.get(request_id, "")
        objective, _, role = purpose.removeprefix(PURPOSE_PREFIX).partition(":")
        if purpose.startswith(PURPOSE_PREFIX) and not role:
            self.captured(objective, data)

    def _requested(self, event: ce.ConversationRequested) -> None:
        if not self.request_id:
            self.request_id, self.request, self.trace_id = event.id, event.data, event.trace_id

    def _started(self, event: ce.ConversationStarted) -> None:
        self.started = True
        self.trace_id = self.trace_id or event.trace_id

    def _objective(self, event: ce.ObjectiveStarted) -> None:
        self.current = event.data.objective
        self.runs[self.current] = ObjectiveRun(self.current, event.occurred_at)

    def _prompt(self, event: ce.PromptSpoken) -> None:
        data = event.data
        self.prompts.append((data.objective, data.kind, data.attempt))
        self.last_prompt_id, self.turns = event.id, []
        run = self.runs.get(data.objective)
        if run is None:
            return
        run.attempt = data.attempt
        run.phase = "confirm" if data.kind == "confirm" else "said" if data.kind == "say" \
            else "ask"
        if data.kind in ("ask", "reprompt"):
            run.candidate = run.latest = None
        elif data.kind == "confirm":
            run.candidate = run.latest

    def _turn(self, event: ce.TurnReceived) -> None:
        if event.causation_id in (None, "", self.last_prompt_id):
            self.turns.append(event)

    def _completed(self, event: ce.ObjectiveCompleted) -> None:
        data = event.data
        self._end_run(data.objective, "completed")
        if data.slot:
            self.slots[data.slot] = data.value

    def _failed(self, event: ce.ObjectiveFailed) -> None:
        self._end_run(event.data.objective, "failed")
        self.failed.append(event.data.objective)

    def _end_run(self, objective: str, status: Status) -> None:
        run = self.runs.get(objective)
        if run is not None:
            run.status = status

    def _ended(self, event: Event) -> None:
        self.ended = True


def fold_progress(events: list[Event]) -> Progress:
    progress = Progress()
    for event in events:
        progress.apply(event)
    return progress


def capture_result(data: dict[str, Any]) -> CaptureResult | None:
    """A capture primitive's result data (from a call's outcome), ``None`` if it is not one."""
    try:
        return msgspec.convert(data, CaptureResult)
    except msgspec.ValidationError:
        return None


_HANDLERS: dict[type[Event], Any] = {
    ce.ConversationRequested: Progress._requested,
    ce.ConversationStarted: Progress._started,
    ce.ObjectiveStarted: Progress._objective,
    ce.PromptSpoken: Progress._prompt,
    ce.TurnReceived: Progress._turn,
    ce.ObjectiveCompleted: Progress._completed,
    ce.ObjectiveFailed: Progress._failed,
    ce.ConversationCompleted: Progress._ended,
    ce.ConversationAbandoned: Progress._ended,
}
