"""compose.yaml cannot run here (no Docker engine): parse it and run its commands for real."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer.core
import typer.main
import yaml

from core.bus import Bus
from core.errors import BusError, BusRefused
from core.natsauth import NatsAuth, identity
from core.natsserver import server_binary
from tests.support.proc import ROOT, free_port, run, supervised, voicecore
from voicecore.cli import app


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


SECRETS = "./secrets/"
"""Written by `voicecore nats-config --write secrets`; bind-mounted or compose secrets."""


def test_services_and_volumes(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"nats", "voicecore", "worker"}
    for name, svc in compose["services"].items():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            assert source in compose["volumes"] or source.startswith(SECRETS), name
            if source.startswith(SECRETS):
                assert volume.endswith(":ro"), (name, volume)
        for dep in svc.get("depends_on", {}):
            assert dep in compose["services"]
        for secret in svc.get("secrets", []):
            assert compose["secrets"][secret]["file"].startswith(SECRETS), name


def test_nothing_is_open_to_the_host_but_the_token_guarded_grpc(
        compose: dict[str, Any]) -> None:
    """No anonymous 4222, no monitoring 8222 on the host; gRPC requires the bearer token."""
    published = {name: svc.get("ports", []) for name, svc in compose["services"].items()}
    assert published == {"nats": [], "voicecore": ["50051:50051"], "worker": []}
    token = compose["services"]["voicecore"]["environment"]["VOICECORE_GRPC_TOKEN"]
    assert token.startswith("${VOICECORE_GRPC_TOKEN:?")  # compose refuses to start without
    assert compose["services"]["nats"]["command"] == ["-c", "/run/secrets/nats_conf"]


def test_compose_runs_with_authenticated_least_privilege_nats(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    """The nats service's command with the written config, then the voicecore and worker
    services' commands against it, each role with its own credentials file."""
    secrets = tmp_path / "secrets"
    written = run("nats-config", "--write", str(secrets))
    assert written.returncode == 0, written.stderr
    config = compose["secrets"]["nats_conf"]["file"].replace(SECRETS, f"{secrets}/")
    port, monitor = free_port(), free_port()
    local = tmp_path / "nats.conf"  # the container's paths and ports, on this machine
    local.write_text(Path(config).read_text().replace('"/data"', f'"{tmp_path / "js"}"')
                     .replace("port: 4222", f"port: {port}")
                     .replace("http_port: 8222", f"http_port: {monitor}"))
    args = [a.replace("/run/secrets/nats_conf", str(local))
            for a in compose["services"]["nats"]["command"]]
    binary = server_binary()
    assert binary is not None
    server = subprocess.Popen([str(binary), *args, "-a", "127.0.0.1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"nats://127.0.0.1:{port}"
    try:
        asyncio.run(_refuses_anonymous_and_admits_the_admin(url, secrets))
        for service in ("voicecore", "worker"):
            data = tmp_path / service  # /data of that container: its credentials mounted
            shutil.copytree(secrets / "credentials", data / "credentials")
            command = [_local(a, url, data) for a in compose["services"][service]["command"]]
            child = voicecore(*command[1:], env={"VOICECORE_DATA_DIR": str(data),
                                                  "VOICECORE_GRPC_TOKEN": "t0ken"})
            with supervised(child) as (_, ready):
                assert "voicecore ready" in ready
    finally:
        server.terminate()
        server.wait(10)


def _local(arg: str, url: str, data: Path) -> str:
    return {"nats://nats:4222": url, "/data": str(data),
            "0.0.0.0:50051": f"127.0.0.1:{free_port()}"}.get(arg, arg)


async def _refuses_anonymous_and_admits_the_admin(url: str, secrets: Path) -> None:
    for _ in range(100):
        try:
            await Bus.connect(url)
        except BusRefused:
            break
        except BusError:
            await asyncio.sleep(0.05)
    else:
        raise AssertionError("server from compose command never came up")
    with pytest.raises(BusRefused):
        await Bus.connect(url)
    admin = await Bus.connect(url, auth=identity("admin", NatsAuth(), secrets))
    try:
        await admin.js.account_info()
    finally:
        await admin.drain()


@pytest.mark.parametrize("service", ["voicecore", "worker"])
def test_voicecore_commands_parse_with_the_real_cli(compose: dict[str, Any], service: str) -> None:
    command = compose["services"][service]["command"]
    assert command[0] == "voicecore"
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    sub = group.get_command(group.make_context("voicecore", list(command[1:])), command[1])
    assert sub is not None, f"no such subcommand {command[1]}"
    sub.make_context(command[1], list(command[2:]))  # raises on an unknown flag or bad value


def test_dockerfile_copies_what_exists() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text().splitlines()
    copies = [line.split()[1:-1] for line in dockerfile if line.startswith("COPY")]
    for sources in copies:
        for source in sources:
            assert (ROOT / source).exists(), source
    assert any(line.startswith("FROM python:3.11") for line in dockerfile)
