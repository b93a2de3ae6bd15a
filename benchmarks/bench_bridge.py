"""ExecutePrimitive through the gRPC bridge and JetStream, against an in-process baseline.

Processes (all real, on this machine):

* an embedded nats-server (JetStream, file storage);
* ``voicecore worker <primitive>`` — the primitive's worker;
* ``voicecore bridge`` — the gRPC bridge (bridge → JetStream → worker → JetStream → bridge);
* the *baseline*: a grpc.aio server with the same VoiceCore contract whose
  ExecutePrimitive calls the same primitive function in-process (what this
  project replaces), started as ``python benchmarks/bench_bridge.py --serve-baseline``;
* this process: the client (grpc.aio stubs, uvloop).

For each target: sequential calls (p50, p99), then ``--inflight`` calls in flight
(calls/s, p50, p99), and the CPU time per call of every process (from /proc).
Prints a table and writes ``benchmarks/results/bridge.json``. ``--profile`` runs
the bridge under cProfile and prints its top functions.

Run: ``python benchmarks/bench_bridge.py [--primitive capture_email] [--calls 10000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import uvloop
from bench_worker import TRANSCRIPTS, cpu_seconds  # same inputs and CPU clock as that bench
from rich.console import Console
from rich.table import Table

import core.captures  # noqa: F401  (registers the built-in capture primitives)
from bridge import convert
from bridge._proto import voice_core_pb2 as pb
from bridge.client import SERVICE
from core import primitive as registry
from core.natsserver import EmbeddedNats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support.plugin (the sleepy primitive), from any cwd
RESULTS = Path(__file__).parent / "results"


def params_for(primitive: str, i: int) -> dict[str, Any]:
    if primitive == "sleepy":
        return {"text": f"bench-{i}", "seconds": 0}
    transcript, language = TRANSCRIPTS[i % len(TRANSCRIPTS)]
    return {"transcript": transcript, "language": language}


# --- the baseline server ------------------------------------------------------------


async def serve_baseline(port: int, primitive: str) -> None:
    """VoiceCore.ExecutePrimitive calling the primitive function in this process."""
    prim = registry.get(primitive)
    assert prim is not None, primitive
    from bridge.execute import request_data_type

    data_type = request_data_type(prim)
    import msgspec

    async def execute(req: pb.ExecutePrimitiveRequest, context: Any) -> pb.ExecutePrimitiveResponse:
        started = time.perf_counter()
        data = msgspec.convert({"params": convert.from_struct(req.params)}, data_type)
        result = await prim.execute(data.params)
        resp = pb.ExecutePrimitiveResponse(success=result is not None)
        if result is not None:
            convert.fill_struct(resp.data, msgspec.to_builtins(result))
        resp.metadata.state = "completed" if result is not None else "failed"
        resp.metadata.duration_ms = (time.perf_counter() - started) * 1000
        return resp

    server = grpc.aio.server()
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
        "voicecore.v1.VoiceCore", {"ExecutePrimitive": grpc.unary_unary_rpc_method_handler(
            execute, request_deserializer=pb.ExecutePrimitiveRequest.FromString,
            response_serializer=pb.ExecutePrimitiveResponse.SerializeToString)}),))
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print("baseline ready", flush=True)
    await server.wait_for_termination()


# --- processes ----------------------------------------------------------------------


def spawn(args: list[str], ready: str = "ready", root: Path = ROOT) -> subprocess.Popen[str]:
    """``python ARGS`` run from the checkout ``root`` (this one by default)."""
    env = {**os.environ, "PYTHONPATH": str(root), "VOICECORE_LOG_LEVEL": "ERROR"}
    proc = subprocess.Popen([sys.executable, *args], cwd=root, text=True, env=env,
                            stdout=subprocess.PIPE)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if ready not in line:
        proc.kill()
        raise SystemExit(f"{args} did not start: {line!r}")
    return proc


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- load ---------------------------------------------------------------------------


Call = Callable[[pb.ExecutePrimitiveRequest], Awaitable[pb.ExecutePrimitiveResponse]]


def request(primitive: str, i: int) -> pb.ExecutePrimitiveRequest:
    req = pb.ExecutePrimitiveRequest(objective_type=primitive, conversation_id=f"bench-{i % 64}",
                                     trace_id=f"bench-{i}")
    req.params.update(params_for(primitive, i))
    return req


async def run_calls(call: Call, primitive: str, n: int, inflight: int) -> dict[str, Any]:
    latencies: list[float] = []
    failures = 0
    next_i = 0

    async def one_lane() -> None:
        nonlocal next_i, failures
        while next_i < n:
            i = next_i
            next_i += 1
            t0 = time.perf_counter()
            resp = await call(request(primitive, i))
            latencies.append((time.perf_counter() - t0) * 1000)
            failures += not resp.success

    t0 = time.perf_counter()
    await asyncio.gather(*(one_lane() for _ in range(inflight)))
    elapsed = time.perf_counter() - t0
    latencies.sort()
    return {"calls": n, "inflight": inflight, "seconds": round(elapsed, 3),
            "calls_per_s": round(n / elapsed), "failures": failures,
            "p50_ms": round(statistics.median(latencies), 3),
            "p99_ms": round(latencies[max(int(len(latencies) * 0.99) - 1, 0)], 3)}


async def measure(addr: str, primitive: str, procs: dict[str, int], calls: int,
                  sequential: int, inflight: int) -> dict[str, Any]:
    async with grpc.aio.insecure_channel(addr) as channel:
        stub = channel.unary_unary(
            SERVICE + "ExecutePrimitive",
            request_serializer=pb.ExecutePrimitiveRequest.SerializeToString,
            response_deserializer=pb.ExecutePrimitiveResponse.FromString)
        await run_calls(stub, primitive, 300, 8)  # warm up
        out: dict[str, Any] = {}
        for phase, n, lanes in (("sequential", sequential, 1), ("concurrent", calls, inflight)):
            cpu0 = {name: cpu_seconds(pid) for name, pid in procs.items()}
            result = await run_calls(stub, primitive, n, lanes)
            result["cpu_us_per_call"] = {
                name: round((cpu_seconds(pid) - cpu0[name]) / n * 1e6, 1)
                for name, pid in procs.items()}
            out[phase] = result
    return out


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()


async def main(args: argparse.Namespace) -> dict[str, Any]:
    plugin = ["--plugin", "tests.support.plugin"] if args.primitive == "sleepy" else []
    me = os.getpid()
    with tempfile.TemporaryDirectory() as tmp:
        nats = EmbeddedNats(Path(tmp), port=-1, primitives=[args.primitive])
        url = await nats.start()
        nats_pid = nats._proc.pid if nats._proc else 0
        # --data-dir: where the embedded server's credentials are (each role finds its own)
        worker = spawn(["-m", "voicecore", "worker", args.primitive, "--nats-url", url,
                        "--data-dir", tmp,
                        "--concurrency", str(args.inflight), *plugin])
        bridge_port, base_port = free_port(), free_port()
        profile = Path(tmp) / "bridge.prof"
        prefix = ["-m", "cProfile", "-o", str(profile)] if args.profile else []
        bridge = spawn([*prefix, "-m", "voicecore", "bridge", "--nats-url", url, "--grpc-addr",
                        f"127.0.0.1:{bridge_port}", "--data-dir", tmp, *plugin])
        baseline = spawn([__file__, "--serve-baseline", str(base_port), "--primitive",
                          args.primitive], ready="baseline ready")
        try:
            result = {
                "primitive": args.primitive,
                "baseline": await measure(f"127.0.0.1:{base_port}", args.primitive,
                                          {"client": me, "baseline": baseline.pid},
                                          args.calls, args.sequential, args.inflight),
                "bridge": await measure(f"127.0.0.1:{bridge_port}", args.primitive,
                                        {"client": me, "bridge": bridge.pid,
                                         "worker": worker.pid, "nats-server": nats_pid},
                                        args.calls, args.sequential, args.inflight),
            }
        finally:
            for proc in (baseline, bridge, worker):
                stop(proc)
            await nats.stop()
        if args.profile and profile.exists():
            stats = pstats.Stats(str(profile))
            stats.sort_stats("tottime").print_stats(25)
    for phase in ("sequential", "concurrent"):
        b, r = result["baseline"][phase], result["bridge"][phase]
        result.setdefault("ratio_bridge_over_baseline", {})[phase] = {
            "throughput": round(r["calls_per_s"] / b["calls_per_s"], 3),
            "p50": round(r["p50_ms"] / b["p50_ms"], 2)}
    result["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                         "grpcio": grpc.__version__, "loop": "uvloop"}
    return result


def report(result: dict[str, Any], target: str = "bridge", title: str = "") -> None:
    """The table of ``baseline`` and ``target`` (``bridge`` here, ``up`` in bench_up.py)."""
    table = Table("target", "phase", "in flight", "calls/s", "p50 ms", "p99 ms",
                  "CPU µs/call per process",
                  title=f"ExecutePrimitive({result['primitive']}){title}")
    for name in ("baseline", target):
        for phase in ("sequential", "concurrent"):
            r = result[name][phase]
            cpu = ", ".join(f"{k} {v}" for k, v in r["cpu_us_per_call"].items())
            table.add_row(name, phase, str(r["inflight"]), f"{r['calls_per_s']:,}",
                          str(r["p50_ms"]), str(r["p99_ms"]), cpu)
    for phase, ratio in result[f"ratio_{target}_over_baseline"].items():
        table.add_row(f"{target}/baseline", phase, "", f"{ratio['throughput']}×", "", "",
                      f"p50 {ratio['p50']}×")
    Console(width=160).print(table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--primitive", default="capture_email")
    parser.add_argument("--calls", type=int, default=10000, help="calls with --inflight lanes")
    parser.add_argument("--sequential", type=int, default=1000)
    parser.add_argument("--inflight", type=int, default=64)
    parser.add_argument("--profile", action="store_true", help="cProfile the bridge process")
    parser.add_argument("--serve-baseline", type=int, default=0, help=argparse.SUPPRESS)
    cli = parser.parse_args()
    if cli.primitive == "sleepy":
        import tests.support.plugin  # noqa: F401
    if cli.serve_baseline:
        uvloop.run(serve_baseline(cli.serve_baseline, cli.primitive))
        sys.exit(0)
    outcome = uvloop.run(main(cli))
    report(outcome)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bridge.json").write_text(json.dumps(outcome, indent=2) + "\n")
