"""Redaction leaves no copy (issue 9, item 6): a real `voicecore up` (nats-server, sink,
workers), a captured email with a distinctive value, a dead-lettered request and a
`replay --to-stream` copy of the same conversation; after `voicecore log redact` and a
clean stop, no file under the data directory (JetStream's store, the DuckDB file and its
WAL, everything else) holds the value's bytes, and `voicecore log verify` still passes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import duckdb
import nats
import pytest
from nats.js.errors import NotFoundError

from core import subjects
from core.bus import Bus
from core.eventlog import db
from core.eventlog.schema import DB_FILE
from schemas import events as ev
from schemas.payloads import CaptureParams, Request
from tests.support import proc
from tests.support.streams import results_for, stream_messages, wait_for_events
from tests.test_up import up_args

CONVERSATION = "secret-conversation"
MARKS = (b"quagga", b"zephyrine")
"""Words of the value and its transcript, found nowhere else."""
TRANSCRIPT = "it is quagga dot zephyrine at example dot org"
KEPT, KEPT_TEXT = "kept-conversation", "it is okapi dot lee at example dot org"


def files_holding(directory: Path, marks: tuple[bytes, ...]) -> list[str]:
    return sorted(str(path.relative_to(directory)) for path in directory.rglob("*")
                  if path.is_file() and any(mark in path.read_bytes() for mark in marks))


async def capture(url: str, data: Path) -> None:
    """In the secret conversation, then in another one (so the streams' block files go on
    holding messages after the secret ones: a block whose messages were all removed is
    deleted whole, which would hide a removal that leaves the bytes): one answered capture
    and one dead-lettered request each; until the sink logged them all."""
    bus = await Bus.connect(url, auth=proc.admin(data))
    try:
        for conversation_id, transcript in ((CONVERSATION, TRANSCRIPT), (KEPT, KEPT_TEXT)):
            await capture_in(bus, conversation_id, transcript)
        await wait_until(lambda: dead_lettered(bus, 2))
        await wait_until(lambda: sink_caught_up(bus))
    finally:
        await bus.drain()


async def capture_in(bus: Bus, conversation_id: str, transcript: str) -> None:
    sent = [ev.new_event(ev.CaptureEmailRequested, conversation_id=conversation_id,
                         trace_id="secret", data=Request(params=CaptureParams(
                             transcript=text))) for text in (transcript, (transcript + ", ") * 120)]
    for request in sent:  # the second is over 4,000 characters: dead-lettered
        await bus.publish(request)
    wanted = {r.id for r in sent}
    found = await wait_for_events(bus, lambda f: len(results_for(f, wanted)) == 2, timeout=60)
    assert {r.event_type for r in results_for(found, wanted)} == {
        "capture_email.completed", "capture_email.failed"}


async def dead_lettered(bus: Bus, count: int) -> bool:
    return len(await stream_messages(bus, subjects.DLQ_STREAM)) >= count


async def sink_caught_up(bus: Bus) -> bool:
    sinks = [c for c in await bus.js.consumers_info(subjects.EVENTS_STREAM)
             if c.name.startswith(subjects.EVENTLOG_CONSUMER_PREFIX)]
    return bool(sinks) and all(c.num_pending == 0 and c.num_ack_pending == 0 for c in sinks)


async def wait_until(check: object, tries: int = 600) -> None:
    for _ in range(tries):
        if await check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"never true: {check}")


async def copies_left(url: str, data: Path) -> dict[str, int]:
    """Messages holding the value, per stream (0 for a stream that does not exist)."""
    nc = await nats.connect(url, **proc.admin(data).connect_options())
    try:
        bus = Bus(nc)
        return {stream: await holding(bus, stream) for stream in (
            subjects.EVENTS_STREAM, subjects.DLQ_STREAM, subjects.REPLAY_STREAM)}
    finally:
        await nc.drain()


async def holding(bus: Bus, stream: str) -> int:
    try:
        messages = await stream_messages(bus, stream)
    except NotFoundError:
        return 0
    return sum(any(mark in msg.data for mark in MARKS) for msg in messages)


def redact(data: Path, url: str, env: dict[str, str]) -> None:
    """`voicecore log redact` through the running `up`; nothing of the value left in the
    streams, nor in the DuckDB file or its WAL (checkpointed with the redaction)."""
    assert files_holding(data, MARKS)  # the test finds them when they are there
    redacted = proc.run("log", "redact", CONVERSATION, "--json", env=env)
    assert redacted.returncode == 0, redacted.stderr
    result = json.loads(redacted.stdout)
    assert result["checkpointed"] is True
    assert result["stream_erased"][subjects.DLQ_STREAM] == 1
    assert result["stream_erased"][subjects.REPLAY_STREAM] >= 4
    assert result["stream_erased"][subjects.EVENTS_STREAM] >= 4
    assert asyncio.run(copies_left(url, data)) == dict.fromkeys(
        (subjects.EVENTS_STREAM, subjects.DLQ_STREAM, subjects.REPLAY_STREAM), 0)
    assert [f for f in files_holding(data, MARKS) if f.startswith(DB_FILE)] == []


@pytest.mark.parametrize("restarted", [False, True], ids=["same-run", "after-a-restart"])
def test_after_a_redaction_no_file_of_the_data_directory_holds_the_value(
        tmp_path: Path, restarted: bool) -> None:
    """``restarted``: `up` stopped and started again between the capture and the redaction,
    so the values had been checkpointed into the DuckDB file (its clean close does that)."""
    data, port = tmp_path / "data", proc.free_port()
    url = f"nats://127.0.0.1:{port}"
    env = {"VOICECORE_DATA_DIR": str(data), "VOICECORE_NATS_URL": url}
    with proc.started(*up_args(data, port)) as (up, _):
        asyncio.run(capture(url, data))
        for conversation_id in (CONVERSATION, KEPT):
            replayed = proc.run("replay", conversation_id, "--to-stream", env=env)
            assert replayed.returncode == 0, replayed.stderr
        if not restarted:
            redact(data, url, env)
        stopped = proc.stop(up)
    assert stopped.returncode == 0, stopped.stderr
    if restarted:
        assert [f for f in files_holding(data, MARKS) if f.startswith(DB_FILE)]
        with proc.started(*up_args(data, port)) as (up, _):
            redact(data, url, env)
            stopped = proc.stop(up)
        assert stopped.returncode == 0, stopped.stderr
    assert files_holding(data, MARKS) == []
    assert files_holding(data, (b"okapi",))  # the other conversation is all there
    verified = proc.run("log", "verify", env=env)
    assert verified.returncode == 0, verified.stdout


def test_a_redaction_while_nothing_runs_is_erased_from_the_streams_at_the_next_start(
        tmp_path: Path) -> None:
    data, port = tmp_path / "data", proc.free_port()
    url = f"nats://127.0.0.1:{port}"
    env = {"VOICECORE_DATA_DIR": str(data)}
    with proc.started(*up_args(data, port)) as (up, _):
        asyncio.run(capture(url, data))
        assert proc.stop(up).returncode == 0
    redacted = proc.run("log", "redact", CONVERSATION, env=env)  # on the file itself
    assert redacted.returncode == 0, redacted.stderr
    assert "erases them when it next runs" in redacted.stdout
    assert [f for f in files_holding(data, MARKS) if not f.startswith(DB_FILE)]
    with proc.started(*up_args(data, port)) as (up, _):
        asyncio.run(wait_until(lambda: no_copies_left(url, data)))
        stopped = proc.stop(up)
    assert stopped.returncode == 0, stopped.stderr
    assert files_holding(data, MARKS) == []


async def no_copies_left(url: str, data: Path) -> bool:
    return not any((await copies_left(url, data)).values())


def test_erase_replaced_overwrites_the_blocks_that_held_replaced_values(tmp_path: Path) -> None:
    """DuckDB only marks the blocks of replaced values free (checkpointed before, e.g. by a
    restart): after ``erase_replaced`` no byte of them is left in the file. The values sit
    inside JSON, as in the log (a column's min/max statistics keep the first bytes of its
    strings, README "No copy left")."""
    path = tmp_path / DB_FILE
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE t (pos BIGINT PRIMARY KEY, conversation VARCHAR, data VARCHAR)")
    con.execute("""INSERT INTO t SELECT range, 'c' || (range % 50), '{"value": "' || CASE
                   WHEN range % 50 = 7 THEN 'quagga' || range ELSE md5(range::VARCHAR) END
                   || '"}' FROM range(300000)""")
    db.run(con, "CHECKPOINT")
    db.run(con, "UPDATE t SET data = '[redacted]' WHERE conversation = 'c7'")
    db.run(con, "CHECKPOINT")
    assert b"quagga" in path.read_bytes()  # only marked free
    assert db.erase_replaced(con)
    assert db.rows(con, "SELECT count(*) FROM t WHERE data = '[redacted]'") == [(6000,)]
    con.close()
    assert b"quagga" not in path.read_bytes()
