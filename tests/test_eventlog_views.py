"""The log's two views of a conversation are one rule: the SQL views equal the fold.

Generated histories (hypothesis) go through the real row building and the real
store into a real DuckDB; then ``conversations``/``primitive_executions`` and the
fold of ``conversation_events`` (what ``voicecore replay`` shows) must agree on
every conversation: outcome, requests, primitives, entries, times, redaction, and
each request's outcome. Histories hold unanswered requests, failures, retries,
duplicate and early answers, answers from another conversation, undecodable
rows, bodies that disagree with their subject, missing times and redactions.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.eventlog import reading
from core.eventlog.store import LogStore
from orchestrator.replay import replay_state
from orchestrator.state import ConversationState
from orchestrator.views import VIEWS

CONVERSATIONS = ("c1", "c2")
PRIMITIVES = ("capture_email", "sleepy")
TIMES = (None, "2026-11-23T10:00:00Z", "2026-11-23T10:00:01.5Z", "2026-11-24T00:00:00Z")
CODES = ("NO_MATCH", "INVALID_PARAMS", "PRIMITIVE_FAILED", "TIMEOUT")


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

    def request(self, conversation: str, n: int, primitive: str, at: str | None) -> None:
        self.event(conversation, f"{primitive}.requested", id=request_id(n), occurred_at=at,
                   data={"params": {"transcript": f"request {n}"}, "purpose": "p"})

    def answer(self, conversation: str, n: int, primitive: str, code: str | None,
               at: str | None) -> None:
        self.results += 1
        kind = "completed" if code is None else "failed"
        data = ({"value": f"v{n}", "confidence": 0.9} if code is None
                else {"code": code, "message": "m", "retryable": False})
        self.event(conversation, f"{primitive}.{kind}", id=f"result-{self.results}",
                   causation_id=request_id(n), occurred_at=at, data=data)


step = st.one_of(
    st.tuples(st.just("request"), st.sampled_from(CONVERSATIONS), st.integers(0, 7),
              st.sampled_from(PRIMITIVES), st.sampled_from(TIMES)),
    st.tuples(st.just("answer"), st.sampled_from(CONVERSATIONS), st.integers(0, 7),
              st.sampled_from(PRIMITIVES), st.one_of(st.none(), st.sampled_from(CODES)),
              st.sampled_from(TIMES)),
    st.tuples(st.just("garbage"), st.sampled_from(CONVERSATIONS), st.sampled_from(PRIMITIVES)),
    st.tuples(st.just("mismatch"), st.sampled_from(CONVERSATIONS), st.integers(0, 7)),
    st.tuples(st.just("redact"), st.sampled_from(CONVERSATIONS)),
)


def build(steps: list[tuple[Any, ...]]) -> History:
    history = History()
    for kind, *args in steps:
        if kind == "request":
            history.request(*args)
        elif kind == "answer":
            history.answer(*args)
        elif kind == "garbage":  # undecodable body on a request subject
            conversation, primitive = args
            history.message(f"vc.ev.{conversation}.{primitive}.requested", b"\x00{not json")
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
            "redacted": state.redactions > 0, "unreadable": state.unreadable}


def per_request(state: ConversationState) -> dict[str, tuple[str, str | None]]:
    found: dict[str, tuple[str, str | None]] = {a: ("pending", None) for a in state.pending}
    found |= {c.request_id: ("completed", c.result_id) for c in state.captured}
    found |= {f.request_id: ("failed", f.result_id) for f in state.failed}
    return found


def check(log: LogStore) -> None:
    con = log.con
    listed = reading.conversations(con).to_pylist()
    executions = reading.query(con, "SELECT conversation_id, request_id, outcome, result_id "
                                    "FROM primitive_executions").to_pylist()
    for row in listed:
        cid = row["conversation_id"]
        state = replay_state(reading.conversation_events(con, cid), cid)
        assert as_listed(state) == row
        assert per_request(state) == {e["request_id"]: (e["outcome"], e["result_id"])
                                      for e in executions if e["conversation_id"] == cid}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, max_size=24))
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
                       ("garbage", "c2", "capture_email")]))
    try:
        check(log)
        outcomes = {r["conversation_id"]: r["outcome"]
                    for r in reading.conversations(log.con).to_pylist()}
        assert outcomes == {"c1": "failed", "c2": "no requests"}
    finally:
        log.close()
