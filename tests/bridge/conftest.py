"""Fixtures: a real grpc.aio bridge on a free port over the real nats-server, and a client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from bridge.client import VoiceCoreClient, audio_service_stub
from bridge.server import Bridge, BridgeOptions, serve_bridge
from core import primitive as registry
from core.bus import Bus
from core.config import WorkerOptions
from core.stt.settings import SttSettings
from core.stt.whisper import Transcriber
from core.worker import Worker
from schemas.events import Event
from tests.support.plugin import SLEEPY
from tests.support.streams import stream_events

FAST = WorkerOptions(concurrency=64, ack_wait_s=2.0, max_deliver=2, backoff_s=(0.05,),
                     fetch_timeout_s=0.2, shutdown_grace_s=2.0)
OPTIONS = BridgeOptions(default_timeout_s=10.0, grace_s=1.0)


@pytest.fixture
async def sleepy_worker(bus: Bus) -> AsyncIterator[Worker]:
    worker = Worker(bus, SLEEPY, FAST)
    await worker.start()
    yield worker
    await worker.stop()


@pytest.fixture
async def email_worker(bus: Bus) -> AsyncIterator[Worker]:
    prim = registry.get("capture_email")
    assert prim is not None
    worker = Worker(bus, prim, FAST)
    await worker.start()
    yield worker
    await worker.stop()


@pytest.fixture
async def bridge(bus: Bus) -> AsyncIterator[Bridge]:
    async with serve_bridge(bus, "127.0.0.1:0", OPTIONS) as running:
        yield running


@pytest.fixture
async def client(bridge: Bridge) -> AsyncIterator[VoiceCoreClient]:
    async with VoiceCoreClient(bridge.address) as connected:
        yield connected


@pytest.fixture
async def channel(bridge: Bridge) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(bridge.address) as opened:
        yield opened


async def stored_events(bus: Bus, subject: str = "vc.ev.>") -> list[Event]:
    """The events stored under ``subject``; rides out a slow fetch on a loaded machine."""
    for _ in range(5):
        try:
            return await stream_events(bus, subject)
        except TimeoutError:  # nats-py raises the builtin one from fetch under load
            await asyncio.sleep(0.1)
    return await stream_events(bus, subject)


async def wait_stored(bus: Bus, predicate: Callable[[list[Event]], bool],
                      subject: str = "vc.ev.>", timeout: float = 20.0) -> list[Event]:
    deadline = time.monotonic() + timeout
    while True:
        found = await stored_events(bus, subject)
        if predicate(found):
            return found
        assert time.monotonic() < deadline, f"not stored in {timeout}s: {found}"
        await asyncio.sleep(0.1)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Transcriber]:
    """The real tiny.en model, loaded once per module that hears speech."""
    transcriber = Transcriber(SttSettings(model="tiny.en", idle_unload_s=0,
                                          cache_dir=Path(tmp_path_factory.mktemp("models"))))
    yield transcriber
    transcriber.unload()


@pytest.fixture
async def audio_stub(channel: grpc.aio.Channel) -> Any:
    """An AudioService client stub on the bridge."""
    return audio_service_stub(channel)


async def status_of(call: Any) -> tuple[grpc.StatusCode, str]:
    """The status a call (unary, or a stream read to its end) fails with."""
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await _finished(call)
    return failed.value.code(), failed.value.details() or ""


async def _finished(call: Any) -> None:
    if hasattr(call, "__aiter__"):
        async for _ in call:
            pass
    else:
        await call
