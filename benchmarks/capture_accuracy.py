"""Accuracy and speed of the capture primitives on the corpus (tests/capture/corpus.yaml).

A case is correct when the primitive's value (or its ``None``) equals the expected one;
known misses count as wrong. Each case is parsed ``--repeat`` times to time it; the mean
time per call is reported in microseconds (pure parsing, single thread, no I/O).

Run: ``python benchmarks/capture_accuracy.py [--repeat 20]``.
Prints tables by primitive, by language and by both, the misses, and writes
``benchmarks/results/capture_accuracy.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the corpus loader lives in the tests package

from tests.capture.corpus import PRIMITIVES, Case, load_corpus  # noqa: E402

HELDOUT_PATH = ROOT / "tests" / "capture" / "heldout.yaml"

RESULTS = Path(__file__).parent / "results" / "capture_accuracy.json"


@dataclass
class Outcome:
    case: Case
    got: str | None
    seconds_per_call: float

    @property
    def correct(self) -> bool:
        return self.got == self.case.expected


@dataclass
class Tally:
    cases: int = 0
    correct: int = 0
    seconds: list[float] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.cases += 1
        self.correct += outcome.correct
        self.seconds.append(outcome.seconds_per_call)

    def summary(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "correct": self.correct,
            "accuracy_pct": round(100 * self.correct / self.cases, 1) if self.cases else 0.0,
            "mean_us_per_call": round(1e6 * sum(self.seconds) / len(self.seconds), 1)
            if self.seconds
            else 0.0,
        }


def measure(case: Case, repeat: int) -> Outcome:
    result = case.run()
    start = time.perf_counter()
    for _ in range(repeat):
        case.run()
    elapsed = (time.perf_counter() - start) / repeat
    return Outcome(case, result.value if result else None, elapsed)


def tally(outcomes: Iterable[Outcome], key: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, Tally] = {}
    for outcome in outcomes:
        name = {
            "primitive": outcome.case.primitive,
            "language": outcome.case.language,
            "both": f"{outcome.case.primitive}/{outcome.case.language}",
        }[key]
        groups.setdefault(name, Tally()).add(outcome)
    return {name: groups[name].summary() for name in sorted(groups, key=_order)}


def _order(name: str) -> tuple[int, str]:
    head = name.split("/")[0]
    return (PRIMITIVES.index(head) if head in PRIMITIVES else len(PRIMITIVES), name)


def _total(outcomes: Iterable[Outcome]) -> dict[str, Any]:
    overall = Tally()
    for outcome in outcomes:
        overall.add(outcome)
    return overall.summary()


def table(title: str, rows: dict[str, dict[str, Any]], total: dict[str, Any]) -> Table:
    grid = Table(title=title)
    for column in ("", "cases", "correct", "accuracy %", "mean µs/call"):
        grid.add_column(column, justify="left" if not column else "right")
    for name, row in [*rows.items(), ("all", total)]:
        grid.add_row(
            name, str(row["cases"]), str(row["correct"]), f"{row['accuracy_pct']:.1f}",
            f"{row['mean_us_per_call']:.1f}", end_section=name == list(rows)[-1],
        )
    return grid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="timed parses per case")
    args = parser.parse_args()
    outcomes = [measure(case, max(1, args.repeat)) for case in load_corpus()]
    heldout = [measure(case, 1) for case in load_corpus(HELDOUT_PATH)]
    overall = Tally()
    for outcome in outcomes:
        overall.add(outcome)
    report = {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "repeat": args.repeat,
        "total": overall.summary(),
        "by_primitive": tally(outcomes, "primitive"),
        "by_language": tally(outcomes, "language"),
        "by_primitive_language": tally(outcomes, "both"),
        "heldout_by_primitive": tally(heldout, "primitive"),
        "heldout_total": _total(heldout),
        "misses": [
            {"id": o.case.id, "transcript": o.case.transcript, "expected": o.case.expected,
             "got": o.got, "known_miss": o.case.known_miss}
            for o in [*outcomes, *heldout] if not o.correct
        ],
    }
    console = Console()
    total = report["total"]
    console.print(table("Capture accuracy by primitive", report["by_primitive"], total))
    console.print(table("Capture accuracy by language", report["by_language"], total))
    console.print(table("By primitive and language", report["by_primitive_language"], total))
    console.print(table("Held-out set (written blind, never tuned on)",
                        report["heldout_by_primitive"], report["heldout_total"]))
    for miss in report["misses"]:
        reason = f"  [dim]({miss['known_miss']})[/dim]" if miss["known_miss"] else ""
        console.print(f"miss {miss['id']}: {miss['transcript']!r} expected {miss['expected']!r}, "
                      f"got {miss['got']!r}{reason}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    console.print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
