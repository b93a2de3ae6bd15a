"""Spoken conversations through the full stack: scripted callers who *speak* their answers
to flows/contact_details.yaml.

`voicecore up` (NATS, workers, event-log sink, gRPC bridge) with one `voicecore
orchestrator` process; ``--callers`` callers from a seeded generator
(tests/support/spoken_callers.py: names, addresses, numbers, dates; fillers, spelled
addresses, self-corrections, an old address put right at the read-back). Each reply is
synthesized by the stack (Piper ``en_US-joe-medium`` and espeak-ng ``en-us+m3``,
alternating; ``--voices`` names others), sent as an audio turn, transcribed by Whisper
(``--model``, ``tiny.en`` by default) with the objective's hint and captured,
confirmation and re-prompts doing their job. Measured per model and voice:

* **task success**: the conversation completed with every slot (email, phone, callback
  date) equal to what the caller meant;
* **mean turns**: the caller's replies per conversation (answers to read-backs included);
* **errors caught by confirmation**: a read-back of a value the caller did not say (a
  recognizer error), the caller's "no", and the slot right in the end;
* **"no" read as yes**: answers "no, it's …" to a read-back that ``capture_confirmation``
  read as a yes (the wrong value is then kept unless the correction reads differently).

Prints a table (and each failed conversation: which slot, what Whisper heard, what the
capture read) and writes ``benchmarks/results/spoken.json`` with the load average.
Run: ``python benchmarks/bench_spoken.py [--callers 50] [--concurrency 2] [--model base]
[--steady] [--voices piper:en_US-joe-medium,espeak-ng:en-us+klatt] [--out NAME.json]``.
Piper samples its speech (and Whisper's words vary with it) unless
``--steady`` sets ``VOICECORE_PIPER_NOISE_SCALE``/``_W_SCALE`` to 0.
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the scripted callers live in the tests package

from core.bus import Bus  # noqa: E402
from tests.support import proc  # noqa: E402
from tests.support.conversations import stack  # noqa: E402
from tests.support.spoken import VOICES, SpokenCall, SpokenCaller  # noqa: E402
from tests.support.spoken_callers import callers  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


async def conversations(args: argparse.Namespace, scratch: Path,
                        running: Any) -> list[SpokenCall]:
    bus = await Bus.connect(running.url, auth=proc.admin(scratch))
    speaker = SpokenCaller(bus, running.grpc_addr, scratch)
    gate = asyncio.Semaphore(args.concurrency)
    done: list[SpokenCall] = []

    async def one(n: int, caller: Any) -> None:
        async with gate:
            call = await speaker.call(caller, args.voices[n % len(args.voices)])
            done.append(call)
            print(f"{len(done):3d}/{args.callers} {'ok  ' if call.success else 'FAIL'} "
                  f"caller {caller.number} {call.voice} turns={len(call.exchanges)}",
                  file=sys.stderr, flush=True)
            if not call.success:
                print(json.dumps(failure(call)), file=sys.stderr, flush=True)

    try:
        await asyncio.gather(*(one(n, c) for n, c in enumerate(callers(args.callers))))
    finally:
        await bus.drain()
    return sorted(done, key=lambda c: c.caller.number)


def summary(calls: list[SpokenCall]) -> dict[str, Any]:
    return {
        "conversations": len(calls),
        "success_rate": round(sum(c.success for c in calls) / len(calls), 3),
        "mean_turns": round(statistics.fmean(len(c.exchanges) for c in calls), 2),
        "wrong_readbacks": sum(sum(c.wrong_readbacks.values()) for c in calls),
        "errors_caught_by_confirmation": sum(c.caught for c in calls),
        "no_read_as_yes": sum(c.no_read_as_yes for c in calls),
        "failed_slots": {slot: sum(slot in c.wrong_slots for c in calls)
                         for slot in ("email", "phone", "callback_date")},
    }


def failure(call: SpokenCall) -> dict[str, Any]:
    """What went wrong in one conversation, slot by slot, turn by turn."""
    return {
        "caller": call.caller.number, "voice": call.voice, "status": call.status,
        "wrong_slots": {s: {"expected": call.caller.expected[s], "got": call.slots.get(s)}
                        for s in call.wrong_slots},
        "turns": [{"objective": x.objective, "kind": x.kind, "said": x.said,
                   "heard": x.heard, "read": x.read, "answer": x.answer}
                  for x in call.exchanges],
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    os.environ["VOICECORE_STT_MODEL"] = args.model  # the stack's transcribe workers
    if args.steady:
        os.environ["VOICECORE_PIPER_NOISE_SCALE"] = "0"
        os.environ["VOICECORE_PIPER_NOISE_W_SCALE"] = "0"
    with tempfile.TemporaryDirectory(prefix="bench-spoken-",
                                     ignore_cleanup_errors=True) as scratch, \
            stack(Path(scratch)) as running:
        running.orchestrator(lease_ttl=10)
        started = time.perf_counter()
        calls = await conversations(args, Path(scratch), running)
        seconds = time.perf_counter() - started
    return {
        "model": args.model, "callers": args.callers, "concurrency": args.concurrency,
        "piper_sampling": "off (noise scales 0)" if args.steady else "on (as shipped)",
        **summary(calls),
        "by_voice": {voice: summary([c for c in calls if c.voice == voice])
                     for voice in args.voices},
        "seconds": round(seconds, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count(),
        "failures": [failure(c) for c in calls if not c.success],
    }


def report(result: dict[str, Any]) -> None:
    print(f"model {result['model']}, {result['callers']} callers, {result['concurrency']} at "
          f"a time, Piper sampling {result['piper_sampling']}, {result['seconds']} s, "
          f"load average {result['load_average']}")
    print(f"{'voice':<28} {'n':>3} {'success':>8} {'turns':>6} {'wrong read-backs':>17} "
          f"{'caught':>7} {'no as yes':>9}  failed slots")
    for voice, row in [*result["by_voice"].items(), ("all", result)]:
        print(f"{voice:<28} {row['conversations']:>3} {row['success_rate']:>8.1%} "
              f"{row['mean_turns']:>6} {row['wrong_readbacks']:>17} "
              f"{row['errors_caught_by_confirmation']:>7} {row['no_read_as_yes']:>9}  "
              f"{row['failed_slots']}")
    for failed in result["failures"]:
        print(f"\ncaller {failed['caller']} ({failed['voice']}): {failed['status']}, "
              f"{failed['wrong_slots']}")
        for turn in failed["turns"]:
            print(f"  {turn['objective']}/{turn['kind']}: said {turn['said']!r} heard "
                  f"{turn['heard']!r} read {turn['read']!r}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callers", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--model", default="tiny.en", help="tiny.en (default) or base")
    parser.add_argument("--steady", action="store_true",
                        help="Piper without sampling (reproducible speech)")
    parser.add_argument("--voices", type=lambda text: tuple(text.split(",")), default=VOICES,
                        help="the callers' voices, taken in turn (comma-separated)")
    parser.add_argument("--out", help="results file name (default spoken[-MODEL].json)")
    arguments = parser.parse_args()
    measured = asyncio.run(main(arguments))
    report(measured)
    RESULTS.mkdir(exist_ok=True)
    name = arguments.out or (
        "spoken.json" if arguments.model == "tiny.en" else f"spoken-{arguments.model}.json")
    (RESULTS / name).write_text(json.dumps(measured, indent=2) + "\n")
