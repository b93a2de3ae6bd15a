"""The event log sink against a real nats-server and a real DuckDB file."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from core.bus import Bus
from core.errors import LogQueryError
from core.eventlog import reading
from core.eventlog.client import DirectSource, ServiceSource, open_log
from core.eventlog.redact import scrub_json
from core.natsserver import EmbeddedNats
from schemas import events as ev
from tests.support import proc
from tests.support.eventlog import (
    bulk_events,
    caught_up,
    email_pair,
    last_stream_seq,
    publish_many,
    read_back,
    running_sink,
)
from tests.support.streams import stream_messages


async def test_every_published_event_is_logged_once(bus: Bus, tmp_path: Path) -> None:
    sent = bulk_events(400, conversations=7)
    data = tmp_path / "data"
    async with running_sink(bus, data) as sink:
        await publish_many(bus, sent[:200])
        await publish_many(bus, sent[:50])  # same Nats-Msg-Id: JetStream drops them
        # the same event id under another message id (a re-publish outside the dedup window)
        again = sent[7]
        await bus.publish_raw(f"vc.ev.{again.conversation_id}.{again.event_type}",
                              ev.encode(again), {"Nats-Msg-Id": "other-id"})
        await bus.publish_raw("vc.ev.junk.sleepy.requested", b"\x00not json", {})
        await publish_many(bus, sent[200:])
        await caught_up(sink, bus)
        stream_last = await last_stream_seq(bus)
    rows = read_back(data, "SELECT seq, id FROM log_events ORDER BY seq")
    assert [seq for seq, _ in rows] == [s for s in range(1, stream_last + 1) if s != 201]
    assert sorted(i for _, i in rows if not i.startswith("quarantined-")) == sorted(
        e.id for e in sent)
    assert read_back(data, "SELECT duplicates, last_seq FROM log_meta") == [(1, stream_last)]
    [(raw, conversation)] = read_back(
        data, "SELECT raw, conversation_id FROM log_events WHERE raw IS NOT NULL")
    assert raw == "\x00not json" and conversation == "junk"
    assert reading_verify(data)["ok"]


def reading_verify(data: Path) -> dict[str, object]:
    source = open_log(data)
    try:
        result: dict[str, object] = source.call("verify")
        return result
    finally:
        source.close()


async def test_restart_resumes_without_gap_or_duplicate(bus: Bus, tmp_path: Path) -> None:
    data = tmp_path / "data"
    sent = bulk_events(600)
    async with running_sink(bus, data) as sink:
        await publish_many(bus, sent[:300])
        await caught_up(sink, bus)
    await publish_many(bus, sent[300:])  # while the log is down
    async with running_sink(bus, data) as sink:
        await caught_up(sink, bus)
    assert read_back(data, "SELECT count(*), count(DISTINCT id), min(seq), max(seq) "
                           "FROM log_events") == [(600, 600, 1, 600)]


async def test_sigkill_mid_batch_then_restart_leaves_no_gap_and_no_duplicate(
    bus: Bus, nats_server: EmbeddedNats, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    sent = bulk_events(30_000, conversations=500)
    # Killed while it ingests a publishing burst; the last third is published only after
    # the kill, so whatever the killed sink got through, the survivor has events to resume.
    before_kill, after_kill = sent[:20_000], sent[20_000:]
    publishing = asyncio.create_task(publish_many(bus, before_kill, chunk=500))
    child = start_sink(nats_server.url, data)
    try:
        applied = await rows_applied_via_service(data, lambda n: n >= 2000)
        assert proc.stop(child, signal.SIGKILL).returncode == -signal.SIGKILL
    finally:
        if child.returncode is None:
            proc.stop(child, signal.SIGKILL)
    await publishing
    # What the killed sink reported as logged survived the kill, as a prefix of the stream.
    [(durable, first, last)] = read_back(data, "SELECT count(*), min(seq), max(seq) "
                                               "FROM log_events")
    assert applied <= durable <= len(before_kill) and (first, last) == (1, durable)
    await publish_many(bus, after_kill, chunk=500)
    survivor = start_sink(nats_server.url, data)
    try:
        total = await last_stream_seq(bus)
        await rows_applied_via_service(data, lambda n: n >= total)
    finally:
        assert proc.stop(survivor).returncode == 0
    assert read_back(data, "SELECT count(*), count(DISTINCT id), count(DISTINCT seq), min(seq), "
                           "max(seq) FROM log_events") == [(total, total, total, 1, total)]
    assert reading_verify(data)["ok"]


def start_sink(url: str, data: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-m", "voicecore.log_sink", "--nats-url", url, "--data-dir",
         str(data), "--fetch-batch", "250", "--max-batch", "500"],
        cwd=proc.ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None
    line = child.stdout.readline()
    if "ready" not in line:
        child.kill()
        raise AssertionError(f"sink not ready: {line!r} {child.communicate(timeout=10)[1]}")
    return child


async def rows_applied_via_service(data: Path, enough: object, timeout: float = 90.0) -> int:
    """Ask the running sink (the file is locked) how far it got, until ``enough(rows)``."""
    assert callable(enough)
    for _ in range(int(timeout / 0.05)):
        source = await asyncio.to_thread(open_log, data)
        try:
            assert isinstance(source, ServiceSource)  # the child holds the file
            status = await asyncio.to_thread(source.call, "status")
        finally:
            await asyncio.to_thread(source.close)
        if enough(status["last_seq"]):
            return int(status["rows"])
        await asyncio.sleep(0.05)
    raise AssertionError("the sink did not get there")


async def test_100k_events_are_ingested(bus: Bus, tmp_path: Path) -> None:
    data = tmp_path / "data"
    sent = bulk_events(100_000, conversations=1000)
    async with running_sink(bus, data) as sink:
        await publish_many(bus, sent)
        await caught_up(sink, bus, timeout=120)
    assert read_back(data, "SELECT count(*), count(DISTINCT id), max(seq) FROM log_events") == [
        (100_000, 100_000, 100_000)]
    assert read_back(data, "SELECT count(*) FROM conversations") == [(1000,)]
    assert read_back(data, "SELECT count(*), count(*) FILTER (outcome = 'completed') "
                           "FROM primitive_executions") == [(50_000, 50_000)]


async def test_queries_are_answered_by_the_running_sink(bus: Bus, tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with running_sink(bus, data) as sink:
        await publish_many(bus, email_pair("c-live", "jo at example dot com", "jo@example.com"))
        await caught_up(sink, bus)
        source = await asyncio.to_thread(open_log, data)
        try:
            assert isinstance(source, ServiceSource)
            timeline = await asyncio.to_thread(source.table, "timeline", conversation_id="c-live")
            big = await asyncio.to_thread(source.table, "query",
                                          sql="SELECT repeat('x', 2000000) AS big")
            with pytest.raises(LogQueryError, match="only one read-only SELECT"):
                await asyncio.to_thread(source.table, "query", sql="DELETE FROM log_events")
        finally:
            await asyncio.to_thread(source.close)
    assert timeline.column("type").to_pylist() == [
        "capture_email.requested", "capture_email.completed"]
    assert len(big.column("big")[0].as_py()) == 2_000_000  # too big for a message: via a file
    assert not list((data / "tmp").glob("*"))


def test_read_only_sql_is_enforced_on_the_file(tmp_path: Path) -> None:
    from core.eventlog.store import LogStore

    store = LogStore.open(tmp_path / "eventlog.duckdb")
    source = DirectSource(store.con, store)
    try:
        for sql in ("DROP VIEW events", "SELECT 1; DELETE FROM log_events", "COPY events TO 'x'"):
            with pytest.raises(LogQueryError, match="only one read-only SELECT"):
                reading.query(source.con, sql)
        assert reading.query(source.con, "SELECT count(*) AS n FROM events").to_pylist() == [
            {"n": 0}]
    finally:
        source.close()


def test_redaction_scrubs_personal_values_and_keeps_structure() -> None:
    changed: set[str] = set()
    data = json.dumps({"params": {"transcript": "it's john at gmail", "language": "en",
                                  "reference_date": "2026-11-23"},
                       "purpose": "call +1 415 555 0100 or mail a.b@c.io", "timeout_s": 0.0})
    cleaned = json.loads(scrub_json(data, changed))
    assert cleaned == {"params": {"transcript": "[redacted]", "language": "en",
                                  "reference_date": "2026-11-23"},
                       "purpose": "call [phone] or mail [email]", "timeout_s": 0.0}
    assert changed == {"data.params.transcript", "data.purpose"}


async def test_stream_copies_are_purged_by_a_redaction(bus: Bus, tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with running_sink(bus, data) as sink:
        await publish_many(bus, email_pair("c-gone", "ann at example dot com", "ann@example.com")
                           + email_pair("c-kept", "bob at example dot com", "bob@example.com"))
        await caught_up(sink, bus)
        assert sink._service is not None
        result = await sink._service.redact("c-gone", "test")
    assert result["stream_purged"] and result["redacted_events"] == 2
    assert await stream_messages(bus, subject="vc.ev.c-gone.>") == []
    assert len(await stream_messages(bus, subject="vc.ev.c-kept.>")) == 2
