"""The event log inside `voicecore up`: logged live, read while running, and after it stopped."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from core.bus import Bus
from schemas import events as ev
from schemas.payloads import CaptureParams, Request
from tests.support import proc
from tests.support.streams import results_for, wait_for_events


async def test_up_logs_events_and_the_cli_reads_while_it_runs(tmp_path: Path) -> None:
    port = proc.free_port()
    url = f"nats://127.0.0.1:{port}"
    data = ["--data-dir", str(tmp_path)]
    with proc.started("up", *data, "--nats-port", str(port),
                      "--grpc-addr", f"127.0.0.1:{proc.free_port()}") as (up, _):
        bus = await Bus.connect(url, auth=proc.admin(tmp_path))
        try:
            r = ev.new_event(ev.CaptureEmailRequested, conversation_id="up-log", trace_id="up",
                             data=Request(params=CaptureParams(
                                 transcript="my email is ann dot lee at example dot com")))
            await bus.publish(r)
            await wait_for_events(bus, lambda f: bool(results_for(f, {r.id})))
        finally:
            await bus.drain()
        shown: list[dict[str, object]] = []
        for _ in range(100):  # the sink stores within a moment; ask the running service
            done = await asyncio.to_thread(proc.run, "log", "show", "up-log", "--json", *data)
            if done.returncode == 0 and len(shown := json.loads(done.stdout)) == 2:
                break
            await asyncio.sleep(0.1)
        assert [row["type"] for row in shown] == ["capture_email.requested",
                                                  "capture_email.completed"]
        assert (tmp_path / "eventlog.service.json").exists()
        stopped = proc.stop(up)
    assert stopped.returncode == 0, stopped.stderr
    assert not (tmp_path / "eventlog.service.json").exists()
    verified = proc.run("log", "verify", *data)  # now from the file itself
    assert verified.returncode == 0 and verified.stdout.startswith("ok: 2 row(s)")
    replayed = json.loads(proc.run("replay", "up-log", "--json", *data).stdout)
    assert [c["value"] for c in replayed["captured"]] == ["ann.lee@example.com"]
