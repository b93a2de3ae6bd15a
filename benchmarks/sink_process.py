"""The event log's sink as ``voicecore up`` runs it: ingest rate, CPU per event, lag.

Used by ``bench_eventlog.py`` (see its docstring for what is measured).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench_worker import cpu_seconds  # the same CPU clock as that bench

from core import subjects
from core.bus import Bus
from core.config import StreamLimits
from core.eventlog.progress import sink_consumers
from core.natsserver import EmbeddedNats
from schemas import events as ev
from voicecore.roles import sink_role

Preload = Callable[[Bus, int, int], Awaitable[None]]
Pair = Callable[[str, int], list[ev.Event]]


async def bench_ingest(n: int, base: Path, lag_events: int, lag_rate: float,
                       preload: Preload, pair: Pair) -> dict[str, Any]:
    server = EmbeddedNats(base / "ingest", port=-1)
    url = await server.start()
    bus = await Bus.connect(url, auth=server.identity("admin"))
    sink = sink_role(url, base / "ingest-data", server.identity("sink"))
    try:
        await bus.ensure_streams(StreamLimits())
        await preload(bus, n, 1000)
        await sink.start()
        assert sink.process is not None
        pid, [consumer] = sink.process.pid, await sink_consumers(bus)
        marks: list[tuple[float, int, float]] = []
        while not marks or marks[-1][1] < n:
            marks.append((time.perf_counter(), await acked(bus, consumer), cpu_seconds(pid)))
            await asyncio.sleep(0.05)
        lag = await bench_lag(bus, consumer, lag_events, lag_rate, pair)
    finally:
        await sink.stop()
        await bus.drain()
        await server.stop()
    t10, s10, cpu10 = next(m for m in marks if m[1] >= n // 10)
    (start, _, _), (end, _, cpu_end) = marks[0], marks[-1]
    return {"events": n, "total_s": end - start, "steady_events_per_s": (n - s10) / (end - t10),
            "overall_events_per_s": n / (end - start),
            "sink_cpu_us_per_event": (cpu_end - cpu10) / (n - s10) * 1e6, "lag": lag}


async def acked(bus: Bus, consumer: str) -> int:
    """The stream sequence up to which the sink has stored and acked everything."""
    info = await bus.js.consumer_info(subjects.EVENTS_STREAM, consumer)
    return int(info.ack_floor.stream_seq if info.ack_floor else 0)


async def bench_lag(bus: Bus, consumer: str, events: int, rate: float,
                    pair: Pair) -> dict[str, Any]:
    """Publish → stored, one event every 1/``rate`` s, the sink otherwise idle."""
    stored_at: dict[int, float] = {}
    last: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def watch() -> None:
        floor = await acked(bus, consumer)
        while not last.done() or floor < last.result():
            seen, now = await acked(bus, consumer), time.perf_counter()
            stored_at.update((s, now) for s in range(floor + 1, seen + 1))
            floor = seen
            await asyncio.sleep(0.002)

    watcher = asyncio.create_task(watch())
    sent: list[tuple[int, float]] = []
    for i in range(events // 2):
        for event in pair(f"lag-{i}", i):
            at = time.perf_counter()
            ack = await bus.js.publish(
                subjects.event_subject(event.conversation_id, event.event_type),
                ev.encode(event), headers={subjects.HEADER_MSG_ID: event.id})
            sent.append((ack.seq, at))
            await asyncio.sleep(max(0.0, at + 1 / rate - time.perf_counter()))
    last.set_result(sent[-1][0])
    await watcher
    lags = sorted((stored_at[seq] - at) * 1000 for seq, at in sent)
    moves = len({stored_at[seq] for seq, _ in sent})
    return {"events": len(sent), "rate_per_s": rate, "p50_ms": statistics.median(lags),
            "p99_ms": lags[min(len(lags) - 1, int(len(lags) * 0.99))], "max_ms": lags[-1],
            "ack_floor_moves": moves}
