"""`voicecore up` with the bridge, `voicecore bridge`, `exec` and `events`, as real processes."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

from core.natsserver import EmbeddedNats
from tests.support import proc


def test_up_serves_grpc_and_exec_events_bridge_commands_work(
        tmp_path: Path, nats_server: EmbeddedNats) -> None:
    addr = f"127.0.0.1:{proc.free_port()}"
    up = proc.voicecore("up", "--data-dir", str(tmp_path), "--nats-url", nats_server.url,
                        "--grpc-addr", addr, "--plugin", "tests.support.plugin")
    events = None
    try:
        assert f"grpc {addr}" in proc.wait_ready(up)
        done = proc.run("exec", "sleepy", "--param", "text=hello", "--param", "seconds=0",
                        "--conversation", "cli-1", "--trace-id", "cli-trace",
                        "--grpc-addr", addr)
        assert done.returncode == 0, done.stderr
        answer = json.loads(done.stdout)
        assert answer["success"] is True and answer["data"] == {"text": "hello"}
        assert answer["metadata"]["trace_id"] == "cli-trace"
        assert answer["metadata"]["state"] == "completed"

        bad = proc.run("exec", "sleepy", "--param", "oops", "--grpc-addr", addr)
        assert (bad.returncode, bad.stderr.strip()) == (
            1, "voicecore: error: --param 'oops': use KEY=VALUE")
        invalid = proc.run("exec", "sleepy", "--param", "text=1", "--grpc-addr", addr)
        assert invalid.returncode == 1
        assert json.loads(invalid.stdout)["error"]["code"] == "INVALID_PARAMS"
        typed = proc.run("exec", "sleepy", "--plugin", "tests.support.plugin", "--param",
                         "text=1", "--param", "seconds=0", "--grpc-addr", addr)
        assert json.loads(typed.stdout)["data"] == {"text": "1"}, typed.stderr
        unknown = proc.run("exec", "nosuch", "--grpc-addr", addr)
        assert unknown.returncode == 1 and "Traceback" not in unknown.stderr
        assert json.loads(unknown.stdout)["error"]["code"] == "PRIMITIVE_NOT_FOUND"
        rejected = proc.run("exec", "sleepy", "--conversation", "a.b", "--grpc-addr", addr)
        assert rejected.returncode == 1 and "Traceback" not in rejected.stderr
        assert rejected.stderr.startswith("voicecore: error: INVALID_ARGUMENT")

        events = proc.voicecore("events", "--conversation", "cli-1", "--from-start",
                                "--grpc-addr", addr)
        assert events.stdout is not None
        lines = [json.loads(events.stdout.readline()) for _ in range(2)]
        assert [e["type"] for e in lines] == ["sleepy.requested", "sleepy.completed"]
        assert {e["trace_id"] for e in lines} == {"cli-trace"}
        assert proc.stop(events, signal.SIGINT).returncode in (0, 130)
        events = None

        second = f"127.0.0.1:{proc.free_port()}"
        extra = proc.voicecore("bridge", "--nats-url", nats_server.url,
                               "--grpc-addr", second, "--plugin", "tests.support.plugin")
        try:
            assert f"grpc {second}" in proc.wait_ready(extra)
            via = proc.run("exec", "sleepy", "--param", "text=via-second", "--grpc-addr", second)
            assert json.loads(via.stdout)["data"] == {"text": "via-second"}, via.stderr
        finally:
            assert _stop(extra).returncode == 0
    finally:
        if events is not None:
            proc.stop(events, signal.SIGKILL)
        stopped = _stop(up)
    assert stopped.returncode == 0, stopped.stderr
    assert "voicecore stopped" in stopped.stdout


def _stop(process: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    """SIGTERM and collect; a process that does not stop is killed (and the test fails)."""
    try:
        return proc.stop(process)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate(timeout=10)
        raise AssertionError(f"{process.args!r} did not stop on SIGTERM:\n{err}") from None


def test_exec_against_no_bridge_is_one_line() -> None:
    down = proc.run("exec", "sleepy", "--grpc-addr", f"127.0.0.1:{proc.free_port()}")
    assert down.returncode == 1
    assert down.stderr.startswith("voicecore: error: UNAVAILABLE")
    assert len(down.stderr.strip().splitlines()) == 1


def test_busy_grpc_port_is_one_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = proc.run("up", "--data-dir", str(tmp_path), "--nats-port",
                          str(proc.free_port()), "--grpc-addr", f"127.0.0.1:{port}")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"voicecore: error: cannot listen on 127.0.0.1:{port} for gRPC (in use?): "
        "pass --grpc-addr"]


def test_exec_converts_params_by_the_primitives_types(tmp_path: Path) -> None:
    """A phone number typed as digits stays a string, a date stays a date (issue 7, item 11);
    the response prints with its keys sorted."""
    addr = f"127.0.0.1:{proc.free_port()}"
    with proc.started("up", "--data-dir", str(tmp_path), "--nats-port", str(proc.free_port()),
                      "--grpc-addr", addr) as (up, _):
        phone = proc.run("exec", "capture_phone", "--param", "transcript=4155552671",
                         "--grpc-addr", addr)
        assert phone.returncode == 0, (phone.stdout, phone.stderr)
        assert json.loads(phone.stdout)["data"]["value"] == "+14155552671"
        # the same result prints the same text on every run (a Struct's order varies by process)
        assert phone.stdout.strip() == json.dumps(json.loads(phone.stdout), indent=2,
                                                  sort_keys=True)
        date = proc.run("exec", "capture_date", "--param", "transcript=tomorrow",
                        "--param", "reference_date=2026-01-01", "--grpc-addr", addr)
        assert json.loads(date.stdout)["data"]["value"] == "2026-01-02", date.stderr
        assert _stop(up).returncode == 0
