"""Speech-to-text benchmarks, one section (function) each; sections may be run alone.

* ``capture``: round-trip capture accuracy. Every utterance of the round-trip corpus
  (tests/support/roundtrip_corpus.py) is spoken by each voice (Piper en_US-joe-medium,
  espeak-ng en-us), transcribed by each model (tiny.en, multilingual base; faster-whisper,
  int8 on CPU, beam 5, language "en") without and with the objective's hint as the
  initial prompt (core/stt/hints.py, as the transcribe primitive uses it), then captured.
  Per primitive, model and voice: accuracy (the captured value, or the absence of one,
  equals the expected) and how many wrong values were confident (not flagged
  ``needs_confirmation``: the costly failure).

Audio and transcripts are cached under ``--cache`` (keyed by what was said, voice, model
and prompt), so a second run after a parser change only re-captures.

Run: ``python benchmarks/bench_stt.py [--sections capture] [--models tiny.en,base]
[--voices piper,espeak] [--every N | --every base=3] [--cache DIR]``.
Prints a table per section and writes ``benchmarks/results/stt.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the corpus and the round trip live in the tests package

from tests.support.roundtrip import (  # noqa: E402
    MODELS,
    VOICES,
    Outcome,
    RoundTrip,
    accuracy,
    hint_prompt,
)
from tests.support.roundtrip_corpus import PRIMITIVES, sample  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "stt.json"
CACHE_HOME = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
DEFAULT_CACHE = CACHE_HOME / "voicecore-bench-stt"
Section = Callable[[argparse.Namespace, Console], dict[str, Any]]


def _cell(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    return {
        "cases": len(outcomes),
        "correct": sum(o.correct for o in outcomes),
        "accuracy_pct": round(100 * accuracy(outcomes), 1),
        "confident_wrong": sum(o.confident_wrong for o in outcomes),
    }


def capture_section(args: argparse.Namespace, console: Console) -> dict[str, Any]:
    """Round-trip capture accuracy per primitive, model and voice, without/with hints."""
    trip = RoundTrip(args.cache)
    rows: list[dict[str, Any]] = []
    misses: list[dict[str, Any]] = []
    started = time.perf_counter()
    for model in args.models:
        utterances = sample(args.every.get(model, args.every.get("", 1)))
        for voice in args.voices:
            for hinted in (False, True):
                outcomes = [trip.outcome(u, voice, model, hinted) for u in utterances]
                for primitive in PRIMITIVES:
                    mine = [o for o in outcomes if o.utterance.primitive == primitive]
                    rows.append({"primitive": primitive, "model": model, "voice": voice,
                                 "hint": hinted, **_cell(mine)})
                misses += [{"id": o.utterance.id, "model": model, "voice": voice,
                            "hint": hinted, "said": o.utterance.said, "heard": o.transcript,
                            "got": o.got, "expected": o.utterance.expected,
                            "confident": o.confident_wrong} for o in outcomes if not o.correct]
    console.print(_capture_table(rows))
    return {"every": args.every,
            "hint_prompts": {p: hint_prompt(p) for p in PRIMITIVES},
            "seconds": round(time.perf_counter() - started, 1), "rows": rows,
            "misses": misses}


def _capture_table(rows: Sequence[dict[str, Any]]) -> Table:
    grid = Table(title="Round-trip capture accuracy % (confident wrong values)")
    for column in ("primitive", "model", "voice", "cases", "no hint", "hint"):
        grid.add_column(column, justify="left" if column in ("primitive", "model", "voice")
                        else "right")
    plain = [r for r in rows if not r["hint"]]
    hinted = {(r["primitive"], r["model"], r["voice"]): r for r in rows if r["hint"]}
    for row in sorted(plain, key=lambda r: (PRIMITIVES.index(r["primitive"]), r["model"],
                                            r["voice"])):
        other = hinted[(row["primitive"], row["model"], row["voice"])]
        grid.add_row(row["primitive"], row["model"], row["voice"], str(row["cases"]),
                     *(f"{r['accuracy_pct']:.1f} ({r['confident_wrong']})" for r in (row, other)))
    return grid


SECTIONS: dict[str, Section] = {"capture": capture_section}


def _names(choices: Sequence[str]) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        names = [n for n in text.split(",") if n]
        unknown = [n for n in names if n not in choices]
        if unknown or not names:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(choices)}")
        return names

    return parse


def _every(text: str) -> dict[str, int]:
    """``2`` (every model) or ``base=3,tiny.en=1``: {model or "": N}."""
    found: dict[str, int] = {}
    for item in text.split(","):
        model, _, count = item.rpartition("=")
        if (model and model not in MODELS) or not count.isdigit() or int(count) < 1:
            raise argparse.ArgumentTypeError(f"{item!r}: expected N or MODEL=N, N >= 1, "
                                             f"MODEL one of {', '.join(MODELS)}")
        found[model] = int(count)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", type=_names(list(SECTIONS)), default=list(SECTIONS))
    parser.add_argument("--models", type=_names(MODELS), default=list(MODELS))
    parser.add_argument("--voices", type=_names(list(VOICES)), default=list(VOICES))
    parser.add_argument("--every", type=_every, default={"": 1},
                        help="N, or MODEL=N,...: every Nth utterance of each primitive")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help="audio and transcripts kept between runs")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    console = Console()
    previous = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    report = {**previous, "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
              "python": platform.python_version(), "cpus": os.cpu_count()}
    for name in args.sections:
        report[name] = SECTIONS[name](args, console)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    console.print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
