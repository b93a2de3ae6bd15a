"""`voicecore up` as a user runs it: embedded server, built-in primitives, clean stop."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

from core.bus import Bus
from core.natsserver import port_in_use
from schemas import events as ev
from schemas.payloads import CaptureParams, Request
from tests.support import proc
from tests.support.streams import results_for, stream_events, wait_for_events

BUILTINS = ["capture_confirmation", "capture_date", "capture_email", "capture_phone",
            "synthesize", "transcribe", "transcribe_stream"]


def up_args(data_dir: Path, port: int) -> list[str]:
    return ["up", "--data-dir", str(data_dir), "--nats-port", str(port),
            "--grpc-addr", f"127.0.0.1:{proc.free_port()}"]


async def test_up_serves_captures_and_stops_cleanly(tmp_path: Path) -> None:
    port = proc.free_port()
    url = f"nats://127.0.0.1:{port}"
    with proc.started(*up_args(tmp_path, port)) as (up, ready):
        assert ready.startswith(f"voicecore ready: nats {url} (embedded)")
        assert "capture_confirmation, capture_date, capture_email, capture_phone" in ready
        bus = await Bus.connect(url, auth=proc.admin(tmp_path))
        try:
            r = ev.new_event(ev.CaptureEmailRequested, conversation_id="up-1", trace_id="up",
                             data=Request(params=CaptureParams(
                                 transcript="um my email is John dot Smith at gmail dot com")))
            await bus.publish(r)
            found = await wait_for_events(bus, lambda f: bool(results_for(f, {r.id})))
            [result] = results_for(found, {r.id})
            assert result.event_type == "capture_email.completed"
            assert result.data.value == "john.smith@gmail.com"
            doctor = proc.run("doctor", "--nats-url", url, "--data-dir", str(tmp_path))
            assert doctor.returncode == 0, doctor.stdout
            assert "all required checks passed" in doctor.stdout
        finally:
            await bus.drain()
        stopped = proc.stop(up)
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.strip().endswith("voicecore stopped")
    assert (tmp_path / "nats" / "jetstream").is_dir()

    with proc.started(*up_args(tmp_path, port)) as (again, _):
        bus = await Bus.connect(url, auth=proc.admin(tmp_path))
        try:
            kept = await stream_events(bus)
            assert [e.id for e in kept if e.causation_id == r.id] == [result.id]
        finally:
            await bus.drain()
        assert proc.stop(again).returncode == 0


def test_busy_port_is_a_one_line_error(tmp_path: Path) -> None:
    port = proc.free_port()
    with proc.started(*up_args(tmp_path / "a", port)) as (first, _):
        second = proc.run(*up_args(tmp_path / "b", port))
        assert proc.stop(first).returncode == 0
    assert second.returncode == 1
    assert second.stderr.strip() == (
        f"voicecore: error: NATS port 127.0.0.1:{port} is already in use: stop that server, "
        "or pass --nats-port N, or --nats-url URL to use it")


def test_primitives_lists_the_builtins() -> None:
    done = proc.run("primitives", "--json")
    assert done.returncode == 0
    assert [p["name"] for p in json.loads(done.stdout)] == BUILTINS


async def test_embedded_server_does_not_outlive_a_killed_up(tmp_path: Path) -> None:
    port = proc.free_port()
    with proc.started(*up_args(tmp_path, port)) as (up, _):
        assert port_in_use("127.0.0.1", port)
        proc.stop(up, signal.SIGKILL)
    for _ in range(100):
        if not port_in_use("127.0.0.1", port):
            break
        await asyncio.sleep(0.1)
    assert not port_in_use("127.0.0.1", port), "orphaned nats-server still holds the port"
