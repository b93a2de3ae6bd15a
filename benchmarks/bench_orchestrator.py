"""Text conversations through the full stack: `voicecore up` (NATS, workers, event-log
sink, gRPC bridge) with one `voicecore orchestrator` process, and scripted callers here.

Measured in one run:

* **conversations/s**: ``--conversations`` conversations of the contact flow (greeting,
  email with read-back and yes, phone, goodbye: 3 turns, 4 primitive calls each),
  ``--concurrency`` at a time, from the first request to the last end;
* **the orchestrator's added latency per turn**: for each turn, from ``turn.received``
  to the first orchestrator event it caused (the reply step), minus the time of the
  primitive calls made for it (each ``<primitive>.requested`` → its result, as the
  events' clocks say); and the primitive calls' own time per turn, both p50/p99;
* **memory per live conversation**: the orchestrator's RSS with ``--idle`` conversations
  waiting at their first question, minus its RSS before, divided by ``--idle``.

Prints a table and writes ``benchmarks/results/orchestrator.json`` (with the load average).
Run: ``python benchmarks/bench_orchestrator.py [--conversations 400] [--concurrency 50]
[--idle 500]``.
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
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the scripted callers live in the tests package

from core.bus import Bus  # noqa: E402
from schemas import conversation_events as ce  # noqa: E402
from schemas.envelope import Event  # noqa: E402
from schemas.events import new_event  # noqa: E402
from tests.support import proc  # noqa: E402
from tests.support.conversations import contact_flow, request, scripted_call, stack  # noqa: E402
from tests.support.streams import stream_events  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
ORCHESTRATOR = frozenset({"conversation", "objective", "prompt"})


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no RSS for {pid}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def turn_latencies(events: list[Event]) -> tuple[list[float], list[float]]:
    """(orchestrator's added ms, primitive calls' ms) per turn, from the stored events."""
    by_conversation: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        by_conversation[event.conversation_id].append(event)
    added, primitive = [], []
    for found in by_conversation.values():
        requests = {e.id: e for e in found if e.event_type.endswith(".requested")
                    and e.source not in ORCHESTRATOR}
        for turn in (e for e in found if isinstance(e, ce.TurnReceived)):
            reply = next((e for e in found if e.causation_id == turn.id
                          and e.source in ORCHESTRATOR), None)
            if reply is None:
                continue
            calls = [(requests[e.causation_id], e) for e in found
                     if e.causation_id in requests and e.source not in ORCHESTRATOR
                     and turn.occurred_at <= requests[e.causation_id].occurred_at
                     <= reply.occurred_at]
            spent = sum((r.occurred_at - q.occurred_at).total_seconds() for q, r in calls)
            total = (reply.occurred_at - turn.occurred_at).total_seconds()
            added.append(1000 * (total - spent))
            primitive.append(1000 * spent)
    return added, primitive


async def conversations(bus: Bus, count: int, concurrency: int) -> float:
    """Seconds for ``count`` scripted conversations, ``concurrency`` at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def one(n: int) -> None:
        async with gate:
            call = await scripted_call(bus, contact_flow(), [
                f"user{n} at example dot com", "yes", f"415 555 2{n % 1000:03d}"])
            assert isinstance(call.end, ce.ConversationCompleted), call.end

    started = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(count)))
    return time.perf_counter() - started


async def idle_conversations(bus: Bus, count: int) -> None:
    """``count`` conversations asked for and left waiting at their first question."""
    waiting = asyncio.Event()
    asked: set[str] = set()

    async def on_prompt(msg: Any) -> None:
        asked.add(msg.subject.split(".")[2])
        if len(asked) >= count:
            waiting.set()

    sub = await bus.nc.subscribe("vc.ev.*.prompt.spoken", cb=on_prompt)
    document = contact_flow()
    for n in range(count):
        await bus.publish(new_event(ce.ConversationRequested, conversation_id=f"idle-{n}",
                                    trace_id=f"idle{n}", data=request(document)))
    await asyncio.wait_for(waiting.wait(), 600)
    await sub.unsubscribe()


async def main(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-orchestrator-") as scratch, \
            stack(Path(scratch)) as running:
        orchestrator = running.orchestrator(lease_ttl=10)
        pid = orchestrator.pid  # type: ignore[attr-defined]
        bus = await Bus.connect(running.url, auth=proc.admin(Path(scratch)))
        try:
            await conversations(bus, 20, 10)  # warm up (connections, first imports)
            seconds = await conversations(bus, args.conversations, args.concurrency)
            added, primitive = turn_latencies(await stream_events(bus))
            before = rss_kib(pid)
            await idle_conversations(bus, args.idle)
            after = rss_kib(pid)
        finally:
            await bus.drain()
    return {
        "conversations": args.conversations, "concurrency": args.concurrency,
        "conversations_per_s": round(args.conversations / seconds, 1),
        "turns_per_s": round(3 * args.conversations / seconds, 1),
        "turns_measured": len(added),
        "orchestrator_added_ms_p50": round(percentile(added, 0.5), 2),
        "orchestrator_added_ms_p99": round(percentile(added, 0.99), 2),
        "primitive_ms_per_turn_p50": round(percentile(primitive, 0.5), 2),
        "primitive_ms_per_turn_p99": round(percentile(primitive, 0.99), 2),
        "turn_ms_mean": round(statistics.fmean(a + p for a, p in zip(added, primitive,
                                                                        strict=True)), 2),
        "idle_conversations": args.idle, "orchestrator_rss_before_kib": before,
        "orchestrator_rss_after_kib": after,
        "kib_per_live_conversation": round((after - before) / args.idle, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count(),
    }


def report(result: dict[str, Any]) -> None:
    rows = [("conversations/s", result["conversations_per_s"]),
            ("turns/s", result["turns_per_s"]),
            ("orchestrator added ms/turn p50", result["orchestrator_added_ms_p50"]),
            ("orchestrator added ms/turn p99", result["orchestrator_added_ms_p99"]),
            ("primitive calls ms/turn p50", result["primitive_ms_per_turn_p50"]),
            ("primitive calls ms/turn p99", result["primitive_ms_per_turn_p99"]),
            ("KiB per live conversation", result["kib_per_live_conversation"]),
            ("load average (1, 5, 15 min)", result["load_average"])]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--idle", type=int, default=500)
    arguments = parser.parse_args()
    import uvloop

    measured = uvloop.run(main(arguments))
    report(measured)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "orchestrator.json").write_text(json.dumps(measured, indent=2) + "\n")
