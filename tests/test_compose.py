"""compose.yaml cannot run here (no Docker engine): parse it and run its commands for real."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import nats
import pytest
import typer.core
import typer.main
import yaml

from core.natsserver import server_binary
from tests.support.proc import ROOT, free_port
from voicecore.cli import app


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def test_services_and_volumes(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"nats", "voicecore", "worker"}
    for name, svc in compose["services"].items():
        for volume in svc.get("volumes", []):
            assert volume.split(":")[0] in compose["volumes"], name
        for dep in svc.get("depends_on", {}):
            assert dep in compose["services"]


def test_nats_command_starts_the_real_server_with_jetstream(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    svc = compose["services"]["nats"]
    assert svc["image"].startswith("nats:2.")  # the official image
    args = [a.replace("/data", str(tmp_path)) for a in svc["command"]]
    args[args.index("-m") + 1] = str(free_port())
    port = free_port()
    binary = server_binary()
    assert binary is not None
    server = subprocess.Popen([str(binary), *args, "-a", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        asyncio.run(_jetstream_enabled(f"nats://127.0.0.1:{port}"))
    finally:
        server.terminate()
        server.wait(10)


async def _jetstream_enabled(url: str) -> None:
    for _ in range(100):
        try:
            nc = await nats.connect(url, allow_reconnect=False, connect_timeout=1)
        except Exception:
            await asyncio.sleep(0.05)
            continue
        try:
            await nc.jetstream().account_info()
            return
        finally:
            await nc.close()
    raise AssertionError("server from compose command never came up")


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
