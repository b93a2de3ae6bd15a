"""The event log: ingest rate, ``show`` latency at 1M events, fold-replay rate, rerun rate.

Against a real embedded nats-server and a real DuckDB file:

* ingest: N events are stored in VC_EVENTS first, then the sink starts as ``voicecore up``
  starts it (``python -m voicecore.log_sink``, a process of its own); events/s is measured at
  steady state, from 10% to 100% of its consumer's ack floor (it acks after each commit),
  with the sink process's CPU time per event over the same span;
* lag: then, the same sink idle, events published one at a time at ``--lag-rate`` per
  second; each one's lag is from before its publish to the first poll (every 2 ms) of
  the consumer's ack floor that covers it: stored and queryable (p50, p99, and how many
  transactions: ack-floor moves);
* show: a log of 1,000,000 events (10,000 conversations; built through the
  writer's own batch path, without NATS, to save minutes) is opened read-only
  and one conversation's timeline is queried (median and p95 over 200 random ones);
* fold: every event of 2,000 conversations read back from the log, decoded
  and folded with ``orchestrator.state.fold`` (events/s, read included and not);
* rerun: ``voicecore replay --all --rerun`` on conversations recorded through a
  real ``capture_email`` worker: conversations/s.

Run: ``python benchmarks/bench_eventlog.py [--ingest 200000] [--show-events 1000000]
[--only ingest,show,fold,rerun]`` (ingest includes lag).
Prints a table and writes ``benchmarks/results/eventlog.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sink_process import bench_ingest

from core import subjects
from core.bus import Bus
from core.captures import CAPTURE_EMAIL
from core.config import StreamLimits, WorkerOptions
from core.eventlog import readback, reading
from core.eventlog.client import open_log
from core.eventlog.database import LogDatabase
from core.eventlog.sink import Sink
from core.eventlog.store import LogStore
from core.natsserver import EmbeddedNats
from core.worker import Worker
from orchestrator.replay import replay_state
from orchestrator.state import fold
from orchestrator.views import VIEWS
from schemas import events as ev
from schemas import ids
from schemas.payloads import CaptureParams, CaptureResult, Request
from voicecore.loop import run_async
from voicecore.rerun_all import recorded_conversations, rerun_all

RESULTS = Path(__file__).parent / "results"
console = Console()


def pair(conversation: str, i: int) -> list[ev.Event]:
    request = ev.new_event(ev.CaptureEmailRequested, conversation_id=conversation,
                           trace_id=f"bench-{i}", data=Request(params=CaptureParams(
                               transcript=f"my email is user {i} at example dot com")))
    result = ev.new_event(ev.CaptureEmailCompleted, conversation_id=conversation,
                          trace_id=request.trace_id, causation_id=request.id,
                          event_id=ids.derive_id(request.id, "result"),
                          data=CaptureResult(value=f"user{i}@example.com", confidence=0.95,
                                             needs_confirmation=False,
                                             readback=f"user {i} at example dot com"))
    return [request, result]


async def preload(bus: Bus, n: int, conversations: int) -> None:
    for start in range(0, n, 2000):
        batch = [e for i in range(start // 2, min(n, start + 2000) // 2)
                 for e in pair(f"conv-{i % conversations}", i)]
        acks = [await bus.js.publish_async(
            subjects.event_subject(e.conversation_id, e.event_type), ev.encode(e),
            headers={subjects.HEADER_MSG_ID: e.id, subjects.HEADER_EVENT_TYPE: e.event_type})
            for e in batch]
        await asyncio.gather(*acks)


def build_big_log(path: Path, n: int, conversations: int) -> float:
    store = LogStore.open(path, views=VIEWS)
    start = time.perf_counter()
    seq, batch = 0, []
    for i in range(n // 2):
        for e in pair(f"conv-{random.randrange(conversations)}", i):
            seq += 1
            batch.append((seq, subjects.event_subject(e.conversation_id, e.event_type),
                          ev.encode(e), {subjects.HEADER_MSG_ID: e.id}))
        if len(batch) >= 5000:
            store.apply(batch)
            batch = []
    store.apply(batch)
    store.close()
    return n / (time.perf_counter() - start)


def bench_show(path: Path, conversations: int) -> dict[str, Any]:
    source = open_log(path.parent)
    try:
        con = source.con  # type: ignore[attr-defined]
        picks = [f"conv-{random.randrange(conversations)}" for _ in range(200)]
        reading.timeline(con, picks[0])  # warm the cache once, as a running CLI would
        times, rows = [], 0
        for cid in picks:
            start = time.perf_counter()
            table = reading.timeline(con, cid)
            times.append((time.perf_counter() - start) * 1000)
            rows += table.num_rows
    finally:
        source.close()
    times.sort()
    return {"median_ms": statistics.median(times), "p95_ms": times[int(len(times) * 0.95)],
            "events_per_conversation": rows / len(picks)}


def bench_fold(path: Path, conversations: int) -> dict[str, Any]:
    source = open_log(path.parent)
    try:
        tables = []
        start = time.perf_counter()
        for i in range(min(2000, conversations)):
            tables.append(source.table("conversation_events", conversation_id=f"conv-{i}"))
        read_s = time.perf_counter() - start
        events = sum(t.num_rows for t in tables)
        start = time.perf_counter()
        for i, table in enumerate(tables):
            replay_state(table, f"conv-{i}")
        fold_s = time.perf_counter() - start
        decoded = [readback.entries(t) for t in tables[:200]]
        start = time.perf_counter()
        for found in decoded:
            fold(found)
        pure_s = time.perf_counter() - start
        pure_events = sum(len(d) for d in decoded)
    finally:
        source.close()
    return {"events": events, "fold_events_per_s": events / fold_s,
            "with_read_events_per_s": events / (fold_s + read_s),
            "pure_fold_events_per_s": pure_events / pure_s}


async def bench_rerun(conversations: int, base: Path) -> dict[str, Any]:
    server = EmbeddedNats(base / "rerun", port=-1)
    url = await server.start()
    bus = await Bus.connect(url, auth=server.identity("admin"))
    data = base / "rerun-data"
    try:
        await bus.ensure_streams(StreamLimits())
        options = WorkerOptions(concurrency=64, fetch_timeout_s=0.1)
        database = await LogDatabase.open(data, views=VIEWS)
        worker = Worker(bus, CAPTURE_EMAIL, options)
        await worker.start()
        async with Sink(bus, database) as sink:
            for c in range(conversations):
                for i in range(3):
                    await bus.publish(pair(f"rr-{c}", c * 3 + i)[0])
            total = conversations * 6
            for _ in range(12_000):  # until the worker answered every request (≤ 10 min)
                if worker.completed >= conversations * 3:
                    break
                await asyncio.sleep(0.05)
            await sink.wait_for((await bus.js.stream_info(subjects.EVENTS_STREAM)).state.last_seq)
            assert database.store.last_pos >= total
            source = await asyncio.to_thread(open_log, data, auth=server.identity("cli"))
            tables = await asyncio.to_thread(recorded_conversations, source, None, None)
            await asyncio.to_thread(source.close)
            quiet = Console(quiet=True)
            start = time.perf_counter()
            code = await rerun_all(tables, url, server.identity("admin"), 30.0, 16, False, quiet)
            elapsed = time.perf_counter() - start
        await worker.stop()
        await database.close()
    finally:
        await bus.drain()
        await server.stop()
    return {"conversations": conversations, "requests_per_conversation": 3,
            "conversations_per_s": conversations / elapsed, "differ": code != 0}


def measure(args: argparse.Namespace, base: Path) -> dict[str, Any]:
    parts, results = set(args.only.split(",")), {}
    if "ingest" in parts:
        results["ingest"] = run_async(bench_ingest(args.ingest, base, args.lag_events,
                                                   args.lag_rate, preload, pair))
    big = base / "big" / "eventlog.duckdb"
    if parts & {"show", "fold"}:
        results["show"] = {"log_events": args.show_events, "writer_batch_rows_per_s":
                           build_big_log(big, args.show_events, args.conversations)}
    if "show" in parts:
        results["show"].update(bench_show(big, args.conversations))
    if "fold" in parts:
        results["fold"] = bench_fold(big, args.conversations)
    if "rerun" in parts:
        results["rerun"] = run_async(bench_rerun(args.rerun_conversations, base))
    return results


def report(results: dict[str, Any], show_events: int) -> None:
    table = Table("measure", "result", "target", title="event log")
    if ingest := results.get("ingest"):
        lag = ingest["lag"]
        table.add_row("ingest, stream → DuckDB (steady; the sink's own process)",
                      f"{ingest['steady_events_per_s']:,.0f} events/s, "
                      f"{ingest['sink_cpu_us_per_event']:.1f} µs sink CPU per event", "≥ 50,000/s")
        table.add_row(f"lag, publish → stored, {lag['rate_per_s']:g} events/s",
                      f"p50 {lag['p50_ms']:.1f} ms, p99 {lag['p99_ms']:.1f} ms "
                      f"({lag['events']} events, {lag['ack_floor_moves']} commits seen)",
                      "≤ 100 ms")
    if show := results.get("show", {}).get("median_ms"):
        table.add_row(f"show one conversation among {show_events:,}",
                      f"{show:.1f} ms median, {results['show']['p95_ms']:.1f} ms p95", "< 20 ms")
    if fold := results.get("fold"):
        table.add_row("fold-replay (decode + fold)",
                      f"{fold['fold_events_per_s']:,.0f} events/s", "≥ 200,000/s")
        table.add_row("fold-replay incl. reading the log",
                      f"{fold['with_read_events_per_s']:,.0f} events/s", "")
        table.add_row("fold only (decoded events)",
                      f"{fold['pure_fold_events_per_s']:,.0f} events/s", "")
    if rerun := results.get("rerun"):
        table.add_row("--rerun capture_email (3 requests each)",
                      f"{rerun['conversations_per_s']:,.1f} conversations/s", "")
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ingest", type=int, default=200_000)
    parser.add_argument("--lag-events", type=int, default=400)
    parser.add_argument("--lag-rate", type=float, default=20.0, help="events/s")
    parser.add_argument("--show-events", type=int, default=1_000_000)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--rerun-conversations", type=int, default=300)
    parser.add_argument("--only", default="ingest,show,fold,rerun")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = measure(args, Path(tmp))
    report(results, args.show_events)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "eventlog.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
