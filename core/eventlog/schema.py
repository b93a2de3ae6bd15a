"""The log's tables and views, and how a stream message becomes a row.

``log_events`` holds one row per event, keyed by ``(seq, sub)``: ``seq`` is the
JetStream stream sequence and ``sub`` is 0 for a message of the stream; records
the log writes itself (redactions) take the sequence of the last applied
message and ``sub`` ≥ 1. ``pos`` is the contiguous log position (chain order).
A message the log cannot store as an event is stored *quarantined*
(``quarantine_reason`` set, body in ``raw``): see :mod:`core.eventlog.rows`.
``log_meta`` holds the last applied sequence and the log chain's head, updated in
the same transaction as the rows; ``log_heads`` the head of each conversation chain;
``log_erasures`` the redacted conversations whose copies in the NATS streams are still
to be erased (:mod:`core.eventlog.erase`; the sink does it as soon as it runs).

Documented views (``voicecore log query``): ``events`` (:data:`VIEWS`, here: rows, no
model), and ``primitive_executions`` and ``conversations``, which pair requests with
results and decide outcomes by the orchestrator's rule: :mod:`orchestrator.views` builds
them, and whoever opens the log for writing from above (the composition root,
:mod:`voicecore`) passes them to :class:`~core.eventlog.store.LogStore`.
"""

from __future__ import annotations

import operator
from typing import Any

import pyarrow as pa

from core import subjects

DB_FILE = "eventlog.duckdb"

COLUMNS: list[tuple[str, str, pa.DataType]] = [
    ("pos", "BIGINT NOT NULL", pa.int64()),
    ("seq", "BIGINT NOT NULL", pa.int64()),
    ("sub", "INTEGER NOT NULL", pa.int32()),
    ("subject", "VARCHAR NOT NULL", pa.string()),
    ("id", "VARCHAR NOT NULL UNIQUE", pa.string()),
    ("type", "VARCHAR NOT NULL", pa.string()),
    ("source", "VARCHAR NOT NULL", pa.string()),
    ("kind", "VARCHAR NOT NULL", pa.string()),
    ("conversation_id", "VARCHAR NOT NULL", pa.string()),
    ("trace_id", "VARCHAR NOT NULL", pa.string()),
    ("causation_id", "VARCHAR", pa.string()),
    ("occurred_at", "TIMESTAMPTZ", pa.timestamp("us", tz="UTC")),
    ("producer", "VARCHAR NOT NULL", pa.string()),
    ("schema_version", "INTEGER NOT NULL", pa.int32()),
    ("attempt", "INTEGER NOT NULL", pa.int32()),
    ("headers", "JSON NOT NULL", pa.string()),
    ("data", "JSON NOT NULL", pa.string()),
    ("raw", "VARCHAR", pa.string()),
    ("redacted_by", "VARCHAR", pa.string()),
    ("hash", "VARCHAR NOT NULL", pa.string()),
    ("log_hash", "VARCHAR NOT NULL", pa.string()),
    ("logged_at", "TIMESTAMPTZ NOT NULL", pa.timestamp("us", tz="UTC")),
    # Last: logs written before it get it appended by ADD COLUMN (see DDL), in this order.
    ("quarantine_reason", "VARCHAR", pa.string()),
]
ARROW_SCHEMA = pa.schema([(name, type_) for name, _, type_ in COLUMNS])
NAMES = [name for name, _, _ in COLUMNS]

DDL = [
    "CREATE TABLE IF NOT EXISTS log_events ("
    + ", ".join(f"{name} {sql}" for name, sql, _ in COLUMNS)
    + ", PRIMARY KEY (seq, sub))",
    "ALTER TABLE log_events ADD COLUMN IF NOT EXISTS quarantine_reason VARCHAR",
    "CREATE INDEX IF NOT EXISTS log_events_conversation ON log_events (conversation_id)",
    "CREATE TABLE IF NOT EXISTS log_meta (one INTEGER PRIMARY KEY CHECK (one = 1), "
    "log_id VARCHAR NOT NULL, last_seq BIGINT NOT NULL, last_pos BIGINT NOT NULL, "
    "log_head VARCHAR NOT NULL, duplicates BIGINT NOT NULL, updated_at TIMESTAMPTZ)",
    "CREATE TABLE IF NOT EXISTS log_heads (conversation_id VARCHAR PRIMARY KEY, "
    "head VARCHAR NOT NULL, last_pos BIGINT NOT NULL, events BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS log_erasures (conversation_id VARCHAR PRIMARY KEY, "
    "up_to_seq BIGINT NOT NULL, redacted_at TIMESTAMPTZ NOT NULL)",
]

READABLE = (f"(raw IS NULL AND NOT contains(conversation_id, '.') AND subject = "
            f"'{subjects.EVENT_PREFIX}.' || conversation_id || '.' || type)")
"""A row is an event of its conversation (the fold's input) when it decoded and its
subject agrees with its body (:func:`core.subjects.body_mismatch`); other rows are
counted as entries of their conversation, never as requests or results."""


VIEWS = [  # the conversation model's views (orchestrator.views) are passed in from above
    f"CREATE OR REPLACE VIEW events AS SELECT *, raw IS NOT NULL AS undecodable, "
    f"{READABLE} AS readable FROM log_events",
]


_ROW_KEYS = ["occurred_us" if name == "occurred_at" else name
             for name in NAMES if name != "logged_at"]
_ROW_TYPES = [type_ for name, _, type_ in COLUMNS if name != "logged_at"]
_LOGGED_AT = NAMES.index("logged_at")


def to_arrow(rows: list[dict[str, Any]], logged_us: int) -> pa.Table:
    """The rows as one Arrow table, column by column: one ``map`` over the rows per column
    (in C) costs less than transposing row tuples (2.4 against 4.0 µs per row here)."""
    columns = [pa.array(list(map(operator.itemgetter(key), rows)), type_)
               for key, type_ in zip(_ROW_KEYS, _ROW_TYPES, strict=True)]
    columns.insert(_LOGGED_AT, pa.array([logged_us] * len(rows), pa.timestamp("us", tz="UTC")))
    return pa.Table.from_arrays(columns, schema=ARROW_SCHEMA)
