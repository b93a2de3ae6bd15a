"""The log's two views of a conversation are one rule: the SQL views equal the fold.

Generated histories (hypothesis) go through the real row building and the real
store into a real DuckDB; then every column of ``conversations`` and of
``primitive_executions`` must equal what the fold of ``conversation_events`` (what
``voicecore replay`` shows) says, on every conversation and every request. Histories
hold unanswered requests, failures, retries, duplicate and early answers, answers
from another conversation, purposes and failure codes that are missing, null or not
strings, undecodable rows, bodies that disagree with their subject, missing times,
redactions, and the orchestrator's own events (``conversation.requested``,
``conversation.completed``, ``objective.failed``, …: never requests or results, even
when their causation names a request and their data looks like one). The fixed examples
make a rule changed on one side only fail every run, not only when hypothesis happens to
find the history that shows it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import msgspec
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.eventlog import reading
from core.eventlog.store import LogStore
from orchestrator.replay import replay_state
from orchestrator.request_records import Captured, Failed
from orchestrator.state import ConversationState
from orchestrator.views import VIEWS
from schemas.conversation_events import CONVERSATION_EVENTS
from schemas.envelope import type_of
from tests.samples import DATA

CONVERSATIONS = ("c1", "c2")
PRIMITIVES = ("capture_email", "sleepy")
TIMES = (None, "2026-11-23T10:00:00Z", "2026-11-23T10:00:01.5Z", "2026-11-24T00:00:00Z")
CODES = ("NO_MATCH", "INVALID_PARAMS", "PRIMITIVE_FAILED", "TIMEOUT")
GARBAGE_ON = ("capture_email.requested", "sleepy.requested", "eventlog.redacted")
MISSING = "<missing>"
ODD = (MISSING, None, 7, ["a"])
"""Values a purpose or a failure code may hold in a body that is not the typed event's."""
COURSE_CLASSES = {type_of(cls): cls for cls in CONVERSATION_EVENTS}
COURSE_TYPES = tuple(COURSE_CLASSES)
LOOKALIKE = {"params": {"transcript": "t"}, "purpose": "p", "value": "v", "code": "NO_MATCH",
             "message": "m"}
"""Data of an orchestrator event shaped like a request's and a result's."""


def request_id(n: int) -> str:
    return f"019ab1f2-0000-7000-8000-{n:012d}"


@dataclass
class History:
    """Stream messages (and redactions) in order; ``apply`` stores them in a log."""

    steps: list[tuple[str, Any]] = field(default_factory=list)
    seq: int = 0
    results: int = 0

    def message(self, subject: str, body: bytes) -> None:
        self.seq += 1
        self.steps.append(("message", (self.seq, subject, body, None)))

    def event(self, conversation: str, type_: str, subject_conversation: str | None = None,
              **fields: Any) -> None:
        body = {"type": type_, "conversation_id": conversation, "trace_id": "t", **fields}
        self.message(f"vc.ev.{subject_conversation or conversation}.{type_}",
                     json.dumps(body).encode())

    def course(self, conversation: str, type_: str, n: int, shape: str) -> None:
        """An orchestrator event whose causation is request ``n`` (so it looks like its
        answer), with the typed sample data, data shaped like a request's and a result's,
        or data that is no object."""
        data = {"typed": msgspec.to_builtins(DATA[COURSE_CLASSES[type_]]),
                "lookalike": LOOKALIKE}.get(shape, ["not", "an object"])
        self.event(conversation, type_, id=f"course-{self.seq}", causation_id=request_id(n),
                   occurred_at=TIMES[1], data=data)

    def request(self, conversation: str, n: int, primitive: str, at: str | None,
                purpose: Any = "p") -> None:
        data = with_field({"params": {"transcript": f"request {n}"}}, "purpose", purpose)
        self.event(conversation, f"{primitive}.requested", id=request_id(n), occurred_at=at,
                   trace_id=f"t{n}", data=data)

    def answer(self, conversation: str, n: int, primitive: str, code: Any,
               at: str | None, attempt: int = 1) -> None:
        """``code`` None: completed; else failed with that code (``ODD`` ones included)."""
        self.results += 1
        kind = "completed" if code is None else "failed"
        data = ({"value": f"v{n}", "confidence": 0.9, "code": "not a failure"} if code is None
                else with_field({"message": "m", "retryable": False}, "code", code))
        self.event(conversation, f"{primitive}.{kind}", id=f"result-{self.results}",
                   causation_id=request_id(n), occurred_at=at, attempt=attempt, data=data)


def with_field(data: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    return data if value == MISSING else {**data, key: value}


step = st.one_of(
    st.tuples(st.just("request"), st.sampled_from(CONVERSATIONS), st.integers(0, 7),
              st.sampled_from(PRIMITIVES), st.sampled_from(TIMES),
              st.sampled_from(("p", "", *ODD))),
    st.tuples(st.just("answer"), st.sampled_from(CONVERSATIONS), st.integers(0, 7),
              st.sampled_from(PRIMITIVES), st.one_of(st.none(), st.sampled_from(CODES + ODD)),
              st.sampled_from(TIMES), st.integers(1, 3)),
    st.tuples(st.just("garbage"), st.sampled_from(CONVERSATIONS), st.sampled_from(GARBAGE_ON)),
    st.tuples(st.just("mismatch"), st.sampled_from(CONVERSATIONS), st.integers(0, 7)),
    st.tuples(st.just("redact"), st.sampled_from(CONVERSATIONS)),
    st.tuples(st.just("course"), st.sampled_from(CONVERSATIONS), st.sampled_from(COURSE_TYPES),
              st.integers(0, 7), st.sampled_from(("typed", "lookalike", "scalar"))),
)


def build(steps: list[tuple[Any, ...]]) -> History:
    history = History()
    for kind, *args in steps:
        if kind == "request":
            history.request(*args)
        elif kind == "answer":
            history.answer(*args)
        elif kind == "course":
            history.course(*args)
        elif kind == "garbage":  # undecodable body on a request's or a redaction's subject
            conversation, type_ = args
            history.message(f"vc.ev.{conversation}.{type_}", b"\x00{not json")
        elif kind == "mismatch":  # a request body naming the other conversation
            conversation, n = args
            other = next(c for c in CONVERSATIONS if c != conversation)
            history.event(other, "capture_email.requested", subject_conversation=conversation,
                          id=f"forged-{history.seq}-{n}", data={"params": {}})
        else:
            history.steps.append(("redact", args[0]))
    return history


def store(history: History) -> LogStore:
    log = LogStore(duckdb.connect(), Path(":memory:"), VIEWS)
    batch: list[tuple[int, str, bytes, None]] = []
    for kind, item in [*history.steps, ("redact", None)]:
        if kind == "message":
            batch.append(item)
            continue
        log.apply(batch)
        batch = []
        if item is not None and reading.count(log.con, conversation_id=item):
            log.redact(item, "test")
    return log


def as_listed(state: ConversationState) -> dict[str, Any]:
    """The fold's state in the shape of a ``conversations`` row."""
    return {"conversation_id": state.conversation_id, "first_at": state.first_at,
            "last_at": state.last_at, "events": state.events,
            "primitives": sorted({a.primitive for a in state.asked}),
            "requests": len(state.asked), "outcome": state.outcome,
            "redacted": state.redactions > 0, "unreadable": state.unreadable,
            "status": state.course and state.course.status}


def as_executions(state: ConversationState,
                  seqs: dict[str, int]) -> dict[str, dict[str, Any]]:
    """The fold's requests in the shape of ``primitive_executions`` rows, by request id
    (``seqs``: each event's stream sequence, which only the log knows)."""
    results: dict[str, Captured | Failed] = {c.request_id: c for c in state.captured}
    results |= {f.request_id: f for f in state.failed}
    found = {}
    for asked in state.asked:
        result = results.get(asked.request_id)
        answered_at = None if result is None else result.at
        found[asked.request_id] = {
            "conversation_id": state.conversation_id, "primitive": asked.primitive,
            "request_id": asked.request_id, "request_seq": seqs[asked.request_id],
            "trace_id": asked.trace_id, "requested_at": asked.at, "purpose": asked.purpose,
            "result_id": result and result.result_id,
            "result_seq": result and seqs[result.result_id],
            "answered_at": answered_at,
            "outcome": ("pending" if result is None
                        else "failed" if isinstance(result, Failed) else "completed"),
            "attempt": result and result.attempt,
            "failure_code": result.code if isinstance(result, Failed) else None,
            "duration_ms": duration_ms(asked.at, answered_at)}
    return found


def duration_ms(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start) / dt.timedelta(microseconds=1) / 1000.0


def check(log: LogStore) -> None:
    con = log.con
    listed = reading.conversations(con).to_pylist()
    executions = reading.query(con, "SELECT * FROM primitive_executions").to_pylist()
    for row in listed:
        cid = row["conversation_id"]
        table = reading.conversation_events(con, cid)
        state = replay_state(table, cid)
        assert as_listed(state) == row
        seqs = dict(zip(table.column("id").to_pylist(), table.column("seq").to_pylist(),
                        strict=True))
        assert as_executions(state, seqs) == {e["request_id"]: e for e in executions
                                              if e["conversation_id"] == cid}


RETRIED = [("request", "c1", 0, "capture_email", TIMES[1], "p"),
           ("answer", "c1", 0, "capture_email", "NO_MATCH", TIMES[1], 1),
           ("request", "c1", 1, "capture_email", TIMES[2], "p"),
           ("answer", "c1", 1, "capture_email", None, TIMES[2], 2)]
"""A failure, then the primitive asked again and answered: ``completed``."""
STILL_FAILING = [RETRIED[2], RETRIED[3], RETRIED[0], RETRIED[1]]
"""The same, the other way round: the latest request failed: ``failed``."""
CROSSED = [("answer", "c2", 0, "sleepy", None, TIMES[0], 1),
           ("request", "c1", 0, "sleepy", TIMES[1], MISSING),
           ("answer", "c2", 0, "sleepy", "TIMEOUT", TIMES[1], 1),
           ("request", "c2", 1, "sleepy", None, 7),
           ("answer", "c2", 1, "sleepy", None, TIMES[2], 3),
           ("answer", "c2", 1, "sleepy", "NO_MATCH", TIMES[3], 1),
           ("garbage", "c2", "sleepy.requested"), ("garbage", "c1", "eventlog.redacted"),
           ("redact", "c2")]
"""Early, foreign and duplicate answers; a purpose missing and not a string; a redaction,
and an undecodable message on a redaction's subject (no redaction)."""
ORCHESTRATED = [("course", "c1", "conversation.requested", 0, "typed"),
                ("course", "c1", "conversation.requested", 1, "lookalike"),
                ("course", "c1", "conversation.started", 1, "typed"),
                ("request", "c1", 0, "capture_email", TIMES[1], "objective:email"),
                ("course", "c1", "objective.failed", 0, "lookalike"),
                ("course", "c1", "conversation.completed", 0, "typed"),
                ("course", "c1", "conversation.started", 1, "typed"),
                ("course", "c2", "conversation.abandoned", 3, "lookalike"),
                ("course", "c2", "conversation.completed", 3, "scalar")]
"""The orchestrator's events, typed and shaped like requests and answers: none is one (the
request stays open; c2 asked nothing); a late start reopens nothing, an ending whose data is
no object ends nothing."""
ODD_FAILURES = [("request", "c1", n, "sleepy", TIMES[1], None) for n in range(4)] + [
    ("answer", "c1", n, "sleepy", code, TIMES[2], 1) for n, code in enumerate(ODD)]
"""Failure codes missing, null, a number, a list (not the typed event's data)."""


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, max_size=24))
@example(RETRIED)
@example(STILL_FAILING)
@example(CROSSED)
@example(ODD_FAILURES)
@example(ORCHESTRATED)
def test_the_sql_views_equal_the_fold(steps: list[tuple[Any, ...]]) -> None:
    log = store(build(steps))
    try:
        check(log)
    finally:
        log.close()


def test_an_unanswered_request_keeps_the_conversation_open_in_both_views() -> None:
    """Issue 7 item 9: a request never answered, then a later one completed."""
    first = "2026-11-23T10:00:00Z"
    log = store(build([("request", "c1", 0, "capture_email", first),
                       ("request", "c1", 1, "capture_email", first),
                       ("answer", "c1", 1, "capture_email", None, first)]))
    try:
        check(log)
        [row] = reading.conversations(log.con).to_pylist()
        assert row["outcome"] == "open"
        assert row["first_at"] == dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)
    finally:
        log.close()


def test_a_dead_lettered_request_is_closed_and_a_garbage_row_is_no_request() -> None:
    """Issue 7 item 8: answered INVALID_PARAMS → failed; undecodable → not a request."""
    log = store(build([("request", "c1", 0, "capture_email", None),
                       ("answer", "c1", 0, "capture_email", "INVALID_PARAMS", None),
                       ("garbage", "c2", "capture_email.requested")]))
    try:
        check(log)
        outcomes = {r["conversation_id"]: r["outcome"]
                    for r in reading.conversations(log.con).to_pylist()}
        assert outcomes == {"c1": "failed", "c2": "no requests"}
    finally:
        log.close()


def test_the_orchestrators_events_are_no_requests_nor_results_in_either_view() -> None:
    """Issue 12: ``conversation.requested`` is no request, ``conversation.completed`` no
    result, even with a request's id as causation and data shaped like one."""
    log = store(build(ORCHESTRATED))
    try:
        check(log)
        outcomes = {r["conversation_id"]: (r["outcome"], r["requests"], r["status"])
                    for r in reading.conversations(log.con).to_pylist()}
        assert outcomes == {"c1": ("open", 1, "completed"), "c2": ("no requests", 0, "abandoned")}
    finally:
        log.close()
