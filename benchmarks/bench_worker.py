"""Events/s one worker *process* completes for capture_email, end to end through JetStream.

Two measurements against a real embedded nats-server:

* backlog: N requests are stored first, then one ``voicecore worker capture_email``
  process is started; we time from its ready line until N results are stored,
  and read the worker's CPU time from /proc (how much of the 2 cores it used);
* latency: one request at a time, publish → result seen on a core subscription.

Run: ``python benchmarks/bench_worker.py [--requests 20000] [--concurrency 64]``.
Prints a table and writes ``benchmarks/results/worker.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from core import subjects
from core.bus import Bus
from core.config import StreamLimits
from core.natsserver import EmbeddedNats
from schemas import events as ev
from schemas.payloads import CaptureParams, Language, Request

RESULTS = Path(__file__).parent / "results"
TRANSCRIPTS: list[tuple[str, Language]] = [
    ("my email is john dot smith at gmail dot com", "en"),
    ("um it's j o h n underscore doe at yahoo dot co dot uk thanks", "en"),
    ("sure, mary-ann at example dot org", "en"),
    ("maria punto lopez arroba gmail punto com", "es"),
    ("no wait, it's peter at outlook dot com", "en"),
]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def email_request(i: int) -> ev.Event:
    transcript, language = TRANSCRIPTS[i % len(TRANSCRIPTS)]
    params = CaptureParams(transcript=transcript, language=language)
    return ev.new_event(ev.CaptureEmailRequested, conversation_id=f"bench-{i % 100}",
                        trace_id=f"bench-{i}", data=Request(params=params))


async def stored(bus: Bus) -> int:
    info = await bus.js.stream_info(subjects.EVENTS_STREAM)
    return int(info.state.messages)


async def preload(bus: Bus, n: int) -> None:
    for start in range(0, n, 1000):
        acks = [await bus.js.publish_async(
            subjects.event_subject(e.conversation_id, e.event_type), ev.encode(e),
            headers={subjects.HEADER_MSG_ID: e.id})
            for e in (email_request(i) for i in range(start, min(n, start + 1000)))]
        await asyncio.gather(*acks)


def start_worker(url: str, concurrency: int, data_dir: Path) -> subprocess.Popen[str]:
    """A worker process; its credentials are the server's, in ``data_dir``."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "voicecore", "worker", "capture_email", "--nats-url", url,
         "--concurrency", str(concurrency), "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "ready" not in line:
        raise SystemExit(f"worker did not start: {line!r}")
    return proc


async def backlog(bus: Bus, url: str, n: int, concurrency: int,
                  data_dir: Path) -> dict[str, Any]:
    await preload(bus, n)
    proc = start_worker(url, concurrency, data_dir)
    cpu0, t0 = cpu_seconds(proc.pid), time.perf_counter()
    while await stored(bus) < 2 * n:  # noqa: ASYNC110 -- polling the server, not local state
        await asyncio.sleep(0.02)
    elapsed, cpu = time.perf_counter() - t0, cpu_seconds(proc.pid) - cpu0
    proc.terminate()
    proc.wait(timeout=30)
    return {"requests": n, "concurrency": concurrency, "seconds": round(elapsed, 3),
            "events_per_s": round(n / elapsed), "worker_cpu_s": round(cpu, 3),
            "worker_cpu_us_per_event": round(cpu / n * 1e6, 1)}


async def latency(bus: Bus, url: str, n: int, data_dir: Path) -> dict[str, Any]:
    proc = start_worker(url, 1, data_dir)
    sub = await bus.nc.subscribe("vc.ev.latency.capture_email.*")
    samples = []
    try:
        for i in range(n):
            request = ev.new_event(ev.CaptureEmailRequested, conversation_id="latency",
                                   trace_id=f"lat-{i}", data=email_request(i).data)
            t0 = time.perf_counter()
            await bus.publish(request)
            answer = await sub.next_msg(timeout=10)
            while answer.subject.endswith(".requested"):  # our own request, echoed
                answer = await sub.next_msg(timeout=10)
            samples.append((time.perf_counter() - t0) * 1000)
    finally:
        await sub.unsubscribe()
        proc.terminate()
        proc.wait(timeout=30)
    samples.sort()
    return {"requests": n, "p50_ms": round(statistics.median(samples), 3),
            "p99_ms": round(samples[int(len(samples) * 0.99) - 1], 3)}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedNats(Path(tmp), port=-1, primitives=["capture_email"])
        url = await server.start()
        bus = await Bus.connect(url, auth=server.identity("admin"))
        try:
            await bus.ensure_streams(StreamLimits())
            result = {"backlog": await backlog(bus, url, args.requests, args.concurrency,
                                               Path(tmp))}
            result["latency"] = await latency(bus, url, args.latency_requests, Path(tmp))
        finally:
            await bus.drain()
            await server.stop()
    result["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    return result


def report(result: dict[str, Any]) -> None:
    table = Table("measurement", "value", title="capture_email, one worker process, JetStream")
    b, lat = result["backlog"], result["latency"]
    table.add_row("requests (backlog)", str(b["requests"]))
    table.add_row("worker concurrency", str(b["concurrency"]))
    table.add_row("completed events/s", f"{b['events_per_s']:,}")
    table.add_row("worker CPU per event", f"{b['worker_cpu_us_per_event']} µs")
    table.add_row("sequential latency p50", f"{lat['p50_ms']} ms")
    table.add_row("sequential latency p99", f"{lat['p99_ms']} ms")
    Console().print(table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency-requests", type=int, default=500)
    outcome = asyncio.run(main(parser.parse_args()))
    report(outcome)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "worker.json").write_text(json.dumps(outcome, indent=2) + "\n")
