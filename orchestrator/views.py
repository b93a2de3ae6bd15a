"""The log's views of the conversation model, built from the fold's own definitions.

The event log (``core.eventlog``) stores rows and keeps the view that needs no
conversation model (``events``). Pairing requests with results
(``primitive_executions``) and deciding a conversation's outcome (``conversations``)
are the orchestrator's rule (:mod:`orchestrator.state`): so both views are built here,
from the kinds, outcomes, redaction type and :data:`~orchestrator.state.OUTCOME_RULE`
defined there, and handed to the log by whoever opens it for writing from above
(``voicecore``): the core never imports the orchestrator. SQL cannot run the fold, so
``tests/test_eventlog_views.py`` holds every column of both views equal to the fold on
generated histories. ``usage`` (what speech calls consumed) reads the results the same
model calls results: readable ``completed`` events.
"""

from __future__ import annotations

from core.eventlog.schema import READABLE
from orchestrator.course_fold import ENDINGS, STARTED
from orchestrator.state import (
    COMPLETED,
    FAILED,
    NO_REQUESTS,
    OUTCOME_RULE,
    PENDING,
    REDACTION_TYPE,
    REQUESTED,
    RESULT_KINDS,
)
from schemas.conversation_events import CONVERSATION_SOURCES


def _sql_text(json_path: str) -> str:
    """A JSON string at ``json_path`` of ``data`` as itself, any other value as ``''``
    (the fold's ``_text``)."""
    return (f"CASE WHEN json_type(data, '{json_path}') = 'VARCHAR' "
            f"THEN json_extract_string(data, '{json_path}') ELSE '' END")


_NOT_PRIMITIVES = ", ".join(f"'{source}'" for source in sorted(CONVERSATION_SOURCES))
"""The orchestrator's sources as a SQL list: their events are never requests or results."""

PRIMITIVE_EXECUTIONS = f"""CREATE OR REPLACE VIEW primitive_executions AS
    WITH entries AS (SELECT seq, sub, id, source, kind, conversation_id, trace_id, causation_id,
                            occurred_at, attempt, data FROM log_events
                     WHERE {READABLE} AND source NOT IN ({_NOT_PRIMITIVES})),
    requests AS (SELECT *, {_sql_text('$.purpose')} AS purpose FROM entries
                 WHERE kind = '{REQUESTED}'),
    results AS (SELECT *, CASE WHEN kind = '{FAILED}' THEN {_sql_text('$.code')} END AS code
                FROM entries WHERE kind IN {RESULT_KINDS!r})
    SELECT q.conversation_id, q.source AS primitive, q.id AS request_id, q.seq AS request_seq,
           q.trace_id, q.occurred_at AS requested_at, q.purpose,
           r.id AS result_id, r.seq AS result_seq, r.occurred_at AS answered_at,
           coalesce(r.kind, '{PENDING}') AS outcome, r.attempt, r.code AS failure_code,
           (epoch_us(r.occurred_at) - epoch_us(q.occurred_at)) / 1000.0 AS duration_ms
    FROM requests q
    LEFT JOIN results r ON r.causation_id = q.id AND r.conversation_id = q.conversation_id
        AND (r.seq > q.seq OR (r.seq = q.seq AND r.sub > q.sub))
    QUALIFY row_number() OVER (PARTITION BY q.id ORDER BY r.seq, r.sub) = 1"""


def _outcome_case() -> str:
    """The conversation outcome as SQL, from the fold's own rule (``orchestrator.state``)."""
    whens = " ".join(f"WHEN coalesce(any_value(a.{fact}), false) THEN '{outcome}'"
                     for outcome, fact in OUTCOME_RULE)
    return f"CASE {whens} ELSE '{NO_REQUESTS}' END"


def _status_case() -> str:
    """The course's status as SQL, from the fold's rule (``orchestrator.course_fold``)."""
    course = f"{READABLE} AND e.source IN ({_NOT_PRIMITIVES})"
    fact = f"{course} AND json_type(e.data) = 'OBJECT'"
    endings = ", ".join(f"'{t}'" for t in ENDINGS)
    whens = " ".join(f"WHEN arg_max(e.type, (e.seq, e.sub)) FILTER (WHERE {fact} AND "
                     f"e.type IN ({endings})) = '{t}' THEN '{status}'"
                     for t, status in ENDINGS.items())
    return (f"CASE {whens} WHEN bool_or({fact} AND e.type = '{STARTED}') THEN 'active' "
            f"WHEN bool_or({course}) THEN 'requested' END")


CONVERSATIONS = f"""CREATE OR REPLACE VIEW conversations AS
    WITH per_primitive AS (
        SELECT conversation_id, primitive, count(*) AS n,
               bool_or(outcome = '{PENDING}') AS unanswered,
               arg_max(outcome, request_seq) AS last_outcome
        FROM primitive_executions GROUP BY ALL),
    a AS (
        SELECT conversation_id, list(primitive ORDER BY primitive) AS primitives,
               sum(n)::BIGINT AS requests, bool_or(unanswered) AS unanswered,
               bool_or(last_outcome = '{FAILED}') AS latest_failed, true AS asked
        FROM per_primitive GROUP BY ALL)
    SELECT e.conversation_id, min(e.occurred_at) AS first_at, max(e.occurred_at) AS last_at,
           count(*) AS events, coalesce(any_value(a.primitives), []) AS primitives,
           coalesce(any_value(a.requests), 0) AS requests, {_outcome_case()} AS outcome,
           coalesce(bool_or({READABLE} AND e.type = '{REDACTION_TYPE}'), false) AS redacted,
           count(*) FILTER (WHERE NOT {READABLE}) AS unreadable,
           {_status_case()} AS status
    FROM log_events e LEFT JOIN a USING (conversation_id)
    GROUP BY e.conversation_id"""



def _sql_number(json_path: str, sql_type: str) -> str:
    """A JSON number at ``json_path`` of ``data`` as ``sql_type``, anything else NULL."""
    return (f"CASE WHEN json_type(data, '{json_path}') IN ('UBIGINT', 'BIGINT', 'DOUBLE') "
            f"THEN TRY_CAST(json_extract(data, '{json_path}') AS {sql_type}) END")


USAGE = f"""CREATE OR REPLACE VIEW usage AS
    SELECT conversation_id, source AS primitive, id AS result_id, causation_id AS request_id,
           trace_id, occurred_at,
           {_sql_text('$.usage.engine')} AS engine, {_sql_text('$.usage.voice')} AS voice,
           {_sql_number('$.usage.characters', 'BIGINT')} AS characters,
           {_sql_number('$.usage.audio_seconds', 'DOUBLE')} AS audio_seconds
    FROM log_events
    WHERE {READABLE} AND kind = '{COMPLETED}' AND json_type(data, '$.usage') = 'OBJECT'"""
"""What each speech call consumed: every completed event whose ``data.usage`` is an object
(``schemas.audio.Usage``; any primitive), one row each. A field of another type is NULL
(``''`` for the texts), so a hostile body shows as what it is and never breaks a sum."""

VIEWS: tuple[str, ...] = (PRIMITIVE_EXECUTIONS, CONVERSATIONS, USAGE)
"""What a writer of the log passes to ``LogStore``/``LogDatabase``/``open_log`` on top of
the core's :data:`~core.eventlog.schema.VIEWS` (``events``), in creation order."""
