"""Reading a conversation's course against its flow: the pure lookups that
:func:`orchestrator.decide.decide` and the driver share (the objective that ran last, its
deadline, what the pending turn said, a prompt's template filled in)."""

from __future__ import annotations

import datetime as dt
import string
from typing import Any

from orchestrator.course import Call as CallRecord
from orchestrator.course import Course, ObjectiveCourse, TurnReceived
from orchestrator.flow import Flow, Objective


def last_run(course: Course) -> ObjectiveCourse | None:
    """The record of the objective started last, ended or not (``None``: none yet)."""
    return course.objectives.get(course.last_objective) if course.last_objective else None


def deadline(objective: Objective, record: ObjectiveCourse) -> dt.datetime:
    if record.started_at is None:  # (an objective.started without a time: no deadline)
        return dt.datetime.max.replace(tzinfo=dt.UTC)
    return record.started_at + dt.timedelta(seconds=objective.timeout_s)


def find(flow: Flow, objective_id: str) -> Objective:
    return next(o for o in flow.objectives if o.id == objective_id)


def render(template: str, slots: dict[str, Any]) -> str:
    """``{slot}`` replaced by its value; unknown names stay as written (and a template
    with unbalanced braces is said as written)."""
    out = []
    try:
        for literal, name, spec, _conv in string.Formatter().parse(template):
            out.append(literal)
            if name is not None:
                known = slots.get(name)
                out.append(str(known) if known is not None
                           else "{" + name + (":" + spec if spec else "") + "}")
    except ValueError:
        return template
    return "".join(out)


def calls_for(record: ObjectiveCourse, turn_id: str) -> dict[str, CallRecord]:
    """The latest answered call of each role made on the turn (pending ones: not yet)."""
    return {c.role: c for c in record.calls if c.turn_id == turn_id and c.outcome != "pending"}


def text_of(turn: TurnReceived, calls: dict[str, CallRecord]) -> str | None:
    """The turn's words: its text, or what ``transcribe`` heard (``None``: not yet asked)."""
    if not turn.audio:
        return turn.text
    heard = calls.get("transcribe")
    if heard is None:
        return None
    return str(heard.value.get("text", "")) if isinstance(heard.value, dict) else ""


def attempt_of(record: ObjectiveCourse) -> int:
    last = record.last_prompt
    return last.attempt if last is not None else 1
