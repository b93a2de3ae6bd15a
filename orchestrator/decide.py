"""The next step of a conversation: a pure function of its flow, its progress and the turn.

:func:`decide` reads where the conversation stands (:class:`~orchestrator.progress.Progress`),
what the primitives made of the pending turn so far (:class:`Heard`) and the time, and
answers either a :class:`Call` (run this primitive on the turn, then decide again) or the
events of the next step (:class:`Step`; none: wait for the caller). No I/O and no clock:
the same inputs give the same step, which is what makes a conversation rebuilt from its
events continue exactly as the original process would have.

The rules (README, "Orchestrator"): an answer goes to the objective's primitive; a value
is confirmed when the policy says so (its read-back, then the caller's yes/no through
``capture_confirmation``; a "no" re-asks, a correction in the same breath is read and
confirmed in turn); ``NO_MATCH`` climbs the re-prompt ladder until ``max_attempts``, then
the objective fails ``MAX_ATTEMPTS`` with its ``give_up`` reason and ``on_failure``
decides; an objective past its ``timeout_s`` fails ``TIMEOUT``; a voice core that cannot
be reached fails it ``UNAVAILABLE``, says the flow's fallback line and abandons.
"""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass, replace
from typing import Any

from orchestrator.flow import Flow, Goto, Objective
from orchestrator.port import NO_MATCH, Outcome
from orchestrator.progress import ObjectiveRun, Progress, capture_result
from schemas import conversation as cv

CONFIRMATION = "capture_confirmation"
IS_THAT_RIGHT = {"en": "Is that right?", "es": "¿Es correcto?", "fr": "Est-ce exact ?",
                 "de": "Ist das richtig?"}


@dataclass(frozen=True)
class Heard:
    """What the primitives made of one turn so far (``turn_id``: which)."""

    turn_id: str
    capture: Outcome | None = None
    confirmation: Outcome | None = None


@dataclass(frozen=True)
class Call:
    """Run ``primitive`` on the pending turn (``role``: ``capture`` or ``confirmation``)."""

    primitive: str
    role: str
    objective: Objective


@dataclass(frozen=True)
class Step:
    """Events to publish, in order (typed payloads of :mod:`schemas.conversation`)."""

    events: tuple[tuple[str, Any], ...] = ()
    """(event type, data) pairs."""


Decision = Call | Step
WAIT = Step()


def decide(flow: Flow, progress: Progress, heard: Heard | None, now: dt.datetime) -> Decision:
    if progress.ended or progress.request is None:
        return WAIT
    if not progress.started:
        return Step((("conversation.started", cv.ConversationStart(
            flow=flow.name, flow_version=progress.request.flow.version,
            objectives=tuple(o.id for o in flow.objectives), language=language(flow, progress))),))
    run = progress.run
    if run is None or run.status != "open":
        return _advance(flow, progress, run)
    objective = find(flow, run.id)
    if run.attempt == 0:  # started, nothing said yet
        return _first_prompt(flow, progress, objective)
    if run.phase == "said":
        return _complete(objective, run, "", 1.0, confirmed=False)
    turn = progress.pending_turn
    heard = heard if heard is not None and turn is not None and heard.turn_id == turn.id \
        else None
    down = next((o for o in (heard.capture, heard.confirmation) if o and o.unavailable), None) \
        if heard is not None else None
    if down is not None:  # (a flow that waits has waited until the deadline)
        return _unavailable(flow, progress, objective, run, down.reason)
    if now >= deadline(objective, run):
        return _fail(objective, run, "TIMEOUT", f"no answer within {objective.timeout_s:g} s")
    if turn is None:
        return WAIT
    heard = heard or Heard(turn.id)
    if run.phase == "confirm":
        return _confirming(flow, progress, objective, run, heard)
    return _asking(flow, progress, objective, run, heard)


def deadline(objective: Objective, run: ObjectiveRun) -> dt.datetime:
    return run.started_at + dt.timedelta(seconds=objective.timeout_s)


def find(flow: Flow, objective_id: str) -> Objective:
    return next(o for o in flow.objectives if o.id == objective_id)


def language(flow: Flow, progress: Progress) -> Any:
    return progress.request.language if progress.request is not None else flow.language


def render(template: str, slots: dict[str, str]) -> str:
    """``{slot}`` replaced by its value; unknown names and stray braces stay as written."""
    out = []
    for literal, name, spec, _conv in string.Formatter().parse(template):
        out.append(literal)
        if name is not None:
            out.append(slots.get(name, "{" + name + (":" + spec if spec else "") + "}"))
    return "".join(out)


def _safe_render(template: str, slots: dict[str, str]) -> str:
    try:
        return render(template, slots)
    except ValueError:  # unbalanced braces: said as written
        return template


def _advance(flow: Flow, progress: Progress, run: ObjectiveRun | None) -> Decision:
    """The objective after ``run`` (the first when none ran), or the conversation's end."""
    if run is None:
        return _begin(flow.objectives[0])
    objective = find(flow, run.id)
    if run.status == "failed" and objective.on_failure == "end":
        return _abandon(progress, "OBJECTIVE_FAILED", objective.give_up)
    if run.status == "failed" and isinstance(objective.on_failure, Goto):
        return _begin(find(flow, objective.on_failure.goto))
    index = flow.objectives.index(objective) + 1
    if index < len(flow.objectives):
        return _begin(flow.objectives[index])
    return Step((("conversation.completed", cv.ConversationResult(
        slots=dict(progress.slots), failed=tuple(progress.failed))),))


def _begin(objective: Objective) -> Step:
    slot = "" if objective.say is not None else objective.slot or objective.id
    return Step((("objective.started", cv.ObjectiveStart(
        objective=objective.id, primitive=objective.primitive or "", slot=slot)),))


def _first_prompt(flow: Flow, progress: Progress, objective: Objective) -> Step:
    if objective.say is not None:
        return _speak(objective, "say", render_line(objective.say, progress), 1)
    return _speak(objective, "ask", render_line(_rung(objective, 1), progress), 1)


def render_line(template: str, progress: Progress) -> str:
    return _safe_render(template, progress.slots)


def _rung(objective: Objective, attempt: int) -> str:
    ladder = (objective.prompt or objective.id.replace("_", " ") + "?", *objective.reprompts)
    return ladder[min(attempt, len(ladder)) - 1]


def _speak(objective: Objective, kind: str, text: str, attempt: int) -> Step:
    return Step((("prompt.spoken", cv.Prompt(objective=objective.id, kind=kind,  # type: ignore[arg-type]
                                             text=text[:4000], attempt=attempt)),))


def _asking(flow: Flow, progress: Progress, objective: Objective, run: ObjectiveRun,
            heard: Heard) -> Decision:
    if heard.capture is None:
        return Call(objective.primitive or "", "capture", objective)
    outcome = heard.capture
    if outcome.success:
        return _captured(flow, progress, objective, run, outcome)
    return _unread(flow, progress, objective, run, outcome)


def _captured(flow: Flow, progress: Progress, objective: Objective, run: ObjectiveRun,
              outcome: Outcome, *, always: bool = False) -> Step:
    result = capture_result(outcome.data)
    value = result.value if result is not None else str(outcome.data.get("value", ""))
    confidence = result.confidence if result is not None else 1.0
    if not always and not _needs_confirming(objective, result):
        return _complete(objective, run, value, confidence, confirmed=False)
    slots = {**progress.slots, objective.slot or objective.id: value}
    readback = result.readback if result is not None and result.readback else value
    text = (_safe_render(objective.confirm_prompt, slots) if objective.confirm_prompt
            else f"{readback}. {IS_THAT_RIGHT.get(language(flow, progress), IS_THAT_RIGHT['en'])}")
    return _speak(objective, "confirm", text, max(run.attempt, 1))


def _needs_confirming(objective: Objective, result: Any) -> bool:
    if objective.confirm != "when_uncertain":
        return objective.confirm == "always"
    return result is None or bool(result.needs_confirmation) \
        or result.confidence < objective.confirm_below


def _unread(flow: Flow, progress: Progress, objective: Objective, run: ObjectiveRun,
            outcome: Outcome) -> Step:
    """The primitive read nothing (``NO_MATCH``: ask again) or could not answer."""
    if outcome.code != NO_MATCH:
        return _fail(objective, run, outcome.code or "PRIMITIVE_FAILED", outcome.reason)
    return _ask_again(progress, objective, run)


def _ask_again(progress: Progress, objective: Objective, run: ObjectiveRun) -> Step:
    if run.attempt >= objective.max_attempts:
        return _fail(objective, run, "MAX_ATTEMPTS", objective.give_up)
    attempt = run.attempt + 1
    return _speak(objective, "reprompt", render_line(_rung(objective, attempt), progress),
                  attempt)


def _confirming(flow: Flow, progress: Progress, objective: Objective, run: ObjectiveRun,
                heard: Heard) -> Decision:
    """The answer to a read-back: its yes/no, and (always) the objective's primitive on the
    same words, so a correction in the same breath ("no, it's jane@x.com") is taken even
    when the yes/no reader hears a yes in it."""
    if heard.confirmation is None:
        return Call(CONFIRMATION, "confirmation", objective)
    if heard.capture is None:
        return Call(objective.primitive or "", "capture", objective)
    said, corrected = heard.confirmation, heard.capture
    candidate = run.candidate
    again = replace(run, attempt=run.attempt + 1)
    if corrected.success and (candidate is None or _value(corrected) != candidate.value):
        return _captured(flow, progress, objective, again, corrected, always=True)
    answer = str(said.data.get("value", "")) if said.success else ""
    if answer == "yes" and candidate is not None:
        return _complete(objective, run, candidate.value, candidate.confidence, confirmed=True)
    if answer != "no" and candidate is not None:  # neither yes nor no: read it back again
        if run.attempt >= objective.max_attempts:
            return _fail(objective, run, "MAX_ATTEMPTS", objective.give_up)
        return _captured(flow, progress, objective, again, _as_outcome(run), always=True)
    return _ask_again(progress, objective, run)


def _value(outcome: Outcome) -> str:
    return str(outcome.data.get("value", ""))


def _as_outcome(run: ObjectiveRun) -> Outcome:
    candidate = run.candidate
    assert candidate is not None
    return Outcome(True, {"value": candidate.value, "confidence": candidate.confidence,
                          "needs_confirmation": True, "readback": candidate.readback})


def _complete(objective: Objective, run: ObjectiveRun, value: str, confidence: float, *,
              confirmed: bool) -> Step:
    slot = "" if objective.say is not None else objective.slot or objective.id
    return Step((("objective.completed", cv.ObjectiveResult(
        objective=objective.id, slot=slot, value=value, confidence=confidence,
        confirmed=confirmed, attempts=max(run.attempt, 1))),))


def _fail(objective: Objective, run: ObjectiveRun, code: str, reason: str) -> Step:
    return Step((("objective.failed", cv.ObjectiveFailure(
        objective=objective.id, code=code[:64], reason=reason[:1000],
        attempts=max(run.attempt, 1))),))


def _unavailable(flow: Flow, progress: Progress, objective: Objective, run: ObjectiveRun,
                 reason: str) -> Step:
    """Degradation: record the failure, say the fallback line, abandon (never hang)."""
    failed = _fail(objective, run, "UNAVAILABLE", reason)
    fallback = cv.Prompt(objective=objective.id, kind="fallback",
                         text=render_line(flow.fallback, progress), attempt=max(run.attempt, 1))
    abandon = _abandon(progress, "UNAVAILABLE", reason)
    return Step((*failed.events, ("prompt.spoken", fallback), *abandon.events))


def _abandon(progress: Progress, code: str, reason: str) -> Step:
    return Step((("conversation.abandoned", cv.Abandonment(
        code=code, reason=reason[:1000], slots=dict(progress.slots))),))
