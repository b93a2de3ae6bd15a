"""The next step of a conversation: a pure function of its flow, its course and the time.

:func:`decide` reads where the conversation stands — its
:class:`~orchestrator.course.Course`, the one fold's view of the orchestrator's events,
the caller's turns and the primitive calls made for each objective — and answers either
a :class:`Call` (run this primitive on the pending turn; its request and result events,
folded, are what the next decision reads) or the events of the next step
(:class:`Step`; none: wait for the caller). No I/O and no clock: the same course gives the
same step, which is what makes a conversation rebuilt from its events continue exactly
as the original process would have (a call already answered for the pending turn is not
made again). ``off_record``: a call that left no event (the core could not be reached,
or the bridge refused it before publishing), which the course cannot show.

The rules (README, "Orchestrator"): an answer goes to the objective's primitive; a value
is confirmed when the policy says so (its read-back, then the caller's yes/no through
``capture_confirmation``; on anything but a clear yes the objective's primitive reads the
same words, so a correction in the same breath is taken and read back in turn; a "no"
re-asks);
``NO_MATCH`` climbs the re-prompt ladder until ``max_attempts``, then the objective fails
``MAX_ATTEMPTS`` with its ``give_up`` reason and ``on_failure`` decides; an objective past
its ``timeout_s`` fails ``TIMEOUT``; a voice core that cannot be reached fails it
``UNAVAILABLE``, says the flow's fallback line and abandons; a caller who hung up
(``conversation.hung_up``) fails the current objective and abandons, ``HUNG_UP``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, get_args

from orchestrator.course import Call as CallRecord
from orchestrator.course import Confirming, Course, ObjectiveCourse, Role
from orchestrator.flow import Flow, Goto, Objective
from orchestrator.port import NO_MATCH, Outcome
from orchestrator.reading import attempt_of, calls_for, deadline, find, last_run, render, text_of
from schemas import conversation as cv
from schemas.payloads import Language

CONFIRMATION, TRANSCRIBE = "capture_confirmation", "transcribe"
IS_THAT_RIGHT = {"en": "Is that right?", "es": "¿Es correcto?", "fr": "Est-ce exact ?",
                 "de": "Ist das richtig?"}
ENDED = frozenset({"completed", "abandoned"})
HUNG_UP, CALLER_LEFT = "HUNG_UP", "the caller hung up"


@dataclass(frozen=True)
class Call:
    """Run ``primitive`` for ``objective`` on the pending turn (``text``: its words)."""

    primitive: str
    role: Role
    objective: Objective
    turn_id: str
    text: str = ""


@dataclass(frozen=True)
class Step:
    """Events to publish, in order: (event type, typed payload of schemas.conversation)."""

    events: tuple[tuple[str, Any], ...] = ()


Decision = Call | Step
WAIT = Step()


def decide(flow: Flow, course: Course | None, now: dt.datetime,
           off_record: Outcome | None = None) -> Decision:
    if course is None or course.status in ENDED or not course.request_id:
        return WAIT
    if course.hung_up:
        return _hung_up(course)
    if course.status == "requested":
        return Step((("conversation.started", cv.ConversationStart(
            flow=flow.name, flow_version=course.flow_version,
            objectives=tuple(o.id for o in flow.objectives),
            language=_language(flow, course))),))
    record = last_run(course)
    if record is None or record.status in ("completed", "failed"):
        return _advance(flow, course, record)
    objective = find(flow, record.id)
    if record.phase == "":
        return _first_prompt(course, objective)
    if record.phase == "say":
        return _complete(objective, record, "", 1.0, confirmed=False)
    if off_record is not None:
        return _off_record(flow, course, objective, record, off_record)
    if now >= deadline(objective, record):
        return _fail(objective, record, "TIMEOUT", f"no answer within {objective.timeout_s:g} s")
    turn = record.unhandled_turn
    if turn is None:
        return WAIT
    calls = calls_for(record, turn.id)
    text = text_of(turn, calls)
    if text is None:
        return Call(TRANSCRIBE, "transcribe", objective, turn.id)
    if not text.strip():  # nothing heard: as if nothing could be read
        return _ask_again(course, objective, record)
    if record.phase == "confirm":
        return _confirming(flow, course, objective, record, calls, turn.id, text)
    return _asking(flow, course, objective, record, calls, turn.id, text)


def _language(flow: Flow, course: Course) -> Language:
    """The request's language when it is one we speak, else the flow's."""
    return next((known for known in get_args(Language) if known == course.language),
                flow.language)


def _advance(flow: Flow, course: Course, record: ObjectiveCourse | None) -> Decision:
    """The objective after ``record`` (the first when none ran), or the conversation's end."""
    if record is None:
        return _begin(flow.objectives[0])
    objective = find(flow, record.id)
    if record.status == "failed" and objective.on_failure == "end":
        return _abandon(course, "OBJECTIVE_FAILED", record.failure_reason or objective.give_up)
    if record.status == "failed" and isinstance(objective.on_failure, Goto):
        return _begin(find(flow, objective.on_failure.goto))
    index = flow.objectives.index(objective) + 1
    if index < len(flow.objectives):
        return _begin(flow.objectives[index])
    failed = tuple(o.id for o in course.objectives.values() if o.status == "failed")
    return Step((("conversation.completed", cv.ConversationResult(
        slots=_slots(course), failed=failed)),))


def _slots(course: Course) -> dict[str, str]:
    return {slot: str(value) for slot, value in course.slots.items()}


def _begin(objective: Objective) -> Step:
    slot = "" if objective.say is not None else objective.slot or objective.id
    return Step((("objective.started", cv.ObjectiveStart(
        objective=objective.id, primitive=objective.primitive or "", slot=slot)),))


def _first_prompt(course: Course, objective: Objective) -> Step:
    if objective.say is not None:
        return _speak(objective, "say", render(objective.say, course.slots), 1)
    return _speak(objective, "ask", render(_rung(objective, 1), course.slots), 1)


def _rung(objective: Objective, attempt: int) -> str:
    ladder = (objective.prompt or objective.id.replace("_", " ") + "?", *objective.reprompts)
    return ladder[min(attempt, len(ladder)) - 1]


def _speak(objective: Objective, kind: Any, text: str, attempt: int) -> Step:
    return Step((("prompt.spoken", cv.Prompt(objective=objective.id, kind=kind,
                                             text=text[:4000], attempt=attempt)),))


def _asking(flow: Flow, course: Course, objective: Objective, record: ObjectiveCourse,
            calls: dict[str, CallRecord], turn_id: str, text: str) -> Decision:
    read = calls.get("capture")
    if read is None:
        return Call(objective.primitive or "", "capture", objective, turn_id, text)
    if read.outcome == "completed":
        return _read_back_or_complete(course, objective, record, read, attempt_of(record))
    if read.code != NO_MATCH:
        return _fail(objective, record, read.code or "PRIMITIVE_FAILED", "the primitive failed")
    return _ask_again(course, objective, record)


def _read_back_or_complete(course: Course, objective: Objective, record: ObjectiveCourse,
                           read: CallRecord, attempt: int, *, always: bool = False) -> Step:
    value, confidence = str(read.value), read.confidence if read.confidence is not None else 1.0
    if not always and not _needs_confirming(objective, read):
        return _complete(objective, record, value, confidence, confirmed=False)
    slots = {**course.slots, objective.slot or objective.id: value}
    text = (render(objective.confirm_prompt, slots) if objective.confirm_prompt
            else f"{read.readback or value}. "
                 f"{IS_THAT_RIGHT.get(course.language, IS_THAT_RIGHT['en'])}")
    return _speak(objective, "confirm", text, attempt)


def _needs_confirming(objective: Objective, read: CallRecord) -> bool:
    if objective.confirm != "when_uncertain":
        return objective.confirm == "always"
    return bool(read.needs_confirmation) or read.confidence is None \
        or read.confidence < objective.confirm_below


def _ask_again(course: Course, objective: Objective, record: ObjectiveCourse) -> Step:
    attempt = attempt_of(record)
    if attempt >= objective.max_attempts:
        return _fail(objective, record, "MAX_ATTEMPTS", objective.give_up)
    return _speak(objective, "reprompt", render(_rung(objective, attempt + 1), course.slots),
                  attempt + 1)


def _confirming(flow: Flow, course: Course, objective: Objective, record: ObjectiveCourse,
                calls: dict[str, CallRecord], turn_id: str, text: str) -> Decision:
    """The answer to a read-back: a clear yes completes the objective; anything else (an
    uncertain yes too) also goes to the objective's primitive, so a correction in the same
    breath ("no, it's jane@x.com") is read back in turn, a bare "no" asks again, and
    neither yes nor no reads the value back again."""
    said = calls.get("confirm")
    if said is None:
        return Call(CONFIRMATION, "confirm", objective, turn_id, text)
    asked = record.confirming
    answer = str(said.value) if said.outcome == "completed" else ""
    if answer == "yes" and asked is not None and not said.needs_confirmation:
        return _confirmed(objective, record, asked)
    read = calls.get("capture")
    if read is None:
        return Call(objective.primitive or "", "capture", objective, turn_id, text)
    again = attempt_of(record) + 1
    if read.outcome == "completed" and (asked is None or read.value != asked.value):
        return _read_back_or_complete(course, objective, record, read, again, always=True)
    if answer == "yes" and asked is not None:
        return _confirmed(objective, record, asked)
    confirmed = next((c for c in record.calls if asked and c.request_id == asked.request_id),
                     None)
    if answer != "no" and confirmed is not None:  # neither yes nor no: read it back again
        if attempt_of(record) >= objective.max_attempts:
            return _fail(objective, record, "MAX_ATTEMPTS", objective.give_up)
        return _read_back_or_complete(course, objective, record, confirmed, again, always=True)
    return _ask_again(course, objective, record)


def _confirmed(objective: Objective, record: ObjectiveCourse, asked: Confirming) -> Step:
    confidence = asked.confidence if asked.confidence is not None else 1.0
    return _complete(objective, record, str(asked.value), confidence, confirmed=True)


def _off_record(flow: Flow, course: Course, objective: Objective, record: ObjectiveCourse,
                outcome: Outcome) -> Step:
    if outcome.unavailable:
        return _unavailable(flow, course, objective, record, outcome.reason)
    return _fail(objective, record, outcome.code or "PRIMITIVE_FAILED", outcome.reason)


def _complete(objective: Objective, record: ObjectiveCourse, value: str, confidence: float,
              *, confirmed: bool) -> Step:
    slot = "" if objective.say is not None else objective.slot or objective.id
    return Step((("objective.completed", cv.ObjectiveResult(
        objective=objective.id, slot=slot, value=value, confidence=confidence,
        confirmed=confirmed, attempts=attempt_of(record))),))


def _fail(objective: Objective, record: ObjectiveCourse, code: str, reason: str) -> Step:
    return Step((("objective.failed", cv.ObjectiveFailure(
        objective=objective.id, code=code[:64], reason=reason[:1000],
        attempts=attempt_of(record))),))


def _unavailable(flow: Flow, course: Course, objective: Objective, record: ObjectiveCourse,
                 reason: str) -> Step:
    """Degradation: record the failure, say the fallback line, abandon (never hang)."""
    failed = _fail(objective, record, "UNAVAILABLE", reason)
    fallback = cv.Prompt(objective=objective.id, kind="fallback",
                         text=render(flow.fallback, course.slots), attempt=attempt_of(record))
    return Step((*failed.events, ("prompt.spoken", fallback),
                 *_abandon(course, "UNAVAILABLE", reason).events))


def _hung_up(course: Course) -> Step:
    """The caller left: the objective being asked fails and the conversation is abandoned,
    at once (nothing more is said: nobody is listening)."""
    record = course.objectives.get(course.current)
    failed = () if record is None else (("objective.failed", cv.ObjectiveFailure(
        objective=record.id, code=HUNG_UP, reason=CALLER_LEFT,
        attempts=attempt_of(record))),)
    return Step((*failed, *_abandon(course, HUNG_UP, CALLER_LEFT).events))


def _abandon(course: Course, code: str, reason: str) -> Step:
    return Step((("conversation.abandoned", cv.Abandonment(
        code=code, reason=reason[:1000], slots=_slots(course))),))
