"""The log's CLI at its edges: SQL that reaches for the machine, bad paths, unknown ids,
a broken or busy log file. Each gets one line on stderr and exit status 1, never a
traceback; ``log query`` sees the log and nothing else, from the file or the sink."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from core.bus import Bus
from core.eventlog import db
from core.eventlog.client import open_log
from core.eventlog.schema import DB_FILE
from core.eventlog.service import SERVICE_FILE
from tests.support import proc
from tests.support.eventlog import caught_up, email_pair, publish_many, running_sink

ESCAPES = [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/hostname')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM read_parquet('/etc/passwd')",
    "SELECT * FROM '/etc/passwd'",
    "ATTACH '/tmp/voicecore-escape.duckdb' AS x",
    "COPY (SELECT 1) TO '/tmp/voicecore-escape.csv'",
    "SET enable_external_access = true",
    "RESET lock_configuration",
    "INSTALL httpfs",
    "LOAD httpfs",
    "PRAGMA enable_external_access",
    "SELECT 1; SELECT * FROM read_text('/etc/passwd')",
]
LOCKED = "the configuration has been locked"
"""DuckDB's refusal of a SET after ``lock_configuration`` (not some other error)."""


def cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return proc.run(*args, "--data-dir", str(data))


def one_line_error(done: subprocess.CompletedProcess[str], starts: str = "") -> str:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"voicecore: error: {starts}"), done.stderr
    return done.stderr


@pytest.fixture
async def recorded(bus: Bus, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    async with running_sink(bus, data) as sink:
        await publish_many(bus, email_pair("c-ann", "ann at example dot com", "ann@example.com"))
        await caught_up(sink, bus)
    return data


def test_query_sees_the_log_and_nothing_else_on_the_file(recorded: Path) -> None:
    for sql in ESCAPES:
        done = cli(recorded, "log", "query", sql)
        one_line_error(done)
        assert "root:" not in done.stdout + done.stderr
    assert not Path("/tmp/voicecore-escape.csv").exists()
    assert json.loads(cli(recorded, "log", "query", "--json",
                          "SELECT count(*) AS n FROM events").stdout) == [{"n": 2}]


def test_the_read_only_connection_itself_is_locked_down(recorded: Path) -> None:
    """Below the SELECT-only check: the connection refuses files and settings by itself."""
    source = open_log(recorded)
    try:
        con = source.con  # type: ignore[attr-defined]
        with pytest.raises(duckdb.PermissionException):
            db.rows(con, "SELECT * FROM read_text('/etc/passwd')")
        for setting in ("enable_external_access = true", "autoload_known_extensions = true",
                        "lock_configuration = false"):
            with pytest.raises(duckdb.InvalidInputException, match=LOCKED):
                db.run(con, f"SET {setting}")
    finally:
        source.close()


async def test_query_sees_the_log_and_nothing_else_through_the_running_sink(
    bus: Bus, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    async with running_sink(bus, data) as sink:
        await publish_many(bus, email_pair("c-ann", "ann at example dot com", "ann@example.com"))
        await caught_up(sink, bus)
        answers = [await asyncio.to_thread(cli, data, "log", "query", sql) for sql in ESCAPES]
        con = sink.db.store.con
        for setting in ("enable_external_access = true", "autoload_known_extensions = true"):
            with pytest.raises(duckdb.InvalidInputException, match=LOCKED):
                await sink.db.write(db.run, con, f"SET {setting}")
        # the sink keeps storing events after the lock-down
        await publish_many(bus, email_pair("c-bob", "bob at example dot com", "bob@example.com"))
        await caught_up(sink, bus)
        counted = await asyncio.to_thread(cli, data, "log", "query", "--json",
                                          "SELECT count(*) AS n FROM events")
    for done in answers:
        one_line_error(done)
        assert "root:" not in done.stdout
    assert json.loads(counted.stdout) == [{"n": 4}]


def test_export_destinations_and_unknown_conversations(recorded: Path, tmp_path: Path) -> None:
    missing_dir = cli(recorded, "log", "export", "--format", "jsonl", "-o",
                      str(tmp_path / "nonexistent" / "x.jsonl"))
    assert "cannot write" in one_line_error(missing_dir)
    into_a_dir = cli(recorded, "log", "export", "--format", "jsonl", "-o", str(tmp_path))
    assert "cannot write" in one_line_error(into_a_dir)
    lines = cli(recorded, "log", "export", "--format", "jsonl", "-o", "-")
    assert lines.returncode == 0 and not Path("-").exists()
    assert [json.loads(line)["type"] for line in lines.stdout.splitlines()] == [
        "capture_email.requested", "capture_email.completed"]
    assert "exported 2 event(s) to standard output" in lines.stderr
    parquet = subprocess.run([sys.executable, "-m", "voicecore", "log", "export", "--format",
                              "parquet", "-o", "-", "--data-dir", str(recorded)],
                             cwd=proc.ROOT, capture_output=True, timeout=60, check=False)
    assert parquet.returncode == 0, parquet.stderr
    assert pq.read_table(io.BytesIO(parquet.stdout)).num_rows == 2
    out = tmp_path / "none.jsonl"
    unknown = cli(recorded, "log", "export", "--format", "jsonl", "--conversation", "nope",
                  "-o", str(out))
    assert one_line_error(unknown) == (
        "voicecore: error: no conversation 'nope' in the event log\n")
    assert not out.exists()
    for args in (("log", "show", "nope"), ("replay", "nope"), ("log", "redact", "nope")):
        assert one_line_error(cli(recorded, *args)) == (
            "voicecore: error: no conversation 'nope' in the event log\n")
    for command in ("log show", "log redact", "replay", "log export --format jsonl -o - "
                    "--conversation"):
        huge = cli(recorded, *command.split(), "x" * 100_000)
        assert len(one_line_error(huge)) < 200  # never echoes unbounded input


def test_bad_sql_and_broken_or_missing_log_files(recorded: Path, tmp_path: Path) -> None:
    one_line_error(cli(recorded, "log", "query", "SELECT * FROM nowhere"))
    one_line_error(cli(recorded, "log", "query", "SELEC"))
    one_line_error(cli(recorded, "log", "query", "SELECT 'a\x1b[31mb'::INTEGER"))
    assert "\x1b" not in cli(recorded, "log", "query", "SELECT 'a\x1b[31mb'::INTEGER").stderr
    one_line_error(cli(tmp_path / "missing", "log", "conversations"), "no event log at ")
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    one_line_error(cli(a_file, "log", "verify"), "no event log at ")
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / DB_FILE).write_bytes(b"not a database" * 1000)
    for args in (("log", "conversations"), ("log", "show", "c"), ("replay", "c")):
        one_line_error(cli(garbage, *args), "cannot open the event log")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    duckdb.connect(str(foreign / DB_FILE)).close()  # a DuckDB file, not a log
    for command in ("log conversations", "log show c", "log verify",
                    "log export --format jsonl -o -", "replay c"):
        one_line_error(cli(foreign, *command.split()), "the event log could not answer")


def test_a_log_held_by_another_process(recorded: Path) -> None:
    holder = duckdb.connect(str(recorded / DB_FILE))  # holds the write lock, serves nothing
    try:
        one_line_error(cli(recorded, "log", "conversations"), "the event log in ")
        (recorded / SERVICE_FILE).write_text("[1, 2]")
        one_line_error(cli(recorded, "log", "conversations"), "the event log in ")
        (recorded / SERVICE_FILE).write_text(json.dumps(
            {"nats_url": "nats://127.0.0.1:1", "subject": "vc.log.gone"}))
        one_line_error(cli(recorded, "log", "conversations"), "NATS unavailable")
    finally:
        holder.close()


@pytest.mark.parametrize("body", [
    b"[" * 5000 + b"]" * 5000, b"\xff\xfe", b"[1, 2]", b'{"op": "query", "args": [1]}',
    b'{"args": {}}', b'{"op": "query", "args": {"sql": "SELECT 1 +"}}',
    b'{"op": "no such op"}',
])
async def test_the_log_service_answers_every_request_with_a_one_line_status(
        bus: Bus, tmp_path: Path, body: bytes, caplog: pytest.LogCaptureFixture) -> None:
    async with running_sink(bus, tmp_path / "data") as sink:
        reply = await bus.nc.request(sink._service.subject, body, timeout=10)
    headers = reply.headers or {}
    assert headers["Vc-Log-Status"] == "error"
    assert headers["Vc-Log-Error"] and "\n" not in headers["Vc-Log-Error"]
    assert not [r for r in caplog.records if r.exc_info]  # no traceback per bad request
