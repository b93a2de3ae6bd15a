"""`voicecore up`'s roles in child processes: restarted when one dies, gone when `up` dies."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import duckdb

from core.bus import Bus
from core.eventlog.schema import DB_FILE
from core.natsserver import port_in_use
from schemas import events as ev
from schemas.payloads import CaptureParams, Request
from tests.support import proc
from tests.support.streams import results_for, wait_for_events
from tests.test_up import up_args


def children(pid: int) -> dict[int, str]:
    """The live child processes of ``pid``: their command lines."""
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            if alive(int(child)):
                found[int(child)] = Path(f"/proc/{child}/cmdline").read_text().replace("\0", " ")
    return found


def alive(pid: int) -> bool:
    """Running (a zombie, waiting for a parent that does not reap it, is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def role(pid: int, marker: str) -> int:
    [found] = [child for child, cmd in children(pid).items() if marker in cmd]
    return found


async def test_a_killed_worker_process_is_restarted_and_serves(tmp_path: Path) -> None:
    port = proc.free_port()
    with proc.started(*up_args(tmp_path, port)) as (up, _):
        first = role(up.pid, "voicecore worker")
        os.kill(first, signal.SIGKILL)
        bus = await Bus.connect(f"nats://127.0.0.1:{port}", auth=proc.admin(tmp_path))
        try:
            r = ev.new_event(ev.CaptureEmailRequested, conversation_id="restart", trace_id="r",
                             data=Request(params=CaptureParams(
                                 transcript="it is ann dot lee at example dot com")))
            await bus.publish(r)  # answered by the worker process `up` started again
            found = await wait_for_events(bus, lambda f: bool(results_for(f, {r.id})))
            assert results_for(found, {r.id})[0].data.value == "ann.lee@example.com"
        finally:
            await bus.drain()
        assert role(up.pid, "voicecore worker") != first
        stopped = proc.stop(up)
    assert stopped.returncode == 0, stopped.stderr
    assert "the worker process exited" in stopped.stderr


async def test_no_role_outlives_a_killed_up(tmp_path: Path) -> None:
    with proc.started(*up_args(tmp_path, proc.free_port())) as (up, _):
        roles = [role(up.pid, marker) for marker in (
            "voicecore worker", "voicecore.log_sink", "nats-server")]
        proc.stop(up, signal.SIGKILL)
    for _ in range(300):
        if not any(alive(pid) for pid in roles):
            break
        await asyncio.sleep(0.1)
    assert not [pid for pid in roles if alive(pid)], "a role outlived `up`"


def test_a_role_that_cannot_start_is_one_line_and_nothing_is_left(tmp_path: Path) -> None:
    port = proc.free_port()
    held = duckdb.connect(str(tmp_path / DB_FILE))  # the sink cannot lock the log file
    try:
        done = proc.run(*up_args(tmp_path, port))
    finally:
        held.close()
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith("voicecore: error: cannot open the event log"), line
    assert not port_in_use("127.0.0.1", port)
