"""The next-step decision as a pure function: a conversation played without NATS.

:func:`play` performs what :func:`orchestrator.decide.decide` asks exactly as the driver
does (a ``Call`` runs the real capture parser on the turn, a ``Step``'s events are
applied to the progress fold), with a fixed clock, so every rule of the decision is
checked on its own; the real stack runs the same conversations in
``tests/test_orchestrator_stack.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from core import captures
from orchestrator.course import Course, purpose_for
from orchestrator.decide import Call, Step, decide
from orchestrator.flowfile import parse_flow
from orchestrator.port import NO_MATCH, Outcome
from orchestrator.reading import render
from orchestrator.state import Folder
from schemas import conversation as cv
from schemas import ids
from schemas.envelope import Event
from schemas.events import decode, now
from schemas.payloads import CaptureParams, PhoneParams
from tests.support.conversations import contact_flow, request

PARSERS: dict[str, Any] = {"capture_email": (captures._email, CaptureParams),
                           "capture_phone": (captures._phone, PhoneParams),
                           "capture_confirmation": (captures._confirmation, CaptureParams)}


def event(type_: str, data: Any, cause: str | None = None) -> Event:
    """A typed event, through the one codec (as the stream delivers it)."""
    return decode(msgspec.json.encode({
        "type": type_, "id": ids.uuid7(), "conversation_id": "c1", "trace_id": "t1",
        "causation_id": cause, "occurred_at": now(), "data": msgspec.to_builtins(data)}))


def run_primitive(call: Call, folder: Folder) -> Outcome:
    """The real capture parser on the call's words, its request and result folded."""
    parse, params = PARSERS[call.primitive]
    request = event(f"{call.primitive}.requested", {
        "params": {"transcript": call.text},
        "purpose": purpose_for(call.objective.id, call.role)})
    result = parse(params(transcript=call.text))
    answer = (event(f"{call.primitive}.completed", result, request.id) if result is not None
              else event(f"{call.primitive}.failed", {"code": NO_MATCH, "message": "none",
                                                      "retryable": True}, request.id))
    folder.apply(request)
    folder.apply(answer)
    return Outcome(result is not None, request_id=request.id, result_id=answer.id)


HANG_UP = "<the caller hangs up>"
"""A script entry: the caller's side publishes ``conversation.hung_up`` instead of a turn."""


def hang_up(course: Course) -> Event:
    return event("conversation.hung_up", cv.HangUp(reason="end of input"),
                 course.last_prompt_id or course.request_id)


def play(document: str, script: list[str], *,
         primitive: Callable[[Call, Folder], Outcome] = run_primitive,
         folder: Folder | None = None) -> Course:
    """Drive a conversation as the driver does, until it ends or the script runs out."""
    flow = parse_flow(document).flow
    folder = folder or Folder("c1")
    folder.apply(event("conversation.requested", request(document)))
    off_record: Outcome | None = None
    for _ in range(200):
        course = folder.course.state()
        assert course is not None
        decision = decide(flow, course, now(), off_record)
        if isinstance(decision, Call):
            outcome = primitive(decision, folder)
            off_record = None if outcome.request_id else outcome
            continue
        if decision.events:
            for event_type, data in decision.events:
                folder.apply(event(event_type, data, course.step_cause))
            off_record = None
            continue
        if course.status in ("completed", "abandoned") or not script:
            return course
        said = script.pop(0)
        if said == HANG_UP:
            folder.apply(hang_up(course))
            continue
        folder.apply(event("turn.received", cv.Turn(text=said), course.last_prompt_id))
    raise AssertionError("no end in 200 steps")


class Interrupted(Exception):
    """The driver died here."""


def kinds(course: Course, objective: str) -> list[str]:
    return [p.kind for p in course.objectives[objective].prompts]


def roles(course: Course, objective: str) -> list[str]:
    return [c.role for c in course.objectives[objective].calls]


def test_happy_path_fills_every_slot_and_confirms_the_email() -> None:
    done = play(contact_flow(), ["john at gmail dot com", "yes", "415 555 2671"])
    assert done.status == "completed"
    assert done.slots == {"email": "john@gmail.com", "phone": "+14155552671"}
    assert kinds(done, "email") == ["ask", "confirm"]
    assert kinds(done, "goodbye") == ["say"]
    assert roles(done, "email") == ["capture", "confirm"]  # a yes needs no second capture


def test_no_match_climbs_the_ladder_then_a_spelled_email_is_taken() -> None:
    done = play(contact_flow(), ["I'd rather not say", "J O H N at gmail dot com", "yes",
                                 "415 555 2671"])
    assert done.slots["email"] == "john@gmail.com"
    assert kinds(done, "email") == ["ask", "reprompt", "confirm"]


def test_a_no_with_a_correction_confirms_the_new_value() -> None:
    """A "no" with a value: the objective's primitive reads the same words."""
    done = play(contact_flow(), ["john at gmail dot com", "no, it's jane at example dot com",
                                 "yes", "415 555 2671"])
    assert done.slots["email"] == "jane@example.com"
    assert kinds(done, "email") == ["ask", "confirm", "confirm"]
    assert roles(done, "email") == ["capture", "confirm", "capture", "confirm"]


def test_an_uncertain_yes_with_a_new_value_is_read_back() -> None:
    """capture_confirmation hears a yes at 0.6 in "no, that's right, it's jane…" (the
    evaluation outranks the "no"): uncertain, so the primitive reads the words too."""
    done = play(contact_flow(), ["john at gmail dot com",
                                 "no, that's right, it's jane at example dot com",
                                 "yes", "415 555 2671"])
    assert done.slots["email"] == "jane@example.com"
    assert roles(done, "email") == ["capture", "confirm", "capture", "confirm"]


def test_a_correction_without_a_yes_or_no_is_read_back() -> None:
    done = play(contact_flow(), ["john at gmail dot com", "it's jane at example dot com",
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
    assert done.status == ends and done.objectives["phone"].status == "failed"
    assert done.failed == (("phone",) if ends == "completed" else ())
    assert kinds(done, "phone") == ["ask", "reprompt"]
    assert done.objectives["goodbye"].runs == (ends == "completed")


def test_an_objective_past_its_timeout_fails() -> None:
    flow = parse_flow(contact_flow()).flow
    course = play(contact_flow(), [])  # waits at the email question
    record = course.objectives["email"]
    assert record.started_at is not None and record.status == "active"
    assert decide(flow, course, record.started_at) == Step()
    later = decide(flow, course, record.started_at + dt.timedelta(seconds=600))
    assert isinstance(later, Step)
    [(event_type, data)] = later.events
    assert event_type == "objective.failed" and data.code == "TIMEOUT"


def test_an_unreachable_core_says_the_fallback_and_abandons() -> None:
    done = play(contact_flow(), ["john at gmail dot com"],
                primitive=lambda *_: Outcome(False, code="UNAVAILABLE", reason="circuit open"))
    assert (done.status, done.end_code) == ("abandoned", "UNAVAILABLE")
    assert done.objectives["email"].failure_code == "UNAVAILABLE"
    assert kinds(done, "email") == ["ask", "fallback"]


def test_a_rebuilt_course_calls_nothing_already_answered() -> None:
    """The events of a conversation interrupted after the capture of the answer: deciding
    on them asks for the read-back, not for the capture again."""
    flow = parse_flow(contact_flow()).flow
    folder = Folder("c1")

    def crash(call: Call, folder: Folder) -> Outcome:
        run_primitive(call, folder)
        raise Interrupted

    with pytest.raises(Interrupted):
        play(contact_flow(), ["john at gmail dot com"], primitive=crash, folder=folder)
    course = folder.course.state()
    assert course is not None
    record = course.objectives["email"]
    assert [c.role for c in record.calls] == ["capture"] and record.unhandled_turn is not None
    decision = decide(flow, course, now())
    assert isinstance(decision, Step)
    assert [(t, d.kind) for t, d in decision.events] == [("prompt.spoken", "confirm")]


def test_a_caller_who_hangs_up_ends_the_conversation_at_once() -> None:
    done = play(contact_flow(), [HANG_UP])
    assert (done.status, done.end_code, done.slots) == ("abandoned", "HUNG_UP", {})
    assert done.objectives["email"].failure_code == "HUNG_UP"
    assert kinds(done, "email") == ["ask"] and done.objectives["phone"].runs == 0


def test_a_hang_up_keeps_what_was_captured_and_is_the_cause_of_the_end() -> None:
    done = play(contact_flow(), ["john at gmail dot com", "yes", HANG_UP])
    assert (done.status, done.end_code) == ("abandoned", "HUNG_UP")
    assert done.slots == {"email": "john@gmail.com"}
    assert done.objectives["email"].status == "completed"
    assert done.objectives["phone"].failure_code == "HUNG_UP"
    assert done.last_event_id != done.hung_up and done.step_cause == done.hung_up


def test_a_hang_up_before_the_conversation_started_abandons_it() -> None:
    flow = parse_flow(contact_flow()).flow
    folder = Folder("c1")
    folder.apply(event("conversation.requested", request(contact_flow())))
    course = folder.course.state()
    assert course is not None
    folder.apply(hang_up(course))
    decision = decide(flow, folder.course.state(), now())
    assert isinstance(decision, Step)
    assert [(t, d.code) for t, d in decision.events] == [("conversation.abandoned", "HUNG_UP")]


def test_a_hang_up_during_a_primitive_call_is_decided_on_next() -> None:
    """The driver folds a hang-up before its next decision, even mid-step: the capture's
    result is kept, and no read-back is spoken to nobody."""
    def hung_up_meanwhile(call: Call, folder: Folder) -> Outcome:
        course = folder.course.state()
        assert course is not None
        folder.apply(hang_up(course))
        return run_primitive(call, folder)

    done = play(contact_flow(), ["john at gmail dot com"], primitive=hung_up_meanwhile)
    assert (done.status, done.end_code) == ("abandoned", "HUNG_UP")
    assert kinds(done, "email") == ["ask"] and roles(done, "email") == ["capture"]


def test_templates_keep_unknown_names_and_stray_braces() -> None:
    assert render("I have {email}, {name}.", {"email": "a@b.c"}) == "I have a@b.c, {name}."
    assert render("odd { brace", {}) == "odd { brace"
