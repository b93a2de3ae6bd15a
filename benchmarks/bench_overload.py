"""After a burst of calls whose callers gave up: how long the next caller waits.

What users run: ``voicecore up --plugin tests.support.plugin`` (embedded NATS, one worker
per primitive at the default concurrency of 16, the gRPC bridge), a fresh one per run.
The burst is ``--burst`` calls of the test primitive ``sleepy`` (each sleeps
``--work-ms``), far more than the workers can finish before their callers give up.

* ``deadline`` (today): the burst goes through the gRPC bridge, each call with a
  deadline of ``--deadline-ms``; the bridge writes it into the request and a worker
  that picks a request up after it answers ``TIMEOUT`` without running it.
* ``no deadline`` (the baseline, what the bridge did before): the same requests,
  published straight to JetStream without a ``deadline``, so every abandoned request
  is executed.

In both runs, after the burst's callers have given up (``--deadline-ms`` after the last
was sent), ``--probes`` calls are made one after the other through the bridge, and the
run records their latency, how long the backlog took to drain, and how many of the
burst's requests were executed. Prints a table, writes ``results/overload.json``.

Run: ``python benchmarks/bench_overload.py [--burst 1500] [--work-ms 100]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import grpc
import nats
import uvloop
from bench_bridge import free_port, spawn, stop
from rich.console import Console
from rich.table import Table

from bridge._proto import voice_core_pb2 as pb
from bridge.client import SERVICE
from core.natsauth import NatsAuth, identity
from schemas import events as ev
from schemas.payloads import Request

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support.plugin, from any cwd
from tests.support.plugin import SleepyParams, SleepyRequested  # noqa: E402

RESULTS = Path(__file__).parent / "results"
CONSUMER = "primitive_sleepy"


def call_request(conversation: str, seconds: float) -> pb.ExecutePrimitiveRequest:
    req = pb.ExecutePrimitiveRequest(objective_type="sleepy", conversation_id=conversation)
    req.params.update({"seconds": seconds, "text": conversation})
    return req


async def burst_through_bridge(execute: Any, n: int, seconds: float,
                               deadline_s: float) -> dict[str, int]:
    """``n`` calls at once, each giving up after ``deadline_s``; their status codes."""

    async def one(i: int) -> str:
        try:
            await execute(call_request(f"burst-{i}", seconds), timeout=deadline_s)
        except grpc.aio.AioRpcError as exc:
            return str(exc.code().name)
        return "OK"

    return dict(Counter(await asyncio.gather(*(one(i) for i in range(n)))))


async def admin_connection(url: str, data_dir: Path) -> Any:
    """A connection to `up`'s embedded server as the admin identity stored in its data dir."""
    return await nats.connect(url, **identity("admin", NatsAuth(), data_dir).connect_options())


async def burst_without_deadline(url: str, data_dir: Path, n: int, seconds: float,
                                 deadline_s: float) -> dict[str, int]:
    """The same requests as the old bridge published them: no deadline; callers gone."""
    nc = await admin_connection(url, data_dir)
    js = nc.jetstream()
    for i in range(n):
        event = ev.new_event(SleepyRequested, conversation_id=f"burst-{i}", trace_id=f"b-{i}",
                             data=Request(params=SleepyParams(seconds=seconds, text=str(i))))
        await js.publish(f"vc.ev.burst-{i}.sleepy.requested", ev.encode(event),
                         headers={"Nats-Msg-Id": event.id})
    await asyncio.sleep(deadline_s)  # the callers wait as long as in the other run, then go
    await nc.close()
    return {"DEADLINE_EXCEEDED": n}


async def drained_after(url: str, data_dir: Path, started: float) -> float:
    """Seconds from ``started`` until the worker's consumer has nothing pending."""
    nc = await admin_connection(url, data_dir)
    js = nc.jetstream()
    try:
        while True:
            info = await js.consumer_info("VC_EVENTS", CONSUMER)
            if info.num_pending == 0 and info.num_ack_pending == 0:
                return time.perf_counter() - started
            await asyncio.sleep(0.05)
    finally:
        await nc.close()


async def executed(url: str, data_dir: Path) -> dict[str, int]:
    """Burst results by kind: completed = executed, failed = answered TIMEOUT unexecuted."""
    nc = await admin_connection(url, data_dir)
    js = nc.jetstream()
    counts = {}
    for kind in ("completed", "failed"):
        info = await js.stream_info("VC_EVENTS", subjects_filter=f"vc.ev.*.sleepy.{kind}")
        counts[kind] = sum(n for s, n in (info.state.subjects or {}).items()
                           if s.startswith("vc.ev.burst-"))
    await nc.close()
    return counts


async def run_once(mode: str, args: argparse.Namespace) -> dict[str, Any]:
    seconds, deadline_s = args.work_ms / 1000, args.deadline_ms / 1000
    with tempfile.TemporaryDirectory() as tmp:
        nats_port, grpc_port = free_port(), free_port()
        up = spawn(["-m", "voicecore", "up", "--data-dir", tmp, "--nats-port", str(nats_port),
                    "--grpc-addr", f"127.0.0.1:{grpc_port}", "--plugin", "tests.support.plugin"])
        url = f"nats://127.0.0.1:{nats_port}"
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
                execute = channel.unary_unary(
                    SERVICE + "ExecutePrimitive",
                    request_serializer=pb.ExecutePrimitiveRequest.SerializeToString,
                    response_deserializer=pb.ExecutePrimitiveResponse.FromString)
                await execute(call_request("warm-up", 0), timeout=30)
                if mode == "deadline":
                    codes = await burst_through_bridge(execute, args.burst, seconds, deadline_s)
                else:
                    codes = await burst_without_deadline(url, Path(tmp), args.burst, seconds,
                                                         deadline_s)
                started = time.perf_counter()
                drained = asyncio.create_task(drained_after(url, Path(tmp), started))
                probes = []
                for i in range(args.probes):
                    t0 = time.perf_counter()
                    await execute(call_request(f"probe-{i}", 0), timeout=120)
                    probes.append((time.perf_counter() - t0) * 1000)
                drain_s = await drained
            counts = await executed(url, Path(tmp))
        finally:
            stop(up)
    return {"mode": mode, "burst": args.burst, "burst_status_codes": codes,
            "first_probe_ms": round(probes[0], 1),
            "probe_p50_ms": round(statistics.median(probes), 1),
            "backlog_drained_s": round(drain_s, 2),
            "burst_executed": counts["completed"], "burst_answered_timeout": counts["failed"]}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    baseline = await run_once("no deadline", args)
    today = await run_once("deadline", args)
    return {
        "settings": {"burst": args.burst, "work_ms": args.work_ms,
                     "deadline_ms": args.deadline_ms, "probes": args.probes},
        "runs": [baseline, today],
        "ratio_deadline_over_baseline": {
            "first_probe_ms": round(today["first_probe_ms"] / baseline["first_probe_ms"], 3),
            "backlog_drained_s": round(today["backlog_drained_s"]
                                       / baseline["backlog_drained_s"], 3)},
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
    }


def report(result: dict[str, Any]) -> None:
    s = result["settings"]
    table = Table("run", "burst calls' status", "first probe ms", "probe p50 ms",
                  "backlog drained s", "burst executed", "burst answered TIMEOUT",
                  title=f"{s['burst']} calls of {s['work_ms']} ms work, callers give up "
                        f"after {s['deadline_ms']} ms; then {s['probes']} probe calls")
    for run in result["runs"]:
        codes = ", ".join(f"{k} {v}" for k, v in sorted(run["burst_status_codes"].items()))
        table.add_row(run["mode"], codes, str(run["first_probe_ms"]),
                      str(run["probe_p50_ms"]), str(run["backlog_drained_s"]),
                      str(run["burst_executed"]), str(run["burst_answered_timeout"]))
    ratio = result["ratio_deadline_over_baseline"]
    table.add_row("deadline/baseline", "", f"{ratio['first_probe_ms']}×", "",
                  f"{ratio['backlog_drained_s']}×", "", "")
    Console(width=160).print(table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", type=int, default=1500)
    parser.add_argument("--work-ms", type=float, default=100.0)
    parser.add_argument("--deadline-ms", type=float, default=500.0)
    parser.add_argument("--probes", type=int, default=5)
    outcome = uvloop.run(main(parser.parse_args()))
    report(outcome)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "overload.json").write_text(json.dumps(outcome, indent=2) + "\n")
