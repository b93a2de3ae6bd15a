"""Health: the VoiceCore HealthCheck RPC and the standard ``grpc.health.v1`` statuses.

HealthCheck reports NATS (connected), JetStream (the event stream answers),
each registered primitive's live workers (from presence), and the event log's
sink consumers when one is deployed (``eventlog:<consumer>``: pending events,
whether a sink is pulling, and whether it has stalled). Overall: NOT_SERVING
when NATS or JetStream is down, DEGRADED when a primitive has no live worker,
else SERVING. The standard service reports SERVING/NOT_SERVING for ``""`` and
``voicecore.v1.VoiceCore`` from the NATS connection, refreshed every second,
and NOT_SERVING from the start of shutdown.

A component whose check fails is reported NOT_SERVING with the reason, and the
failure is logged and counted (``core.ignoring.IGNORED``): health answers, it does
not raise. A failing event-log probe leaves the event-log components out (no
sink is known then), logged at WARNING.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from grpc_health.v1 import health_pb2
from grpc_health.v1.health import aio as health_aio

from bridge._proto import voice_core_pb2 as pb
from core import primitive as registry
from core import subjects
from core.bus import Bus
from core.eventlog import progress
from core.ignoring import note_ignored
from core.pause import pause, stop_tasks
from core.presence import PresenceTracker

log = logging.getLogger(__name__)

SERVICE_NAME = "voicecore.v1.VoiceCore"
JETSTREAM_DOWN = "health: JetStream check failed (reported NOT_SERVING)"
EVENTLOG_PROBE = "health: event-log probe failed (its components are left out)"
ComponentCheck = Callable[[], Awaitable[pb.ComponentHealth]]


class Health:
    def __init__(self, bus: Bus, presence: PresenceTracker, version: str,
                 extra: list[ComponentCheck] | None = None,
                 eventlog_stall_s: float = progress.STALL_AFTER_S) -> None:
        self.bus = bus
        self.presence = presence
        self.version = version
        self.extra = list(extra or [])
        """More components (e.g. the event log) as async checks."""
        self.eventlog_stall_s = eventlog_stall_s
        self.standard = health_aio.HealthServicer()
        self._task: asyncio.Task[None] | None = None

    async def check(self) -> pb.HealthCheckResponse:
        components = [self._nats(), await self._jetstream()]
        live = self.presence.live()
        names = sorted({p.name for p in registry.all_primitives()} | set(live))
        for name in names:
            count = live.get(name, 0)
            components.append(pb.ComponentHealth(
                name=f"primitive:{name}",
                status=pb.SERVING if count else pb.NOT_SERVING,
                detail=f"{count} live worker{'s' if count != 1 else ''}"))
        components += await self._event_log()
        components += [await check() for check in self.extra]
        return pb.HealthCheckResponse(status=_overall(components), components=components,
                                      primitives=sorted(live), version=self.version)

    def _nats(self) -> pb.ComponentHealth:
        nc = self.bus.nc
        if nc.is_connected:
            where = nc.connected_url.netloc if nc.connected_url else ""
            return pb.ComponentHealth(name="nats", status=pb.SERVING,
                                      detail=f"{where} (server {nc.connected_server_version})")
        return pb.ComponentHealth(name="nats", status=pb.NOT_SERVING, detail="not connected")

    async def _jetstream(self) -> pb.ComponentHealth:
        try:
            info = await asyncio.wait_for(self.bus.js.stream_info(subjects.EVENTS_STREAM), 1.0)
        except Exception as exc:  # any failure is the answer "not serving", with its reason
            note_ignored(log, JETSTREAM_DOWN, exc)
            return pb.ComponentHealth(name="jetstream", status=pb.NOT_SERVING,
                                      detail=f"{subjects.EVENTS_STREAM}: {exc!r}")
        return pb.ComponentHealth(name="jetstream", status=pb.SERVING,
                                  detail=f"{subjects.EVENTS_STREAM}: {info.state.messages} events")

    async def _event_log(self) -> list[pb.ComponentHealth]:
        """The DuckDB event log's sinks (``eventlog_*`` consumers), when one is deployed.

        NOT_SERVING when no sink is pulling or when one has stalled (the log has not
        advanced for ``eventlog_stall_s`` while events wait): see core/eventlog/progress.py.
        """
        try:
            found = await asyncio.wait_for(self._sinks(), 2.0)
        except Exception as exc:  # health must answer; NATS and JetStream report the cause
            note_ignored(log, EVENTLOG_PROBE, exc, logging.WARNING)
            return []
        return [pb.ComponentHealth(
            name=f"eventlog:{p.consumer}",
            status=pb.SERVING if p.pulling and not p.stalled else pb.NOT_SERVING,
            detail=p.detail) for p in found]

    async def _sinks(self) -> list[progress.SinkProgress]:
        return [await progress.sink_progress(self.bus, name, self.eventlog_stall_s)
                for name in await progress.sink_consumers(self.bus)]

    async def start(self, interval_s: float = 1.0) -> None:
        await self._publish_standard()
        self._task = asyncio.create_task(self._refresh(interval_s), name="bridge health")

    async def stop(self) -> None:
        """Report NOT_SERVING from now on (first step of shutdown)."""
        await stop_tasks(self._task)
        await self.standard.enter_graceful_shutdown()

    async def _refresh(self, interval_s: float) -> None:
        while True:
            await pause(interval_s)
            await self._publish_standard()

    async def _publish_standard(self) -> None:
        status = (health_pb2.HealthCheckResponse.SERVING if self.bus.nc.is_connected
                  else health_pb2.HealthCheckResponse.NOT_SERVING)
        for service in ("", SERVICE_NAME):
            await self.standard.set(service, status)


def _overall(components: list[pb.ComponentHealth]) -> pb.ServingStatus:
    core = [c for c in components if c.name in ("nats", "jetstream")]
    if any(c.status != pb.SERVING for c in core):
        return pb.NOT_SERVING
    if any(c.status != pb.SERVING for c in components):
        return pb.DEGRADED
    return pb.SERVING
