"""ExecutePrimitive through `voicecore up` (what users run) against an in-process baseline.

Processes (all real, on this machine):

* ``voicecore up`` with a fresh data directory and free ports: embedded nats-server,
  one worker per primitive, the event-log sink, the orchestrator (idle here: no
  conversation) and the gRPC bridge, as users start it;
* the *baseline*: the grpc.aio server of ``bench_bridge.py --serve-baseline`` that calls
  the same primitive function in-process (no NATS, no log), in the same run;
* this process: the client (grpc.aio stubs, uvloop).

For each target: sequential calls (p50, p99), then ``--inflight`` calls in flight
(calls/s, p50, p99), and CPU time per call of each process (``up`` counts its own
Python process; nats-server is its child and counted apart). Prints a table and writes
``benchmarks/results/up.json`` with the same-run ratios ``up``/baseline.

Run: ``python benchmarks/bench_up.py [--calls 10000] [--inflight 64] [--sequential 1000]``.

``--root DIR --entry ARGS`` measure the ``up`` of another checkout instead (an older
commit in a ``git worktree``) against the same baseline, for a same-machine comparison
when the machine's speed is not the one a target was set on. ``--entry`` is what follows
``python`` before ``up`` (``-m voicecore`` here; before the composition root existed,
``-c "from core.cli import app; app()"``).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any

import grpc
import uvloop
from bench_bridge import ROOT, free_port, measure, report, spawn, stop

RESULTS = Path(__file__).parent / "results"
PRIMITIVE = "capture_email"


def children(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (from /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text() if (task / "children").exists() else ""
        found += [int(p) for p in text.split()]
    return found


ROLES = {"nats-server": "nats-server", "voicecore worker": "workers",
         "voicecore.log_sink": "sink", "voicecore orchestrator": "orchestrator"}


def up_processes(up_pid: int) -> dict[str, int]:
    """``up`` itself (the bridge) and its children by role (other children by pid)."""
    procs = {"up": up_pid}
    for child in children(up_pid):
        command = Path(f"/proc/{child}/cmdline").read_text().replace("\0", " ")
        name = next((r for marker, r in ROLES.items() if marker in command), f"pid {child}")
        procs[name] = child
    return procs


async def main(args: argparse.Namespace) -> dict[str, Any]:
    me = os.getpid()
    with tempfile.TemporaryDirectory() as tmp:
        nats_port, grpc_port, base_port = free_port(), free_port(), free_port()
        up = spawn([*shlex.split(args.entry), "up", "--data-dir", tmp,
                    "--nats-port", str(nats_port), "--grpc-addr", f"127.0.0.1:{grpc_port}"],
                   root=args.root.resolve())
        baseline = spawn([str(Path(__file__).parent / "bench_bridge.py"), "--serve-baseline",
                          str(base_port), "--primitive", PRIMITIVE], ready="baseline ready")
        try:
            result: dict[str, Any] = {
                "primitive": PRIMITIVE,
                "baseline": await measure(f"127.0.0.1:{base_port}", PRIMITIVE,
                                          {"client": me, "baseline": baseline.pid},
                                          args.calls, args.sequential, args.inflight),
                "up": await measure(f"127.0.0.1:{grpc_port}", PRIMITIVE,
                                    {"client": me, **up_processes(up.pid)},
                                    args.calls, args.sequential, args.inflight),
            }
        finally:
            for proc in (baseline, up):
                stop(proc)
    for phase in ("sequential", "concurrent"):
        b, r = result["baseline"][phase], result["up"][phase]
        result.setdefault("ratio_up_over_baseline", {})[phase] = {
            "throughput": round(r["calls_per_s"] / b["calls_per_s"], 3),
            "p50": round(r["p50_ms"] / b["p50_ms"], 2)}
    result["up_checkout"] = {"root": str(args.root), "entry": args.entry}
    result["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                         "grpcio": grpc.__version__, "loop": "uvloop"}
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10000, help="calls with --inflight lanes")
    parser.add_argument("--sequential", type=int, default=1000)
    parser.add_argument("--inflight", type=int, default=64)
    parser.add_argument("--output", type=Path, default=RESULTS / "up.json")
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose up is measured")
    parser.add_argument("--entry", default="-m voicecore", help="python ARGS before 'up'")
    cli = parser.parse_args()
    outcome = uvloop.run(main(cli))
    report(outcome, "up", " through voicecore up")
    cli.output.parent.mkdir(exist_ok=True)
    cli.output.write_text(json.dumps(outcome, indent=2) + "\n")
