"""``voicecore log …`` and ``voicecore replay`` as real processes, on a real log."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from core.bus import Bus
from core.config import WorkerOptions
from core.eventlog.client import open_log
from core.natsserver import EmbeddedNats
from core.primitive import Primitive
from core.worker import Worker
from orchestrator.replay import replay_state
from orchestrator.state import Folder
from schemas import events as ev
from schemas import ids
from schemas.payloads import Request
from tests.support import proc
from tests.support.eventlog import (
    caught_up,
    email_pair,
    publish_many,
    read_back,
    running_sink,
    write_sql,
)
from tests.support.plugin import SLEEPY, Echo, SleepyParams, SleepyRequested
from tests.support.streams import stream_messages, wait_for_events

FAST = WorkerOptions(concurrency=8, ack_wait_s=2.0, max_deliver=2, backoff_s=(0.05,),
                     fetch_timeout_s=0.1)
WIDE = {"COLUMNS": "200"}


def log_cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return proc.run(*args, "--data-dir", str(data), env=WIDE)


async def alog_cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI while this process runs the sink (the loop must keep serving)."""
    return await asyncio.to_thread(log_cli, data, *args)


@pytest.fixture
async def recorded(bus: Bus, tmp_path: Path) -> Path:
    """A closed log holding two email conversations with personal values."""
    data = tmp_path / "data"
    async with running_sink(bus, data) as sink:
        await publish_many(bus, email_pair("c-ann", "ann dot lee at example dot com",
                                           "ann.lee@example.com")
                           + email_pair("c-bob", "call 415 555 0100, bob at mail dot org",
                                        "bob@mail.org"))
        await caught_up(sink, bus)
    return data


def test_show_query_and_export_from_the_file(recorded: Path, tmp_path: Path) -> None:
    shown = log_cli(recorded, "log", "show", "c-ann")
    assert shown.returncode == 0, shown.stderr
    assert "capture_email.completed" in shown.stdout and "ms" in shown.stdout
    timeline = json.loads(log_cli(recorded, "log", "show", "c-ann", "--json").stdout)
    assert [r["kind"] for r in timeline] == ["requested", "completed"]
    assert timeline[1]["duration_ms"] is not None and timeline[1]["trace_id"] == "t-c-ann"
    queried = json.loads(log_cli(recorded, "log", "query", "--json",
                                 "SELECT conversation_id, outcome, primitives FROM conversations "
                                 "ORDER BY 1").stdout)
    assert queried == [
        {"conversation_id": "c-ann", "outcome": "completed", "primitives": ["capture_email"]},
        {"conversation_id": "c-bob", "outcome": "completed", "primitives": ["capture_email"]}]
    listing = log_cli(recorded, "log", "conversations")
    assert "c-ann" in listing.stdout and "capture_email" in listing.stdout
    out = tmp_path / "all.parquet"
    exported = log_cli(recorded, "log", "export", "--format", "parquet", "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    con = duckdb.connect()
    rows = con.execute(f"SELECT conversation_id, type, data->>'$.value' FROM '{out}' "
                       "ORDER BY seq").fetchall()
    assert rows[1] == ("c-ann", "capture_email.completed", "ann.lee@example.com")
    assert len(rows) == 4
    lines = tmp_path / "bob.jsonl"
    log_cli(recorded, "log", "export", "--format", "jsonl", "--conversation", "c-bob",
            "--since", "1d", "-o", str(lines))
    parsed = [json.loads(line) for line in lines.read_text().splitlines()]
    assert [p["conversation_id"] for p in parsed] == ["c-bob", "c-bob"]
    assert parsed[1]["data"]["value"] == "bob@mail.org"


def test_query_refuses_writes_in_one_line(recorded: Path) -> None:
    done = log_cli(recorded, "log", "query", "DELETE FROM log_events")
    assert done.returncode == 1
    assert done.stderr.startswith("voicecore: error: only one read-only SELECT")


def test_verify_passes_then_names_an_edited_and_a_deleted_row(
    recorded: Path, tmp_path: Path
) -> None:
    ok = log_cli(recorded, "log", "verify")
    assert ok.returncode == 0 and ok.stdout.startswith("ok: 4 row(s)")
    edited = tmp_path / "edited"
    shutil.copytree(recorded, edited)
    write_sql(edited, "UPDATE log_events SET data = replace(data, 'ann.lee', 'eve') WHERE seq = 2")
    report = json.loads(log_cli(edited, "log", "verify", "--json").stdout)
    assert not report["ok"]
    assert report["broken"]["chain"] == "conversation" and report["broken"]["seq"] == 2
    assert "edited" in report["broken"]["reason"]
    human = log_cli(edited, "log", "verify")
    assert human.returncode == 1 and "BROKEN" in human.stdout and "seq 2" in human.stdout
    deleted = tmp_path / "deleted"
    shutil.copytree(recorded, deleted)
    write_sql(deleted, "DELETE FROM log_events WHERE seq = 3")
    report = json.loads(log_cli(deleted, "log", "verify", "--json").stdout)
    assert report["broken"]["chain"] == "log" and report["broken"]["seq"] == 4
    assert "1 row(s) missing before this one after seq 2 (deleted)" in report["broken"]["reason"]


async def test_redact_through_the_running_sink_keeps_verify_passing(
    bus: Bus, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    async with running_sink(bus, data) as sink:
        await publish_many(bus, email_pair("c-ann", "ann dot lee at example dot com",
                                           "ann.lee@example.com")
                           + email_pair("c-bob", "bob at mail dot org", "bob@mail.org"))
        await caught_up(sink, bus)
        redacted = await alog_cli(data, "log", "redact", "c-ann", "--reason", "erasure request",
                                  "--json")
        assert redacted.returncode == 0, redacted.stderr
        result = json.loads(redacted.stdout)
        verified = await alog_cli(data, "log", "verify", "--json")
        # events keep flowing after the redaction, and chain on the re-anchored head
        await publish_many(bus, email_pair("c-ann", "again at example dot com", "x@example.com"))
        await caught_up(sink, bus)
    assert json.loads(verified.stdout)["ok"]
    assert result["redacted_events"] == 2 and result["stream_purged"]
    assert set(result["fields"]) == {"data.params.transcript", "data.value", "data.readback"}
    assert read_back(data, "SELECT count(*) FROM log_events WHERE conversation_id = 'c-ann' "
                           "AND (data LIKE '%ann%' OR data LIKE '%example%') AND seq <= 4") == [
        (0,)]
    assert read_back(data, "SELECT data->>'$.value' FROM log_events WHERE seq = 4 AND sub = 0") == [
        ("bob@mail.org",)]
    [(record,)] = read_back(data, "SELECT data FROM log_events WHERE type = 'eventlog.redacted'")
    assert json.loads(record)["previous_head"] == result["previous_head"]
    timing = read_back(data, "SELECT count(*) FROM primitive_executions "
                             "WHERE conversation_id = 'c-ann' AND duration_ms IS NOT NULL")
    assert timing == [(2,)]
    after = log_cli(data, "log", "verify")
    assert after.returncode == 0, after.stdout
    assert await stream_messages(bus, subject="vc.ev.c-ann.>") != []  # only the newer pair


def sleepy(conversation_id: str, text: str, **params: float) -> SleepyRequested:
    return ev.new_event(SleepyRequested, conversation_id=conversation_id, trace_id=f"t-{text}",
                        data=Request(params=SleepyParams(text=text, **params),  # type: ignore[arg-type]
                                     purpose=f"say {text}"))


async def test_replay_fold_equals_the_live_state(
    bus: Bus, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    live = Folder("c-live")
    sent = [sleepy("c-live", "hello"), sleepy("c-live", "broken", fail_times=9),
            sleepy("c-live", "again")]

    async def on_event(msg: object) -> None:
        live.apply(ev.decode(msg.data))  # type: ignore[attr-defined]

    sub = await bus.nc.subscribe("vc.ev.c-live.>", cb=on_event)
    async with running_sink(bus, data) as sink:
        worker = Worker(bus, SLEEPY, FAST)
        await worker.start()
        try:
            for r in sent:
                await bus.publish(r)
            await wait_for_events(bus, lambda f: len(f) == 6, subject="vc.ev.c-live.>")
        finally:
            await worker.stop()
        await caught_up(sink, bus)
    await sub.unsubscribe()
    source = open_log(data)
    try:
        replayed = replay_state(source.table("conversation_events", conversation_id="c-live"),
                                "c-live")
    finally:
        source.close()
    assert replayed == live.state()
    # the last request of the primitive succeeded, so the failure in between is superseded
    assert replayed.outcome == "completed" and [c.value for c in replayed.captured] == [
        {"text": "hello"}, {"text": "again"}]
    assert [f.code for f in replayed.failed] == ["PRIMITIVE_FAILED"]
    printed = json.loads(log_cli(data, "replay", "c-live", "--json").stdout)
    assert printed["outcome"] == "completed" and len(printed["asked"]) == 3
    assert [f["code"] for f in printed["failed"]] == ["PRIMITIVE_FAILED"]


async def _altered(params: SleepyParams) -> Echo:
    return Echo(text=params.text.upper())


ALTERED = Primitive(name="sleepy", description="sleepy, changed", requested=SLEEPY.requested,
                    completed=SLEEPY.completed, failed=SLEEPY.failed, handler=_altered)


async def test_rerun_shows_no_diff_then_a_diff_for_an_altered_primitive(
    bus: Bus, nats_server: EmbeddedNats, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    async with running_sink(bus, data) as sink:
        worker = Worker(bus, SLEEPY, FAST)
        await worker.start()
        try:
            for text in ("one", "two"):
                await bus.publish(sleepy("c-rr", text))
            await bus.publish(sleepy("c-other", "three"))
            await wait_for_events(bus, lambda f: len(f) == 6)
            await caught_up(sink, bus)
            same = await alog_cli(data, "replay", "c-rr", "--rerun", "--nats-url",
                                  nats_server.url, "--timeout", "10")
            every = await alog_cli(data, "replay", "--all", "--since", "1h", "--nats-url",
                                   nats_server.url, "--json")
        finally:
            await worker.stop()
        changed_worker = Worker(bus, ALTERED, FAST)
        await changed_worker.start()
        try:
            changed = await alog_cli(data, "replay", "c-rr", "--rerun", "--nats-url",
                                     nats_server.url, "--json")
            republished = await alog_cli(data, "replay", "c-rr", "--to-stream", "--nats-url",
                                         nats_server.url)
        finally:
            await changed_worker.stop()
    assert same.returncode == 0, same.stdout + same.stderr
    assert "no difference" in same.stdout and "DIFFERS" not in same.stdout
    assert every.returncode == 0, every.stdout + every.stderr
    summary = json.loads(every.stdout)
    assert (summary["conversations"], summary["same"], summary["differ"]) == (2, 2, 0)
    assert changed.returncode == 1
    report = json.loads(changed.stdout)["rerun"]
    assert report["differs"] and report["replay_conversation_id"].startswith("replay-")
    assert [(r["recorded"]["data"], r["now"]["data"]) for r in report["requests"]] == [
        ({"text": "one"}, {"text": "ONE"}), ({"text": "two"}, {"text": "TWO"})]
    assert republished.returncode == 0, republished.stderr
    replayed = await stream_messages(bus, "VC_REPLAY")
    assert sorted(m.subject for m in replayed) == ["vc.replay.c-rr.sleepy.completed"] * 2 + [
        "vc.replay.c-rr.sleepy.requested"] * 2
    live = read_back(data, "SELECT count(*) FROM log_events WHERE conversation_id = 'c-rr'")
    assert live == [(4,)]  # the live conversation is untouched by the reruns


def test_replay_needs_no_nats_and_errors_are_one_line(recorded: Path, tmp_path: Path) -> None:
    folded = log_cli(recorded, "replay", "c-bob")
    assert folded.returncode == 0, folded.stderr
    assert "bob@mail.org" in folded.stdout and "completed" in folded.stdout
    missing = log_cli(recorded, "replay", "nope")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "voicecore: error: no conversation 'nope' in the event log"
    nothing = log_cli(tmp_path / "empty", "log", "conversations")
    assert nothing.returncode == 1 and nothing.stderr.startswith(
        "voicecore: error: no event log at ")


def test_redact_on_the_file_when_nothing_runs(recorded: Path) -> None:
    done = log_cli(recorded, "log", "redact", "c-bob", "--reason", "retention")
    assert done.returncode == 0, done.stderr
    assert "redacted 2 event(s) of c-bob" in done.stdout and "not purged" in done.stdout
    assert log_cli(recorded, "log", "verify").returncode == 0
    timeline = json.loads(log_cli(recorded, "log", "show", "c-bob", "--json").stdout)
    assert timeline[0]["data"]["params"]["transcript"] == "[redacted]"
    assert timeline[0]["data"]["purpose"] == "billing email"
    assert timeline[1]["data"] == {"value": "[redacted]", "confidence": 0.93,
                                   "needs_confirmation": False, "readback": "[redacted]"}
    assert timeline[1]["duration_ms"] is not None and timeline[2]["type"] == "eventlog.redacted"
    shown = log_cli(recorded, "log", "show", "c-bob").stdout
    assert "[redacted]" in shown  # shown as stored, not swallowed as markup
    again = json.loads(log_cli(recorded, "replay", "c-bob", "--json").stdout)
    assert again["redactions"] == 1 and again["captured"][0]["value"] == "[redacted]"
    refused = log_cli(recorded, "replay", "c-bob", "--rerun", "--nats-url", "nats://127.0.0.1:1")
    assert refused.returncode == 1 and "was redacted" in refused.stderr


async def test_piped_tables_keep_whole_conversation_ids(bus: Bus, tmp_path: Path) -> None:
    """Not a terminal: no 80-column cut, whatever COLUMNS says (ids are what users copy)."""
    data = tmp_path / "data"
    long_id = "c-" + "x" * 120 + "-end"
    async with running_sink(bus, data) as sink:
        await publish_many(bus, email_pair(long_id, "ann at example dot com", "a@example.com"))
        await caught_up(sink, bus)
    for env in ({}, {"COLUMNS": "80"}):
        listing = proc.run("log", "conversations", "--data-dir", str(data), env=env)
        assert listing.returncode == 0, listing.stderr
        assert long_id in listing.stdout
    shown = proc.run("replay", long_id, "--data-dir", str(data), env={"COLUMNS": "80"})
    assert long_id in shown.stdout


async def test_rerun_drops_the_recorded_callers_deadline(
    bus: Bus, nats_server: EmbeddedNats, tmp_path: Path
) -> None:
    """A recorded request carries its caller's deadline (every call through the bridge has
    one), long past at a rerun: re-sent with it, the worker answered TIMEOUT without running
    it and every such conversation "differed"."""
    data = tmp_path / "data"
    request = ev.new_event(SleepyRequested, conversation_id="c-late", trace_id="t-late",
                           data=Request(params=SleepyParams(text="late"),
                                        deadline=ev.now() - dt.timedelta(minutes=5)))
    answer = ev.new_event(SLEEPY.completed, conversation_id="c-late", trace_id="t-late",
                          causation_id=request.id, event_id=ids.derive_id(request.id, "result"),
                          data=Echo(text="late"))
    async with running_sink(bus, data) as sink:
        for event in (request, answer):  # as recorded when the caller was still waiting
            await bus.publish(event)
        await caught_up(sink, bus)
        worker = Worker(bus, SLEEPY, FAST)
        await worker.start()
        try:
            rerun = await alog_cli(data, "replay", "c-late", "--rerun", "--nats-url",
                                   nats_server.url, "--json")
        finally:
            await worker.stop()
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    [compared] = json.loads(rerun.stdout)["rerun"]["requests"]
    assert compared["now"] == {"kind": "completed", "data": {"text": "late"}}
