"""`voicecore up` keeps NATS secrets out of sight: not printed, not in argv, not in any file
but its 0600 credential files; and `--no-auth` says loudly what it turns off."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path

from core.bus import Bus
from core.natsauth import ROLES
from core.natsserver import EmbeddedNats
from tests.support import proc
from tests.test_up import up_args
from tests.test_up_roles import children


def passwords(data_dir: Path) -> list[str]:
    return [json.loads(f.read_text())["password"]
            for f in sorted((data_dir / "credentials").glob("*.json"))]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def readable_by_others(root: Path) -> list[Path]:
    """Files under ``root`` that someone other than their owner may read (not 0600)."""
    return [p for p in root.rglob("*") if p.is_file() and mode(p) & 0o077]


async def test_up_keeps_its_credentials_out_of_sight(tmp_path: Path) -> None:
    port, grpc = proc.free_port(), f"127.0.0.1:{proc.free_port()}"
    url = f"nats://127.0.0.1:{port}"
    args = ["up", "--data-dir", str(tmp_path), "--nats-port", str(port), "--grpc-addr", grpc]
    with proc.started(*args) as (up, ready):
        secrets = passwords(tmp_path)
        assert len(secrets) == len(ROLES)
        called = await asyncio.to_thread(  # through the bridge, the worker and the sink
            proc.run, "exec", "capture_email", "--conversation", "secret-1", "--param",
            "transcript=ann dot lee at example dot com", "--grpc-addr", grpc)
        assert "ann.lee@example.com" in called.stdout, called.stderr
        for _ in range(100):  # the sink stores within a moment; read it as the cli identity
            shown = await asyncio.to_thread(proc.run, "log", "show", "secret-1", "--json",
                                            "--data-dir", str(tmp_path))
            if shown.returncode == 0 and len(json.loads(shown.stdout)) == 2:
                break
            await asyncio.sleep(0.1)
        assert shown.returncode == 0, shown.stderr
        doctor = await asyncio.to_thread(proc.run, "doctor", "--data-dir", str(tmp_path),
                                         "--nats-url", url)
        assert "all required checks passed" in doctor.stdout, doctor.stdout
        argv = " ".join(children(up.pid).values())
        service = tmp_path / "eventlog.service.json"
        assert mode(service) == 0o600
        exposed = {p: p.read_bytes() for p in readable_by_others(tmp_path)}
        stopped = proc.stop(up)
    assert stopped.returncode == 0, stopped.stderr
    assert "voicecore-sink" not in argv and "voicecore-worker" not in argv
    seen = [ready, stopped.stdout, stopped.stderr, argv, shown.stdout, shown.stderr,
            doctor.stdout]
    for secret in secrets:
        assert not any(secret in text for text in seen)
        assert not [p for p, body in exposed.items() if secret.encode() in body]
    assert mode(tmp_path / "credentials") == 0o700
    assert {mode(f) for f in (tmp_path / "credentials").iterdir()} == {0o600}
    assert mode(tmp_path / "nats" / "nats-server.conf") == 0o600
    # Every role had the rights it needed: the server refused nothing (it logs a refusal
    # as "Publish Violation" or "Subscription Violation").
    assert "Violation" not in (tmp_path / "nats" / "nats-server.log").read_text()


async def test_up_no_auth_warns_and_admits_anyone(tmp_path: Path) -> None:
    port = proc.free_port()
    with proc.started(*up_args(tmp_path, port), "--no-auth") as (up, _):
        bus = await Bus.connect(f"nats://127.0.0.1:{port}")  # anonymous: admitted
        await bus.drain()
        stopped = proc.stop(up)
    assert stopped.returncode == 0
    assert "WARNING: --no-auth" in stopped.stderr
    assert "forge" in stopped.stderr and not (tmp_path / "credentials").exists()


async def test_credentials_in_a_nats_url_are_masked(tmp_path: Path) -> None:
    """An external server reached with ``user:password@`` in the URL (discouraged, but
    accepted): the ready line, the service file and the children's argv never show it."""
    server = EmbeddedNats(tmp_path / "server", port=-1)
    await server.start()
    try:
        user, password = [json.loads((tmp_path / "server" / "credentials" / "admin.json")
                                     .read_text())[k] for k in ("user", "password")]
        secret_url = f"nats://{user}:{password}@127.0.0.1:{server.port}"
        data = tmp_path / "data"
        with proc.started("up", "--nats-url", secret_url, "--data-dir", str(data),
                          "--grpc-addr", f"127.0.0.1:{proc.free_port()}") as (up, ready):
            argv = " ".join(children(up.pid).values())
            service = (data / "eventlog.service.json").read_text()
            stopped = proc.stop(up)
        assert ready.startswith(f"voicecore ready: nats nats://***@127.0.0.1:{server.port} "
                                "(external)"), ready
        for text in (ready, argv, service, stopped.stdout, stopped.stderr):
            assert password not in text
        assert json.loads(service)["nats_url"] == f"nats://127.0.0.1:{server.port}"
    finally:
        await server.stop()
