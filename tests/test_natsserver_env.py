"""The embedded nats-server's Go runtime is held to half the CPUs (core/natsserver.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.machine import usable_cpus
from core.natsserver import EmbeddedNats, server_env


def environment_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().partition("=")[::2] for item in raw if item)


async def started_env(data_dir: Path) -> dict[str, str]:
    server = EmbeddedNats(data_dir, port=-1)
    await server.start()
    try:
        assert server.pid is not None
        return environment_of(server.pid)
    finally:
        await server.stop()


async def test_the_running_server_gets_half_the_cpus(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOMAXPROCS", raising=False)
    monkeypatch.setenv("VC_TEST_PASSED_ON", "yes")
    env = await started_env(tmp_path / "data")
    assert env["GOMAXPROCS"] == str(max(1, usable_cpus() // 2))
    assert env["VC_TEST_PASSED_ON"] == "yes"  # the rest of our environment is passed on


async def test_a_gomaxprocs_of_ours_is_kept(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOMAXPROCS", "7")
    env = await started_env(tmp_path / "data")
    assert env["GOMAXPROCS"] == "7"


def test_half_rounds_down_but_never_to_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    for cpus, expected in ((1, "1"), (2, "1"), (3, "1"), (8, "4")):
        monkeypatch.setattr("core.natsserver.usable_cpus", lambda cpus=cpus: cpus)
        assert server_env({})["GOMAXPROCS"] == expected
    assert server_env({"PATH": "/bin"})["PATH"] == "/bin"
