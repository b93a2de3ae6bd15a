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
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.course import ROLES, Role, parse_purpose, purpose_for
from orchestrator.decide import Step, decide
from orchestrator.flowfile import parse_flow
from orchestrator.state import ConversationState, fold
from schemas import events
from schemas.conversation import ObjectiveStart, Turn
from schemas.conversation_events import CONVERSATION_EVENTS, ObjectiveStarted, TurnReceived
from schemas.envelope import type_of

GOLDEN = Path(__file__).parent / "golden" / "conversations"
COURSE_TYPES = tuple(type_of(cls) for cls in CONVERSATION_EVENTS)
FIELDS = ("flow", "name", "version", "document", "language", "voice", "speak", "objectives",
          "objective", "primitive", "slot", "kind", "text", "attempt", "audio", "value",
          "confidence", "confirmed", "attempts", "code", "reason", "slots", "failed",
          "flow_version")
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
                          "abandoned_unavailable", "interrupted_at_confirmation", "hung_up"}


def test_a_restarted_driver_reads_the_turn_it_has_not_handled_and_what_it_confirms() -> None:
    state = fold(events.decode(body) for body in recorded("interrupted_at_confirmation"))
    course = state.course
    assert course is not None and course.status == "active" and course.current == "email"
    email = course.objectives["email"]
    assert email.confirming is not None and email.confirming.value == "john.smith@gmail.com"
    assert email.confirming.readback == "john dot smith at gmail dot com"
    assert course.last_objective == "email"
    assert email.last_prompt is not None and email.last_prompt.kind == "confirm"
    assert email.unhandled_turn is not None and email.unhandled_turn.text == "yes"
    assert email.unhandled_turn.prompt_id == email.last_prompt.id
    assert course.pending_turn == email.unhandled_turn and email.phase == "confirm"
    assert course.last_prompt_id == email.last_prompt.id == course.last_event_id
    done = fold(events.decode(body) for body in recorded("happy_path")).course
    assert done is not None and done.objectives["email"].unhandled_turn is None


def test_a_hang_up_is_the_callers_and_the_decision_on_it_is_the_recorded_end() -> None:
    """Folded, the caller's ``conversation.hung_up`` acts on no turn and is no orchestrator
    event; deciding on the events up to it gives exactly the events recorded after it."""
    recorded_events = [events.decode(body) for body in recorded("hung_up")]
    *before, failed, abandoned = recorded_events
    hang_up = before[-1]
    course = fold(before).course
    assert course is not None and course.hung_up == hang_up.id
    assert course.last_event_id == before[-2].id and course.step_cause == hang_up.id
    decision = decide(parse_flow(course.flow_document).flow, course, events.now())
    assert isinstance(decision, Step)
    assert decision.events == ((failed.event_type, failed.data),
                               (abandoned.event_type, abandoned.data))
    assert {failed.causation_id, abandoned.causation_id} == {hang_up.id}
    done = fold(recorded_events).course
    assert done is not None and (done.status, done.end_code) == ("abandoned", "HUNG_UP")


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


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                    | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.sampled_from(FIELDS), inner, max_size=4),
                    max_leaves=12)
"""Any JSON, its objects keyed by the names the course reads (so odd values reach it)."""


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(COURSE_TYPES), JSON, st.integers(0, 3)), max_size=12))
def test_the_course_folds_any_data_an_event_of_its_types_may_carry(
        steps: list[tuple[str, Any, int]]) -> None:
    """A hostile or future writer's data never breaks the fold: raw envelopes as a process
    reads types it cannot decode, causations naming earlier events or nothing."""
    bodies: list[events.EnvelopeOnly] = []
    for n, (type_, data, cause) in enumerate(steps):
        causation = bodies[-cause].id if 0 < cause <= len(bodies) else None
        bodies.append(events.EnvelopeOnly(
            type=type_, id=f"e{n}", conversation_id="c1", trace_id="t", causation_id=causation,
            occurred_at=None, producer="p", data=msgspec.Raw(msgspec.json.encode(data))))
    state = fold(bodies)
    assert state.asked == () and state.events == len(bodies)
    assert (state.course is None) == (not bodies)
    msgspec.json.encode(state)  # the state is always JSON (replay --json)


def test_a_late_answer_to_an_earlier_prompt_is_never_the_pending_turn() -> None:
    recorded_events = [events.decode(body) for body in recorded("interrupted_at_confirmation")]
    *before, yes = recorded_events  # the caller's yes to the read-back, not handled yet
    course = fold(before).course
    assert course is not None
    email = course.objectives["email"]
    first_ask = email.prompts[0]
    late = events.new_event(TurnReceived, conversation_id="crash8", trace_id="5e" * 16,
                            causation_id=first_ask.id, data=Turn(text="it is ann@example.com"))
    with_late = fold([*before, late]).course
    assert with_late is not None and with_late.pending_turn is None
    assert with_late.objectives["email"].turns[-1].text == "it is ann@example.com"  # kept
    both = fold([*before, late, yes]).course
    assert both is not None and both.pending_turn is not None
    assert both.pending_turn.id == yes.id
