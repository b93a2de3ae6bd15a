"""How a logged row becomes the event it was: the one read-back conversion.

Every reader that wants the log's rows back as events (replay's fold, ``--rerun``,
``--to-stream``, the benchmarks) goes through here; nothing else rebuilds an event from
columns. The conversion has two halves, both defined here:

* **In DuckDB**, :data:`EVENT_JSON` rebuilds each row's event JSON from its columns
  (vectorised: far cheaper than encoding row by row in Python), and
  :data:`~core.eventlog.schema.READABLE` says whether the row is an event at all;
  :func:`core.eventlog.reading.conversation_events` selects them as ``body`` and
  ``readable``.
* **In Python**, :func:`entries` decodes those into the read-back shape
  (:data:`schemas.events.ReadBack`): the typed event where its type is registered in this
  process, else its envelope with ``data`` raw (:class:`~schemas.events.EnvelopeOnly`),
  else :class:`~schemas.events.NotAnEvent`; :func:`event_rows` gives the rows that are
  events with their JSON, to publish them again.

A stored JSON column (``data``, ``headers``) shown to a person or exported is read with
:func:`json_column`.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import msgspec
import pyarrow as pa

from schemas import events

EVENT_JSON = """'{"type":' || to_json(type) || ',"id":' || to_json(id)
    || ',"conversation_id":' || to_json(conversation_id) || ',"trace_id":' || to_json(trace_id)
    || ',"causation_id":' || coalesce(to_json(causation_id)::VARCHAR, 'null')
    || ',"occurred_at":' || coalesce('"' || strftime(make_timestamp(epoch_us(occurred_at)),
                                                     '%Y-%m-%dT%H:%M:%S.%fZ') || '"', 'null')
    || ',"producer":' || to_json(producer) || ',"schema_version":' || schema_version
    || ',"attempt":' || attempt || ',"data":' || data || '}'"""
"""SQL: a ``log_events`` row as the JSON of its event (envelope fields in the wire order,
``data`` as stored now, so redacted values read back redacted)."""


def decode(body: bytes) -> events.Event | events.EnvelopeOnly | None:
    """The typed event where its type is registered here, else its envelope; ``None`` for
    a body that decodes as neither (a readable row should not be one)."""
    with contextlib.suppress(msgspec.MsgspecError):  # not a shape registered here
        return events.decode(body)
    try:
        return events.decode_envelope(body)
    except msgspec.MsgspecError:
        return None


def entries(table: pa.Table) -> list[events.ReadBack]:
    """Every row of ``table`` (``readable``, ``body``, ``occurred_at`` columns, as
    ``conversation_events`` gives them) read back, in order: a row that is not an event
    is :class:`~schemas.events.NotAnEvent`, so every reader counts the same entries."""
    readable = table.column("readable").to_pylist()
    bodies = table.column("body").to_pylist()
    times = table.column("occurred_at")  # read only for the rare rows that are not events
    found: list[events.ReadBack] = []
    for i, (ok, body) in enumerate(zip(readable, bodies, strict=True)):
        event = decode(body.encode()) if ok else None
        found.append(events.NotAnEvent(at=times[i].as_py()) if event is None else event)
    return found


def event_rows(table: pa.Table) -> list[tuple[dict[str, Any], bytes]]:
    """(row, event JSON) for each row of ``table`` that is an event (``readable``), in order."""
    return [(row, row["body"].encode()) for row in table.to_pylist() if row["readable"]]


def json_column(text: Any) -> Any:
    """A stored JSON column as a value; text that does not parse stays text (never fails)."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text
