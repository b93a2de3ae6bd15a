"""The log's ``conversations`` view, built from the fold's own rule.

The event log (``core.eventlog``) stores rows and keeps the views that need no
conversation model (``events``, ``primitive_executions``); the ``conversations``
view decides each conversation's outcome, which is the orchestrator's rule
(:data:`orchestrator.state.OUTCOME_RULE`). So it is built here and handed to the
log by whoever opens it for writing from above (``voicecore``): the core never
imports the orchestrator. ``tests/test_eventlog_views.py`` holds the view equal to
the fold on generated histories.
"""

from __future__ import annotations

from core.eventlog.schema import READABLE
from orchestrator.state import NO_REQUESTS, OUTCOME_RULE
from schemas.events import REDACTION_TYPE


def _outcome_case() -> str:
    """The conversation outcome as SQL, from the fold's own rule (``orchestrator.state``)."""
    whens = " ".join(f"WHEN coalesce(any_value(a.{fact}), false) THEN '{outcome}'"
                     for outcome, fact in OUTCOME_RULE)
    return f"CASE {whens} ELSE '{NO_REQUESTS}' END"


CONVERSATIONS = f"""CREATE OR REPLACE VIEW conversations AS
    WITH per_primitive AS (
        SELECT conversation_id, primitive, count(*) AS n,
               bool_or(outcome = 'pending') AS unanswered,
               arg_max(outcome, request_seq) AS last_outcome
        FROM primitive_executions GROUP BY ALL),
    a AS (
        SELECT conversation_id, list(primitive ORDER BY primitive) AS primitives,
               sum(n)::BIGINT AS requests, bool_or(unanswered) AS unanswered,
               bool_or(last_outcome = 'failed') AS latest_failed, true AS asked
        FROM per_primitive GROUP BY ALL)
    SELECT e.conversation_id, min(e.occurred_at) AS first_at, max(e.occurred_at) AS last_at,
           count(*) AS events, coalesce(any_value(a.primitives), []) AS primitives,
           coalesce(any_value(a.requests), 0) AS requests, {_outcome_case()} AS outcome,
           coalesce(bool_or({READABLE} AND e.type = '{REDACTION_TYPE}'), false) AS redacted,
           count(*) FILTER (WHERE NOT {READABLE}) AS unreadable
    FROM log_events e LEFT JOIN a USING (conversation_id)
    GROUP BY e.conversation_id"""

VIEWS: tuple[str, ...] = (CONVERSATIONS,)
"""What a writer of the log passes to ``LogStore``/``LogDatabase``/``open_log`` on top of
the core's :data:`~core.eventlog.schema.VIEWS` (which ``conversations`` reads from)."""
