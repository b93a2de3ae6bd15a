"""Helpers for the event log tests: events in bulk, a running sink, the file read back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import duckdb

from core import subjects
from core.bus import Bus
from core.eventlog.database import LogDatabase
from core.eventlog.schema import DB_FILE
from core.eventlog.sink import Sink, SinkOptions
from orchestrator.views import VIEWS
from schemas import events as ev
from schemas import ids
from schemas.payloads import CaptureParams, CaptureResult, Request

FAST_SINK = SinkOptions(fetch_timeout_s=0.1)


def email_pair(conversation_id: str, transcript: str, value: str) -> list[ev.Event]:
    """A capture_email request and its completion, as a worker would have answered."""
    request = ev.new_event(ev.CaptureEmailRequested, conversation_id=conversation_id,
                           trace_id=f"t-{conversation_id}",
                           data=Request(params=CaptureParams(transcript=transcript),
                                        purpose="billing email"))
    result = ev.new_event(ev.CaptureEmailCompleted, conversation_id=conversation_id,
                          trace_id=request.trace_id, causation_id=request.id,
                          event_id=ids.derive_id(request.id, "result"),
                          data=CaptureResult(value=value, confidence=0.93,
                                             needs_confirmation=False, readback=transcript))
    return [request, result]


def bulk_events(n: int, conversations: int = 100) -> list[ev.Event]:
    found: list[ev.Event] = []
    for i in range(n // 2):
        found += email_pair(f"bulk-{i % conversations}", f"user {i} at example dot com",
                            f"user{i}@example.com")
    return found


async def publish_many(bus: Bus, batch: list[ev.Event], chunk: int = 1000) -> None:
    """Publish with ``publish_async`` in chunks (fast; every ack awaited)."""
    for start in range(0, len(batch), chunk):
        acks = [await bus.js.publish_async(
            subjects.event_subject(e.conversation_id, e.event_type), ev.encode(e),
            headers={subjects.HEADER_MSG_ID: e.id, subjects.HEADER_EVENT_TYPE: e.event_type})
            for e in batch[start:start + chunk]]
        await asyncio.gather(*acks)


async def last_stream_seq(bus: Bus) -> int:
    info = await bus.js.stream_info(subjects.EVENTS_STREAM)
    return int(info.state.last_seq)


@asynccontextmanager
async def running_sink(bus: Bus, data_dir: Path,
                       options: SinkOptions = FAST_SINK) -> AsyncIterator[Sink]:
    database = await LogDatabase.open(data_dir, views=VIEWS)
    try:
        async with Sink(bus, database, options) as sink:
            yield sink
    finally:
        await database.close()


async def caught_up(sink: Sink, bus: Bus, timeout: float = 60.0) -> None:
    target = await last_stream_seq(bus)
    try:
        await sink.wait_for(target, timeout)
    except TimeoutError:
        info = await bus.js.consumer_info(subjects.EVENTS_STREAM, sink.consumer)
        raise AssertionError(
            f"log at {sink.db.store.last_seq}, stream at {target}; consumer: pending "
            f"{info.num_pending}, ack pending {info.num_ack_pending}, delivered {info.delivered}, "
            f"ack floor {info.ack_floor}, waiting {info.num_waiting}; tasks "
            f"{[(t.get_name(), t.done()) for t in sink._tasks]}") from None


def read_back(data_dir: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(data_dir / DB_FILE), read_only=True)
    try:
        found: list[tuple[Any, ...]] = con.execute(sql, params or []).fetchall()
        return found
    finally:
        con.close()


def write_sql(data_dir: Path, sql: str, params: list[Any] | None = None) -> None:
    con = duckdb.connect(str(data_dir / DB_FILE))
    try:
        con.execute(sql, params or []).fetchall()
    finally:
        con.close()
