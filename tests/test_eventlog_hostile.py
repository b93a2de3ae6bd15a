"""The log's tools against every entry of the hostile corpus, as the real sink stored it.

``log conversations``, ``log show`` (each conversation), ``log query``, ``log export``,
``log verify``, ``replay`` and ``replay --all`` run as real processes on a log built
by the real sink: no traceback, data shown literally, and replay never re-sends a
request that was dead-lettered or never decoded.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest
from nats.aio.msg import Msg

from core import primitive, subjects
from core.bus import Bus
from core.config import StreamLimits
from core.natsserver import EmbeddedNats
from core.worker import Worker
from orchestrator.replay import HEADER_REPLAY_OF
from tests.support import hostile, proc
from tests.support.hostile_log import FAST, build_hostile_log, stored_corpus

ESCAPED = "[/] [bold]john[/bold] :x: [redacted] \\x1b[31m"
"""The start of ``MARKUP_TRANSCRIPT`` as it must be shown: literally, ESC escaped."""


def cli(data: Path, *args: str,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI with its output piped (not a terminal) and no COLUMNS hint."""
    done = proc.run(*args, "--data-dir", str(data), env={"COLUMNS": "80", **(env or {})})
    assert "Traceback" not in done.stderr, done.stderr
    assert "\x1b" not in done.stdout and "\x1b" not in done.stderr
    return done


def ok(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = cli(data, *args)
    assert done.returncode == 0, (args, done.stderr)
    return done


@pytest.fixture
async def hostile_log(bus: Bus, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    await build_hostile_log(bus, data)
    return data


def listed(data: Path) -> list[dict[str, object]]:
    found: list[dict[str, object]] = json.loads(ok(data, "log", "conversations", "--json").stdout)
    return found


@pytest.mark.timeout(600)  # ~120 real CLI processes: over 180 s on a busy 2-core machine
def test_every_read_tool_survives_the_corpus_and_shows_it_literally(
    hostile_log: Path, tmp_path: Path
) -> None:
    conversations = listed(hostile_log)
    by_id = {c["conversation_id"]: c for c in conversations}
    assert {h.conversation_id for h in stored_corpus()
            if h.worker != "silent"} <= set(by_id)
    assert [c for c in conversations if c["outcome"] == "open"] == []  # nothing waits forever
    table = ok(hostile_log, "log", "conversations").stdout
    assert all(str(cid) in table for cid in by_id)  # whole ids, even when piped
    for cid, row in by_id.items():
        ok(hostile_log, "log", "show", str(cid))
        ok(hostile_log, "log", "show", str(cid), "--json")
        ok(hostile_log, "replay", str(cid))
        folded = json.loads(ok(hostile_log, "replay", str(cid), "--json").stdout)
        assert folded["outcome"] == row["outcome"], cid  # the two views agree
    markup = hostile.by_name("markup_transcript").conversation_id
    assert ESCAPED in ok(hostile_log, "log", "show", markup).stdout
    replayed = ok(hostile_log, "replay", markup).stdout  # params are shown as JSON
    assert '"[/] [bold]john[/bold] :x: [redacted] \\u001b' in replayed
    assert "│ [bold]x[/] │" in replayed
    queried = ok(hostile_log, "log", "query",
                 f"SELECT data->>'$.params.transcript' AS t FROM events "
                 f"WHERE conversation_id = '{markup}' AND kind = 'requested'").stdout
    assert ESCAPED in queried
    ok(hostile_log, "log", "query", "SELECT * FROM events")
    ok(hostile_log, "log", "query", "SELECT * FROM primitive_executions")
    assert ok(hostile_log, "log", "verify").stdout.startswith("ok: ")
    rows = json.loads(ok(hostile_log, "log", "query", "--json",
                         "SELECT count(*) AS n FROM log_events").stdout)[0]["n"]
    lines = ok(hostile_log, "log", "export", "--format", "jsonl", "-o", "-").stdout.splitlines()
    assert len(lines) == rows and all(json.loads(line) for line in lines)
    out = tmp_path / "all.parquet"
    ok(hostile_log, "log", "export", "--format", "parquet", "-o", str(out))
    redacted = {"garbage", "markup_transcript", "null_occurred_at", "deep_data", "year_9999"}
    for name in redacted:
        ok(hostile_log, "log", "redact", hostile.by_name(name).conversation_id)
    assert ok(hostile_log, "log", "verify").stdout.startswith("ok: ")
    after = {c["conversation_id"]: c for c in listed(hostile_log)}
    assert {cid: (c["outcome"], c["redacted"]) for cid, c in after.items()} == {
        cid: (c["outcome"], cid in {f"h-{n}" for n in redacted}) for cid, c in by_id.items()}
    assert "[redacted]" in ok(hostile_log, "log", "show", markup).stdout


async def test_replay_all_reruns_only_what_was_a_valid_request(
    hostile_log: Path, tmp_path: Path
) -> None:
    """Rerun on a second NATS with a live worker: the dead-lettered and undecodable
    requests are not published again, and the valid ones give the recorded answers."""
    server = EmbeddedNats(tmp_path / "rerun", port=-1)
    await server.start()
    admin = server.identity("admin").to_env()  # the CLI's credentials for this server
    bus = await Bus.connect(server.url, name="rerun-test", auth=server.identity("admin"))
    republished: list[str] = []

    async def seen(msg: Msg) -> None:
        if msg.subject.endswith(".requested"):
            republished.append((msg.headers or {}).get(HEADER_REPLAY_OF, ""))

    try:
        await bus.ensure_streams(StreamLimits())
        sub = await bus.nc.subscribe(f"{subjects.EVENT_PREFIX}.>", cb=seen)
        capture_email = primitive.get(hostile.PRIMITIVE)
        assert capture_email is not None
        worker = Worker(bus, capture_email, FAST)
        await worker.start()
        try:
            done = await asyncio.to_thread(
                cli, hostile_log, "replay", "--all", "--json", "--nats-url", server.url,
                "--timeout", "30", env=admin)
            rejected = await asyncio.to_thread(
                cli, hostile_log, "replay", hostile.by_name("null_occurred_at").conversation_id,
                "--rerun", "--nats-url", server.url, "--json", env=admin)
        finally:
            await worker.stop()
        await sub.unsubscribe()
    finally:
        await bus.drain()
        await server.stop()
    assert done.returncode == 0, done.stdout
    summary = json.loads(done.stdout)
    assert summary["differ"] == 0 and summary["skipped"] == {}
    assert sorted(republished) == sorted(h.event_id for h in stored_corpus()
                                         if h.worker == "processed")
    assert rejected.returncode == 0, rejected.stdout
    report = json.loads(rejected.stdout)["rerun"]
    assert report["requests"] == [] and report["rejected_not_rerun"] == [
        hostile.by_name("null_occurred_at").event_id]
