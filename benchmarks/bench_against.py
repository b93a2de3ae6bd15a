"""Speed targets held on *this* machine: this checkout against an older one, alternated.

A task's speed targets are numbers measured on the machine of the day it was written
("≥ 4,000 events/s, today 2,736"). This machine's speed is not fixed: the same code ran
2-2.5x slower on some days than on others (README, *Speed targets on a machine whose speed
varies*). So the code the task measured is run here alternately with this checkout, by
the same benchmarks, in one run, and each target becomes a same-machine ratio:
``target / the task's number`` is what this checkout must gain over the old one.

What is measured, each round (the old checkout first in odd rounds, second in even):

* worker: each checkout's own ``benchmarks/bench_worker.py`` (one ``capture_email``
  worker process, 20,000 requests in backlog): events/s, worker CPU per event;
* sink: the event-log ingest of 200,000 stored events (``bench_eventlog.py --only
  ingest`` here; checkouts from before the sink ran as its own process have no
  ``--only``: their ``bench_ingest`` runs the sink in-process, as that day's number was
  measured); steady events/s;
* up: ``bench_up.py`` of *this* checkout with ``--root`` at each one (the same client
  and baseline; only ``up`` differs): calls/s at 64 in flight over the in-process
  baseline's in the same run, and sequential p50.

Run: ``git worktree add /tmp/then c8055ed`` (issue 8's day), then
``python benchmarks/bench_against.py /tmp/then [--rounds 2]``.
Prints a table and writes ``benchmarks/results/against.json``; the checkouts' own result
files are left as they were.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parents[1]
RESULTS = HERE / "benchmarks" / "results"
THEN_ENTRY = "-c 'from core.cli import app; app()'"
"""How ``up`` was started before the composition root (``voicecore/``) existed."""

# (the task's number, its target); higher is better unless the name says ms
TARGETS: dict[str, tuple[float, float]] = {
    "worker events/s": (2736, 4000),
    "sink events/s": (34195, 50000),
    "up p50 ms (sequential)": (5.625, 2.5),
}
UP_RATIO_TARGET = 0.4
"""``up`` at 64 in flight over the in-process baseline: a same-run ratio already."""

OLD_INGEST = """
import asyncio, json, sys, tempfile
from pathlib import Path
sys.path.insert(0, "benchmarks")
from bench_eventlog import bench_ingest
with tempfile.TemporaryDirectory() as tmp:
    print(json.dumps(asyncio.run(bench_ingest(200_000, Path(tmp)))))
"""


def python(root: Path, *args: str) -> str:
    """``python ARGS`` in ``root`` with ``root`` on the path; its standard output."""
    env = {**os.environ, "PYTHONPATH": str(root), "VOICECORE_LOG_LEVEL": "ERROR"}
    done = subprocess.run([sys.executable, *args], cwd=root, env=env, text=True,
                          capture_output=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{root}: {' '.join(args)[:80]} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def commit(root: Path) -> str:
    done = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                          text=True, capture_output=True, check=False)
    return done.stdout.strip() or "?"


def results_of(root: Path, name: str, *args: str) -> dict[str, Any]:
    """Run a checkout's benchmark that writes ``benchmarks/results/<name>``; its JSON. The
    file is put back as it was: a comparison run is not that checkout's result."""
    path = root / "benchmarks" / "results" / name
    before = path.read_bytes() if path.exists() else None
    try:
        python(root, *args)
        found: dict[str, Any] = json.loads(path.read_text())
    finally:
        if before is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(before)
    return found


def worker(root: Path) -> dict[str, float]:
    backlog = results_of(root, "worker.json", "benchmarks/bench_worker.py",
                         "--latency-requests", "50")["backlog"]
    return {"worker events/s": backlog["events_per_s"],
            "worker CPU µs/event": backlog["worker_cpu_us_per_event"]}


def sink(root: Path) -> dict[str, float]:
    if "--only" in (root / "benchmarks/bench_eventlog.py").read_text():
        ingest = results_of(root, "eventlog.json", "benchmarks/bench_eventlog.py", "--only",
                            "ingest", "--ingest", "200000", "--lag-events", "20")["ingest"]
    else:
        ingest = json.loads(python(root, "-c", OLD_INGEST).splitlines()[-1])
    return {"sink events/s": round(ingest["steady_events_per_s"])}


def up(root: Path, entry: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp) / "up.json"
        python(HERE, "benchmarks/bench_up.py", "--root", str(root), "--entry", entry,
               "--output", str(output))
        result = json.loads(output.read_text())
    return {"up p50 ms (sequential)": result["up"]["sequential"]["p50_ms"],
            "up/baseline at 64 in flight": result["ratio_up_over_baseline"]["concurrent"][
                "throughput"]}


def one_round(checkouts: dict[str, tuple[Path, str]], order: list[str]
              ) -> dict[str, dict[str, float]]:
    measured: dict[str, dict[str, float]] = {name: {} for name in checkouts}
    benches: dict[str, Callable[[Path, str], dict[str, float]]] = {
        "worker": lambda root, _: worker(root), "sink": lambda root, _: sink(root), "up": up}
    for bench, run in benches.items():
        for name in order:
            found = run(*checkouts[name])
            measured[name].update(found)
            print(f"  {name:4s} {bench}: {found}", flush=True)
    return measured


def summary(rounds: list[dict[str, dict[str, float]]]) -> dict[str, Any]:
    keys = list(rounds[0]["now"])
    medians = {name: {k: round(statistics.median(r[name][k] for r in rounds), 3) for k in keys}
               for name in ("then", "now")}
    held: dict[str, Any] = {}
    for key, (then_number, target) in TARGETS.items():
        lower_is_better = key.endswith("ms (sequential)")
        gain = medians["then"][key] / medians["now"][key] if lower_is_better \
            else medians["now"][key] / medians["then"][key]
        needed = then_number / target if lower_is_better else target / then_number
        held[key] = {"gain_here": round(gain, 3), "gain_needed": round(needed, 3),
                     "held": gain >= needed,
                     "as_on_the_task_day": round(then_number / gain if lower_is_better
                                                 else then_number * gain, 2)}
    ratio = medians["now"]["up/baseline at 64 in flight"]
    held["up/baseline at 64 in flight"] = {"now": ratio, "needed": UP_RATIO_TARGET,
                                           "held": ratio >= UP_RATIO_TARGET}
    return {"medians": medians, "targets": held}


def report(result: dict[str, Any]) -> None:
    table = Table("measure", "then (median)", "now (median)", "gain here", "gain needed",
                  "as on the task's day", "held",
                  title=f"this checkout against {result['then']}, {result['rounds']} rounds")
    medians, targets = result["medians"], result["targets"]
    for key in medians["now"]:
        t = targets.get(key, {})
        table.add_row(key, f"{medians['then'][key]:,}", f"{medians['now'][key]:,}",
                      f"{t['gain_here']}×" if "gain_here" in t else "",
                      f"{t['gain_needed']}×" if "gain_needed" in t else
                      (f"≥ {t['needed']}" if "needed" in t else ""),
                      f"{t['as_on_the_task_day']:,}" if "as_on_the_task_day" in t else "",
                      ("yes" if t["held"] else "no") if t else "")
    Console(width=150).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("then", type=Path, help="the older checkout (a git worktree)")
    parser.add_argument("--then-entry", default=THEN_ENTRY,
                        help="python ARGS before 'up' in the older checkout")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--output", type=Path, default=RESULTS / "against.json")
    args = parser.parse_args()
    checkouts = {"then": (args.then.resolve(), args.then_entry), "now": (HERE, "-m voicecore")}
    rounds = []
    for i in range(args.rounds):
        print(f"round {i + 1}", flush=True)
        rounds.append(one_round(checkouts, ["then", "now"] if i % 2 == 0 else ["now", "then"]))
    result = {"then": f"{args.then} ({commit(args.then)})", "now": commit(HERE),
              "rounds": args.rounds, "each_round": rounds,
              **summary(rounds), "machine": {"cpus": os.cpu_count(),
                                             "python": sys.version.split()[0]}}
    report(result)
    args.output.parent.mkdir(exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
