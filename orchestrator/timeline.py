"""Replay's objective timeline: a conversation's course (the fold's
:class:`~orchestrator.course.Course`) as what happened, objective by objective.

Per objective, in the order the events came: each prompt (its kind and attempt), each
caller's turn, each primitive call made for it (the capture, the confirmation's yes/no, a
transcription) with its outcome, then how the objective ended (its slot and value, whether
the caller confirmed it, or the failure's code and reason). ``voicecore replay`` prints it
(:func:`voicecore.render.print_timeline`) and gives the same data with ``--json``.
Nothing here reads events: it only reorders what the one fold found.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from orchestrator.course import Call, Course, ObjectiveCourse, PromptSpoken, TurnReceived
from orchestrator.state import ConversationState

SHORT_VERSION = 12
"""Hex digits of the flow's version shown (as git shows a commit)."""
StepKind = Literal["prompt", "turn", "call"]


class Step(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    entry: int
    step: StepKind
    kind: str = ""
    """A prompt's kind (``ask``, ``reprompt``, ``confirm``, …); a call's role
    (``capture``, ``confirm``, ``transcribe``, ``speak``)."""
    attempt: int | None = None
    text: str = ""
    """What was said: the prompt's or the turn's text."""
    audio: bool = False
    primitive: str = ""
    outcome: str = ""
    """A call's: ``pending``, ``completed`` or ``failed``."""
    value: Any = None
    confidence: float | None = None
    code: str = ""


class ObjectiveTimeline(msgspec.Struct, frozen=True, kw_only=True):
    objective: str
    status: str
    primitive: str
    slot: str
    attempts: int
    steps: tuple[Step, ...]
    value: Any
    confirmed: bool
    confirming: Any
    """The value a confirmation still in progress reads back (``None``: none)."""
    failure_code: str
    failure_reason: str


class Timeline(msgspec.Struct, frozen=True, kw_only=True):
    conversation_id: str
    flow: str
    version: str
    """The flow version's first :data:`SHORT_VERSION` hex digits."""
    status: str
    current: str
    objectives: tuple[ObjectiveTimeline, ...]
    slots: dict[str, Any]
    failed: tuple[str, ...]
    end_code: str
    end_reason: str


def timeline(state: ConversationState) -> Timeline | None:
    """The objective timeline of a conversation with orchestrator events, else ``None``."""
    course = state.course
    if course is None:
        return None
    return Timeline(
        conversation_id=state.conversation_id, flow=course.flow_name,
        version=course.flow_version[:SHORT_VERSION], status=course.status,
        current=course.current, objectives=tuple(map(_objective, _ordered(course))),
        slots=course.slots, failed=course.failed, end_code=course.end_code,
        end_reason=course.end_reason)


def _ordered(course: Course) -> list[ObjectiveCourse]:
    """Objectives in the order they started (a ``goto`` may run one out of the flow's
    order), then those never started, in the flow's order."""
    records = list(course.objectives.values())
    started = [o for o in records if _first_entry(o) is not None]
    started.sort(key=lambda o: _first_entry(o) or 0)
    return started + [o for o in records if _first_entry(o) is None]


def _first_entry(record: ObjectiveCourse) -> int | None:
    entries = [s.entry for s in _steps(record)]
    return min(entries) if entries else None


def _objective(record: ObjectiveCourse) -> ObjectiveTimeline:
    confirming = record.confirming
    return ObjectiveTimeline(
        objective=record.id, status=record.status, primitive=record.primitive,
        slot=record.slot, attempts=record.attempts, steps=_steps(record), value=record.value,
        confirmed=record.confirmed, confirming=None if confirming is None else confirming.value,
        failure_code=record.failure_code, failure_reason=record.failure_reason)


def _steps(record: ObjectiveCourse) -> tuple[Step, ...]:
    steps = [*map(_prompt, record.prompts), *map(_turn, record.turns), *map(_call, record.calls)]
    return tuple(sorted(steps, key=lambda s: s.entry))


def _prompt(prompt: PromptSpoken) -> Step:
    return Step(entry=prompt.entry, step="prompt", kind=prompt.kind, attempt=prompt.attempt,
                text=prompt.text, audio=prompt.audio)


def _turn(turn: TurnReceived) -> Step:
    return Step(entry=turn.entry, step="turn", text=turn.text, audio=turn.audio)


def _call(call: Call) -> Step:
    return Step(entry=call.entry, step="call", kind=call.role, primitive=call.primitive,
                outcome=call.outcome, value=call.value, confidence=call.confidence,
                code=call.code)
