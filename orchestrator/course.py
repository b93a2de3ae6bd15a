"""A conversation's course: what the one fold (:mod:`orchestrator.state`) makes of the
orchestrator's own events (``conversation.*``, ``objective.*``, ``prompt.spoken``,
``turn.received``) and of the primitive calls made for an objective
(``ConversationState.course``).

:class:`~orchestrator.state.Folder` feeds :mod:`orchestrator.course_fold` every event of
:data:`~schemas.conversation_events.CONVERSATION_SOURCES` and every primitive request and
result it paired; nothing else does, so live state (the driver) and replayed state
(``voicecore replay``) are the same fold. :class:`Course` is what the driver needs to
continue after a crash and what replay shows: the flow, each objective's status, prompts,
turns, primitive calls and confirmation, the slots, the conversation's status and its
current objective.

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
from typing import Any, Literal

import msgspec

Role = Literal["capture", "confirm", "transcribe", "speak"]
ROLES: tuple[Role, ...] = ("capture", "confirm", "transcribe", "speak")
"""``capture``: the objective's own primitive reading a turn; ``confirm``: the yes/no after
a read-back; ``transcribe``: a spoken turn to text; ``speak``: a prompt synthesized."""
PURPOSE_PREFIX = "objective:"
ObjectiveStatus = Literal["pending", "active", "completed", "failed"]
ConversationStatus = Literal["requested", "active", "completed", "abandoned"]


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
    handled_by: str = ""
    """The first orchestrator event (``conversation``/``objective``/``prompt``) naming this
    turn as its ``causation_id``: the turn was acted on. ``""``: not yet."""


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
    readback: str = ""
    """A capture result's ``data.readback`` (what a ``confirm`` prompt reads back)."""
    code: str = ""
    retryable: bool = False


class Confirming(msgspec.Struct, frozen=True, kw_only=True):
    value: Any
    request_id: str
    """The capture call whose value is being confirmed (``""``: none completed before)."""
    prompt_id: str
    confidence: float | None = None
    readback: str = ""


class ObjectiveCourse(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    status: ObjectiveStatus = "pending"
    primitive: str = ""
    slot: str = ""
    attempts: int = 0
    """The highest attempt an ``ask``/``reprompt`` prompt of the latest run opened; the end
    event's count once it ended."""
    runs: int = 0
    """How many times it was started (a ``goto`` starts one again): each
    ``objective.started`` begins a run with no attempts, confirmation nor outcome; its
    prompts, turns and calls are those from :attr:`started_entry` on."""
    started_entry: int = 0
    started_at: dt.datetime | None = None
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
    def phase(self) -> str:
        """The kind of the latest run's last prompt (``ask``, ``reprompt``, ``confirm``,
        ``say``, ``fallback``); ``""`` before the run said anything."""
        last = self.last_prompt
        return last.kind if last is not None and last.entry > self.started_entry else ""

    @property
    def latest_capture(self) -> Call | None:
        """The run's last completed ``capture`` call since its last ``ask``/``reprompt``
        (a new question forgets what earlier answers read)."""
        asked = max((p.entry for p in self.prompts if p.kind in ("ask", "reprompt")),
                    default=0)
        since = max(asked, self.started_entry)
        found = [c for c in self.calls if c.role == "capture" and c.outcome == "completed"
                 and c.entry > since]
        return found[-1] if found else None

    @property
    def unhandled_turn(self) -> TurnReceived | None:
        """The caller's answer to the objective's last prompt that no orchestrator event
        acted on yet: what a driver taking the conversation over reads first."""
        last = self.last_prompt
        if last is None:
            return None
        return next((t for t in self.turns if t.prompt_id in (last.id, "")
                     and t.entry > last.entry and not t.handled_by), None)


class Course(msgspec.Struct, frozen=True, kw_only=True):
    status: ConversationStatus
    request_id: str = ""
    """The ``conversation.requested`` event (the first one, if asked twice)."""
    trace_id: str = ""
    """The trace of the course's first event (``conversation.requested``, as a rule)."""
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
    last_objective: str = ""
    """The objective started last, ended or not (where a driver advances from)."""
    slots: dict[str, Any] = {}
    failed: tuple[str, ...] = ()
    end_code: str = ""
    end_reason: str = ""
    stray_turns: tuple[TurnReceived, ...] = ()
    """Turns naming no prompt of this conversation while no objective was current."""
    malformed: int = 0
    """Events of these sources whose data is not an object (nothing read from them)."""
    last_prompt_id: str = ""
    """The conversation's last ``prompt.spoken`` (the one a caller's turn should answer)."""
    last_event_id: str = ""
    """The orchestrator's last event (``conversation.started`` on; not the caller's
    ``conversation.requested`` or turns): the cause of a step no turn caused."""
    hung_up: str = ""
    """The caller's ``conversation.hung_up`` (the first, if sent twice); ``""``: still there."""

    @property
    def step_cause(self) -> str:
        """The ``causation_id`` of the next step's events: the caller's hang-up, else the
        turn it answers, else the orchestrator's last event (else the request). Event ids
        are derived from it, so the same step is the same events whoever publishes it."""
        turn = self.pending_turn
        return self.hung_up or (turn.id if turn is not None else "") \
            or self.last_event_id or self.request_id

    @property
    def pending_turn(self) -> TurnReceived | None:
        """The current objective's :attr:`~ObjectiveCourse.unhandled_turn`."""
        record = self.objectives.get(self.current)
        return None if record is None else record.unhandled_turn
