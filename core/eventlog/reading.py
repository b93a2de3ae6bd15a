"""Read-only queries over the log, on any DuckDB connection (file or the sink's cursor).

Every function returns an Arrow table (or a dict), so the same code answers the
CLI directly and, through the running sink, over NATS request-reply.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import duckdb
import pyarrow as pa

from core.errors import EventLogError, LogQueryError, translate_duckdb
from core.eventlog import db
from core.eventlog.readback import EVENT_JSON
from core.eventlog.schema import READABLE
from core.eventlog.verify import verify

ENVELOPE = ("seq, sub, pos, subject, id, type, conversation_id, trace_id, causation_id, "
            "occurred_at, producer, schema_version, attempt, data, raw, redacted_by")


def conversations(con: duckdb.DuckDBPyConnection, since: dt.datetime | None = None,
                  until: dt.datetime | None = None, limit: int | None = None) -> pa.Table:
    sql = "SELECT * FROM conversations WHERE true"
    params: list[Any] = []
    if since is not None:
        sql += " AND last_at >= ?"
        params.append(since)
    if until is not None:
        sql += " AND first_at < ?"
        params.append(until)
    sql += " ORDER BY first_at, conversation_id"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return db.table(con, sql, params)


def timeline(con: duckdb.DuckDBPyConnection, conversation_id: str) -> pa.Table:
    """One conversation, entry by entry: offsets, trace ids, request→result durations; for
    rows that are not events, ``raw`` (and ``quarantine_reason`` where the log has it)."""
    return db.table(
        con,
        "WITH c AS MATERIALIZED (SELECT seq, sub, occurred_at, type, source AS primitive, kind, "
        "id, causation_id, trace_id, attempt, data, redacted_by IS NOT NULL AS redacted, "
        f"{READABLE} AS readable, COLUMNS('^(raw|quarantine_reason)$') "
        "FROM log_events WHERE conversation_id = ?), "
        "d AS (SELECT c.id, (epoch_us(c.occurred_at) - epoch_us(r.occurred_at)) / 1000.0 "
        "AS duration_ms FROM c JOIN c AS r ON r.id = c.causation_id) "
        "SELECT c.*, (epoch_us(c.occurred_at) - min(epoch_us(c.occurred_at)) OVER ()) / 1000.0 "
        "AS offset_ms, d.duration_ms FROM c LEFT JOIN d USING (id) ORDER BY seq, sub",
        [conversation_id])


def usage(con: duckdb.DuckDBPyConnection, conversation_id: str | None = None,
          since: dt.datetime | None = None) -> pa.Table:
    """The ``usage`` view summed per conversation and engine: calls, characters, audio
    seconds (``voicecore log usage`` prices them)."""
    where, params = _selection(conversation_id, since)
    return db.table(
        con,
        "SELECT conversation_id, engine, count(*) AS calls, "
        "coalesce(sum(characters), 0)::BIGINT AS characters, "
        "coalesce(sum(audio_seconds), 0.0) AS audio_seconds, "
        f"min(occurred_at) AS first_at, max(occurred_at) AS last_at FROM usage WHERE true{where} "
        "GROUP BY ALL ORDER BY conversation_id, engine", params)


def conversation_events(con: duckdb.DuckDBPyConnection, conversation_id: str) -> pa.Table:
    """Every row of a conversation in log order: envelope, data, ``readable`` and ``body``,
    the event's JSON (:data:`~core.eventlog.readback.EVENT_JSON`), for
    :mod:`core.eventlog.readback`."""
    return db.table(
        con, f"SELECT {ENVELOPE}, {READABLE} AS readable, {EVENT_JSON} AS body FROM log_events "
        "WHERE conversation_id = ? "
        "ORDER BY seq, sub", [conversation_id])


def page(con: duckdb.DuckDBPyConnection, after_pos: int, limit: int,
         conversation_id: str | None = None, since: dt.datetime | None = None) -> pa.Table:
    """Rows after ``after_pos`` (export, history), every column, in log order."""
    where, params = _selection(conversation_id, since)
    sql = f"SELECT * FROM events WHERE pos > ?{where} ORDER BY pos LIMIT {int(limit)}"
    params.insert(0, after_pos)
    return db.table(con, sql, params)


def count(con: duckdb.DuckDBPyConnection, conversation_id: str | None = None,
          since: dt.datetime | None = None) -> int:
    where, params = _selection(conversation_id, since)
    return int(db.rows(con, f"SELECT count(*) FROM log_events WHERE true{where}", params)[0][0])


def _selection(conversation_id: str | None,
               since: dt.datetime | None) -> tuple[str, list[Any]]:
    """The export (or usage) selection, one conversation and events since a time, as SQL
    and parameters."""
    where, params = "", list[Any]()
    if conversation_id is not None:
        where += " AND conversation_id = ?"
        params.append(conversation_id)
    if since is not None:
        where += " AND occurred_at >= ?"
        params.append(since)
    return where, params


def query(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """Run one read-only statement (SELECT, WITH … SELECT, or a set operation)."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise translate_duckdb(exc, "", LogQueryError) from exc
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise LogQueryError("only one read-only SELECT statement is allowed "
                            "(views: events, conversations, primitive_executions, usage)")
    try:
        return db.table(con, sql)
    except duckdb.Error as exc:
        raise translate_duckdb(exc, "", LogQueryError) from exc


def status(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    rows = db.rows(con, "SELECT log_id, last_seq, last_pos, duplicates FROM log_meta")
    found = rows[0] if rows else None
    if found is None:
        return {"log_id": None, "last_seq": 0, "rows": 0, "duplicates": 0}
    return {"log_id": found[0], "last_seq": found[1], "rows": found[2], "duplicates": found[3]}


def answer(con: duckdb.DuckDBPyConnection, op: str, args: dict[str, Any]) -> Any:
    """Run one operation (:data:`OPS` or :data:`JSON_OPS`) for the file or the service."""
    found = OPS.get(op) or JSON_OPS.get(op)
    if found is None:
        raise EventLogError(f"unknown event log operation {op[:40]!r}")
    with db.log_errors():
        return found(con, **args)


OPS: dict[str, Callable[..., pa.Table]] = {
    "conversations": conversations, "timeline": timeline,
    "conversation_events": conversation_events, "page": page, "query": query,
    "usage": usage,
}
JSON_OPS: dict[str, Callable[..., Any]] = {"verify": verify, "count": count, "status": status}
