"""A sink that cannot progress is reported by HealthCheck and by ``voicecore doctor``.

The stall is real: the sink's DuckDB connection is closed under it, so every write
fails (a genuine failure of the file, not a mock); the sink keeps retrying and keeps
every message unacked in the stream.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rich.console import Console

from bridge._proto import voice_core_pb2 as pb
from bridge.client import VoiceCoreClient
from bridge.server import serve_bridge
from core.bus import Bus
from core.config import Settings
from core.doctor import run_checks
from core.eventlog import progress
from core.natsserver import EmbeddedNats
from tests.bridge.conftest import OPTIONS
from tests.support.eventlog import bulk_events, caught_up, publish_many, read_back, running_sink

STALL_S = 1.0


async def event_log_component(client: VoiceCoreClient) -> pb.ComponentHealth:
    health = await client.health()
    [component] = [c for c in health.components if c.name.startswith("eventlog:")]
    return component


async def doctor_says(nats_server: EmbeddedNats, data: Path) -> tuple[bool, str]:
    console = Console(record=True, width=300)
    settings = Settings(data_dir=data, nats_url=nats_server.url,
                        nats_auth=nats_server.identity("cli"))  # doctor's read-only identity
    ok = await run_checks(settings, console)
    return ok, console.export_text()


async def test_a_sink_that_cannot_write_is_reported_stalled(
        bus: Bus, nats_server: EmbeddedNats, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    monkeypatch.setattr(progress, "STALL_AFTER_S", STALL_S)  # doctor's threshold
    async with running_sink(bus, data) as sink, \
            serve_bridge(bus, "127.0.0.1:0", OPTIONS) as bridge, \
            VoiceCoreClient(bridge.address) as client:
        bridge.health.eventlog_stall_s = STALL_S
        await publish_many(bus, bulk_events(10))
        await caught_up(sink, bus)
        healthy = await event_log_component(client)
        assert (healthy.status, healthy.detail) == (pb.SERVING, "0 events not yet logged")
        ok, said = await doctor_says(nats_server, data)
        assert ok and f"event log {sink.consumer}" in said, said

        await sink.db.write(sink.db.store.con.close)  # from now on every write fails
        await publish_many(bus, bulk_events(6))
        component = await event_log_component(client)
        for _ in range(600):  # until it is reported (the stall must last STALL_S first)
            if component.status != pb.SERVING:
                break
            await asyncio.sleep(0.1)
            component = await event_log_component(client)
        assert component.status == pb.NOT_SERVING
        assert component.detail.startswith("6 events not yet logged; STALLED: the log has not "
                                           "advanced for "), component.detail
        assert (await client.health()).status == pb.DEGRADED
        ok, said = await doctor_says(nats_server, data)
        assert not ok and "STALLED" in said and "doctor: problems found" in said, said
        assert sink.failing_since is not None and "cannot be written" in str(sink.last_error)
    assert read_back(data, "SELECT count(*), max(seq) FROM log_events") == [(10, 10)]


async def test_a_log_whose_sink_stopped_while_events_wait_fails_doctor(
        bus: Bus, nats_server: EmbeddedNats, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    monkeypatch.setattr(progress, "STALL_AFTER_S", STALL_S)
    async with running_sink(bus, data) as sink:
        await publish_many(bus, bulk_events(4))
        await caught_up(sink, bus)
    ok, said = await doctor_says(nats_server, data)  # stopped, but nothing waits
    assert ok, said
    await publish_many(bus, bulk_events(2))  # now events wait and nothing records them
    for _ in range(600):
        if (await progress.sink_progress(bus, sink.consumer, STALL_S)).stalled:
            break
        await asyncio.sleep(0.1)
    ok, said = await doctor_says(nats_server, data)
    assert not ok and "2 events not yet logged; STALLED" in said and "start it" in said, said
