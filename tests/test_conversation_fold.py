"""The fold on recorded conversations (issue 12 item 2): golden event lists → golden state.

Each ``tests/golden/conversations/<name>.events.json`` is a conversation as the stream
holds it (the orchestrator's events, the caller's turns, the primitives' requests and
results); ``<name>.state.json`` is what :func:`orchestrator.state.fold` makes of it. The
same events folded as raw envelopes (how a process that does not know the types reads
them) and with every event delivered twice give the same state. After a deliberate change
to the fold, ``VOICECORE_REGOLD=1 pytest tests/test_conversation_fold.py`` rewrites the
states: review their diff before committing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import msgspec
import pytest

from orchestrator.course import ROLES, Role, parse_purpose, purpose_for
from orchestrator.state import ConversationState, fold
from schemas import events
from schemas.conversation import ObjectiveStart
from schemas.conversation_events import ObjectiveStarted

GOLDEN = Path(__file__).parent / "golden" / "conversations"
NAMES = sorted(p.name.removesuffix(".events.json") for p in GOLDEN.glob("*.events.json"))


def recorded(name: str) -> list[bytes]:
    listed = json.loads((GOLDEN / f"{name}.events.json").read_text())
    return [json.dumps(event).encode() for event in listed]


def as_json(state: ConversationState) -> Any:
    """The state as its JSON reads back (tuples as lists, times as text)."""
    return {"outcome": state.outcome, **msgspec.json.decode(msgspec.json.encode(state))}


@pytest.mark.parametrize("name", NAMES)
def test_the_fold_of_a_recorded_conversation_is_its_golden_state(name: str) -> None:
    state = as_json(fold(events.decode(body) for body in recorded(name)))
    expected = GOLDEN / f"{name}.state.json"
    if os.environ.get("VOICECORE_REGOLD"):
        expected.write_text(json.dumps(state, indent=1, ensure_ascii=False) + "\n")
    assert state == json.loads(expected.read_text())


@pytest.mark.parametrize("name", NAMES)
def test_raw_envelopes_and_redelivered_events_fold_the_same(name: str) -> None:
    bodies = recorded(name)
    typed = fold(events.decode(body) for body in bodies)
    raw = fold(events.decode_envelope(body) for body in bodies)
    twice = fold(events.decode(body) for body in bodies for _ in range(2))
    assert raw == typed
    assert twice == typed


def test_every_scenario_the_brief_names_is_recorded() -> None:
    assert set(NAMES) >= {"happy_path", "no_match_reprompt", "confirmation_no_then_correction",
                          "max_attempts_continue", "max_attempts_end", "max_attempts_goto",
                          "abandoned_unavailable", "interrupted_at_confirmation"}


def test_a_restarted_driver_reads_the_turn_it_has_not_handled_and_what_it_confirms() -> None:
    state = fold(events.decode(body) for body in recorded("interrupted_at_confirmation"))
    course = state.course
    assert course is not None and course.status == "active" and course.current == "email"
    email = course.objectives["email"]
    assert email.confirming is not None and email.confirming.value == "john.smith@gmail.com"
    assert email.last_prompt is not None and email.last_prompt.kind == "confirm"
    assert email.unhandled_turn is not None and email.unhandled_turn.text == "yes"
    assert email.unhandled_turn.prompt_id == email.last_prompt.id
    assert course.pending_turn == email.unhandled_turn and email.phase == "confirm"
    assert course.last_prompt_id == email.last_prompt.id == course.last_event_id
    done = fold(events.decode(body) for body in recorded("happy_path")).course
    assert done is not None and done.objectives["email"].unhandled_turn is None


def test_a_conversation_without_orchestrator_events_has_no_course() -> None:
    primitives_only = [b for b in recorded("happy_path") if b'"type": "capture_' in b]
    state = fold(events.decode(body) for body in primitives_only)
    assert state.course is None and state.asked


@pytest.mark.parametrize("role", ROLES)
def test_a_purpose_names_its_objective_and_role(role: Role) -> None:
    assert parse_purpose(purpose_for("callback_date", role)) == ("callback_date", role)


@pytest.mark.parametrize("purpose", ["", "billing email", "objective:", "objective:x:sing"])
def test_any_other_purpose_names_no_objective(purpose: str) -> None:
    assert parse_purpose(purpose) is None


def test_a_goto_back_starts_a_new_run_that_keeps_the_earlier_ones_history() -> None:
    earlier = [events.decode(body) for body in recorded("interrupted_at_confirmation")]
    again = events.new_event(ObjectiveStarted, conversation_id="crash8", trace_id="5e" * 16,
                             causation_id=earlier[-1].id,
                             data=ObjectiveStart(objective="email", primitive="capture_email",
                                                 slot="email"))
    before = fold(earlier).course
    after = fold([*earlier, again]).course
    assert before is not None and after is not None
    old, new = before.objectives["email"], after.objectives["email"]
    assert (old.runs, old.phase, old.attempts) == (1, "confirm", 1)
    assert old.latest_capture is not None and old.latest_capture.readback == \
        "john dot smith at gmail dot com"
    assert (new.runs, new.phase, new.attempts, new.confirming) == (2, "", 0, None)
    assert new.latest_capture is None and new.unhandled_turn is None
    assert new.prompts == old.prompts and new.calls == old.calls  # the history stays
    assert after.last_event_id == again.id and after.pending_turn is None
