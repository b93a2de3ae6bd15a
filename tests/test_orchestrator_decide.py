"""The next-step decision as a pure function: a conversation played without NATS.

:func:`play` performs what :func:`orchestrator.decide.decide` asks exactly as the driver
does (a ``Call`` runs the real capture parser on the turn, a ``Step``'s events are
applied to the progress fold), with a fixed clock, so every rule of the decision is
checked on its own; the real stack runs the same conversations in
``tests/test_orchestrator_stack.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import pytest

from core import captures
from orchestrator.decide import Call, Heard, Step, decide, render
from orchestrator.flow import Flow
from orchestrator.port import NO_MATCH, Outcome
from orchestrator.progress import Progress, capture_result
from schemas import conversation as cv
from schemas import conversation_events as ce
from schemas.envelope import Event
from schemas.events import new_event
from schemas.payloads import CaptureParams, PhoneParams
from tests.support.conversations import contact_flow, request

T0 = dt.datetime(2026, 12, 1, 22, 0, tzinfo=dt.UTC)
CLASSES = {c.__struct_config__.tag: c for c in ce.CONVERSATION_EVENTS}
PARSERS: dict[str, Any] = {"capture_email": (captures._email, CaptureParams),
                           "capture_phone": (captures._phone, PhoneParams),
                           "capture_confirmation": (captures._confirmation, CaptureParams)}


def run_primitive(primitive: str, text: str) -> Outcome:
    parse, params = PARSERS[primitive]
    result = parse(params(transcript=text))
    if result is None:
        return Outcome(False, code=NO_MATCH)
    return Outcome(True, msgspec.to_builtins(result))


def emit(progress: Progress, cls: type[Event], data: Any, cause: str | None = None) -> Event:
    event = new_event(cls, conversation_id="c1", trace_id="t1", data=data, causation_id=cause)
    progress.apply(event)
    return event


def play(document: str, script: list[str], *, now: dt.datetime = T0,
         primitive: Any = run_primitive) -> Progress:
    """Drive a conversation to its end (or until the script runs out)."""
    flow = msgspec.yaml.decode(document, type=Flow)
    progress = Progress()
    emit(progress, ce.ConversationRequested, request(document))
    heard: Heard | None = None
    for _ in range(200):
        decision = decide(flow, progress, heard, now)
        if isinstance(decision, Call):
            turn = progress.pending_turn
            assert turn is not None
            outcome = primitive(decision.primitive, turn.data.text)
            result = capture_result(outcome.data) if outcome.success else None
            if decision.role == "capture" and result is not None:
                progress.captured(decision.objective.id, result)
            base = heard if heard is not None and heard.turn_id == turn.id else Heard(turn.id)
            heard = (Heard(turn.id, outcome, base.confirmation) if decision.role == "capture"
                     else Heard(turn.id, base.capture, outcome))
            continue
        if decision.events:
            cause = progress.pending_turn.id if progress.pending_turn else None
            for event_type, data in decision.events:
                emit(progress, CLASSES[event_type], data, cause)
            continue
        if progress.ended or not script:
            return progress
        emit(progress, ce.TurnReceived, cv.Turn(text=script.pop(0)), progress.last_prompt_id)
    raise AssertionError("no end in 200 steps")


def kinds(progress: Progress, objective: str) -> list[str]:
    return [kind for o, kind, _ in progress.prompts if o == objective]


def test_happy_path_fills_every_slot_and_confirms_the_email() -> None:
    done = play(contact_flow(), ["john at gmail dot com", "yes", "415 555 2671"])
    assert done.ended and done.slots == {"email": "john@gmail.com", "phone": "+14155552671"}
    assert kinds(done, "email") == ["ask", "confirm"]
    assert kinds(done, "goodbye") == ["say"]


def test_no_match_climbs_the_ladder_then_a_spelled_email_is_taken() -> None:
    done = play(contact_flow(), ["I'd rather not say", "J O H N at gmail dot com", "yes",
                                 "415 555 2671"])
    assert done.slots["email"] == "john@gmail.com"
    assert kinds(done, "email") == ["ask", "reprompt", "confirm"]


def test_a_no_with_a_correction_confirms_the_new_value() -> None:
    """capture_confirmation reads "no, it's jane…" as a yes: the correction still wins."""
    done = play(contact_flow(), ["john at gmail dot com", "no, it's jane at example dot com",
                                 "yes", "415 555 2671"])
    assert done.slots["email"] == "jane@example.com"
    assert kinds(done, "email") == ["ask", "confirm", "confirm"]


def test_a_bare_no_asks_again() -> None:
    done = play(contact_flow(), ["john at gmail dot com", "no", "jane at example dot com",
                                 "yes", "415 555 2671"])
    assert done.slots["email"] == "jane@example.com"
    assert kinds(done, "email") == ["ask", "confirm", "reprompt", "confirm"]


@pytest.mark.parametrize(("on_failure", "ends"), [("continue", "completed"), ("end", "abandoned")])
def test_max_attempts_fails_the_objective_and_the_flow_decides(on_failure: str,
                                                               ends: str) -> None:
    done = play(contact_flow(on_failure), ["john at gmail dot com", "yes", "no idea",
                                           "still no idea"])
    assert done.ended and done.failed == ["phone"]
    assert kinds(done, "phone") == ["ask", "reprompt"]
    assert ("goodbye" in done.runs) is (ends == "completed")


def test_an_objective_past_its_timeout_fails() -> None:
    flow = msgspec.yaml.decode(contact_flow(), type=Flow)
    progress = play(contact_flow(), [])  # waits at the email question
    assert progress.run is not None and progress.run.id == "email"
    assert decide(flow, progress, None, progress.run.started_at) == Step()
    later = decide(flow, progress, None, progress.run.started_at + dt.timedelta(seconds=600))
    assert isinstance(later, Step)
    [(event_type, data)] = later.events
    assert event_type == "objective.failed" and data.code == "TIMEOUT"


def test_an_unreachable_core_says_the_fallback_and_abandons() -> None:
    done = play(contact_flow(), ["john at gmail dot com"],
                primitive=lambda *_: Outcome(False, code="UNAVAILABLE", reason="circuit open"))
    assert done.ended and done.failed == ["email"]
    assert done.prompts[-1][1] == "fallback"


def test_templates_keep_unknown_names_and_stray_braces() -> None:
    assert render("I have {email}, {name}.", {"email": "a@b.c"}) == "I have a@b.c, {name}."
