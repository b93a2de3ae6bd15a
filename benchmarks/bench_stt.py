"""Speech-to-text benchmarks, one section (function) each; sections may be run alone.

* ``capture``: round-trip capture accuracy. Every utterance of the round-trip corpus
  (tests/support/roundtrip_corpus.py) is spoken by each voice (Piper en_US-joe-medium,
  espeak-ng en-us), transcribed by each model (tiny.en, multilingual base; faster-whisper,
  int8 on CPU, beam 5, language "en") without and with the objective's hint as the
  initial prompt (core/stt/hints.py, as the transcribe primitive uses it), then captured.
  Per primitive, model and voice: accuracy (the captured value, or the absence of one,
  equals the expected) and how many wrong values were confident (not flagged
  ``needs_confirmation``: the costly failure).

* ``rtf``: the real-time factor (seconds of processing per second of audio) of
  ``transcribe`` through the pipeline against bare faster-whisper, on the same audio and
  model in the same run. The pipeline: a fresh ``voicecore up`` (free ports, new data
  directory; its worker on tiny.en, preloaded) and AudioService ``SpeechToText`` with each
  utterance as a WAV file: the bridge checks and stores it, publishes the request, the
  worker reads and decodes it and transcribes it, the result goes back (the client's wall
  time, from the call to its answer). Bare: ``WhisperModel.transcribe`` in this process on
  the utterance's samples, the same model directory, compute type and settings (language
  en, beam 5, word timestamps). The two take turns, first one then the other, on each of
  the 3-8 s utterances of ``bench_stt_streaming.py`` (Piper and espeak-ng). Target:
  overhead <= 5 %.

Audio and transcripts are cached under ``--cache`` (keyed by what was said, voice, model
and prompt), so a second run after a parser change only re-captures.

Run: ``python benchmarks/bench_stt.py [--sections capture,rtf] [--models tiny.en,base]
[--voices piper,espeak] [--every N | --every base=3] [--cache DIR] [--runs 2]``.
Prints a table per section and writes ``benchmarks/results/stt.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the corpus and the round trip live in the tests package

from bridge._proto import audio_service_pb2 as pb  # noqa: E402
from core.audio import Pcm, decode, encode  # noqa: E402
from core.stt.settings import SttSettings  # noqa: E402
from core.stt.whisper import load_model  # noqa: E402
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


RTF_MODEL = "tiny.en"
RTF_TARGET_PCT = 5.0


def rtf_section(args: argparse.Namespace, console: Console) -> dict[str, Any]:
    """Real-time factor through `voicecore up` against bare faster-whisper, in turns."""
    from bench_stt_streaming import utterances

    spoken = utterances()
    settings = SttSettings(model=RTF_MODEL)  # the worker's, and the bare model's
    model, _ = load_model(settings)
    load_before = os.getloadavg()
    rows = asyncio.run(_rtf_rows(args, settings, model, spoken))
    audio_s = sum(r["duration_s"] for r in rows)
    pipeline_s, bare_s = sum(r["pipeline_s"] for r in rows), sum(r["bare_s"] for r in rows)
    # What the pipeline adds around the worker's own inference (its result's RTF x the
    # audio): the bridge, the store, NATS, the worker's read and decode, the result's way back.
    around = [r["pipeline_s"] - r["worker_rtf"] * r["duration_s"] for r in rows]
    result = {
        "model": RTF_MODEL, "runs": args.runs, "warmup": args.warmup, "utterances": len(spoken),
        "audio_s": round(audio_s, 2), "rtf_pipeline": round(pipeline_s / audio_s, 4),
        "rtf_bare": round(bare_s / audio_s, 4),
        "rtf_worker": round(sum(r["worker_rtf"] * r["duration_s"] for r in rows) / audio_s, 4),
        "overhead_pct": round(100 * (pipeline_s / bare_s - 1), 1),
        "overhead_ms_p50": round(1000 * statistics.median(
            r["pipeline_s"] - r["bare_s"] for r in rows), 1),
        "around_inference_pct": round(100 * sum(around) / bare_s, 1),
        "same_text": sum(r["same_text"] for r in rows),
        "around_inference_ms_p50": round(1000 * statistics.median(around), 1),
        "target_overhead_pct": RTF_TARGET_PCT,
        "load_average": {"before": load_before, "after": os.getloadavg()}, "rows": rows}
    console.print(_rtf_table(result))
    return result


async def _rtf_rows(args: argparse.Namespace, settings: SttSettings, model: Any,
                    spoken: list[tuple[str, str, Pcm]]) -> list[dict[str, Any]]:
    from bench_stt_streaming import up_audio_stub

    rows = []
    async with up_audio_stub(settings) as (stub, _):
        for run in range(args.warmup + args.runs):
            for n, (voice, text, pcm) in enumerate(spoken):
                wav, turn = encode(pcm, "wav"), (run + n) % 2  # who goes first
                heard = decode(wav, rate=16_000)  # the samples the worker hears
                for which in ("pipeline", "bare")[turn:] + ("pipeline", "bare")[:turn]:
                    if which == "bare":
                        bare, bare_text = await asyncio.to_thread(_bare, model, heard)
                    else:
                        piped, answer = await _piped(stub, wav, f"rtf-{run}-{n}")
                if run >= args.warmup:
                    rows.append({"voice": voice, "text": text,
                                 "duration_s": round(pcm.duration_s, 3),
                                 "pipeline_s": round(piped, 4),
                                 "bare_s": round(bare, 4),
                                 "worker_rtf": round(answer.real_time_factor, 4),
                                 "same_text": answer.text == bare_text})
    return rows


async def _piped(stub: Any, wav: bytes, conversation: str) -> tuple[float, Any]:
    """(the call's wall seconds, its STTResponse)."""
    async def chunks() -> Any:
        yield pb.AudioChunk(data=wav, language="en", conversation_id=conversation)

    started = time.perf_counter()
    answer = await stub.SpeechToText(chunks(), timeout=300)
    return time.perf_counter() - started, answer


def _bare(model: Any, pcm: Pcm) -> tuple[float, str]:
    """(seconds, text) of faster-whisper alone on ``pcm``."""
    started = time.perf_counter()
    segments, _ = model.transcribe(pcm.samples, language="en", word_timestamps=True,
                                   beam_size=5)
    found = list(segments)  # faster-whisper decodes as the segments are read
    return time.perf_counter() - started, " ".join(s.text.strip() for s in found)


def _rtf_table(result: dict[str, Any]) -> Table:
    grid = Table("measure", "value", title=(
        f"Real-time factor, {result['model']}: {result['utterances']} utterances "
        f"({result['audio_s']:.1f} s of audio) x {result['runs']} runs, in turns"))
    grid.add_row("through voicecore up (SpeechToText, wall)", f"{result['rtf_pipeline']:.4f}")
    grid.add_row("bare faster-whisper, same audio and model", f"{result['rtf_bare']:.4f}")
    grid.add_row("the worker's own (its result's real_time_factor)",
                 f"{result['rtf_worker']:.4f}")
    grid.add_row("overhead (pipeline / bare - 1)",
                 f"{result['overhead_pct']:+.1f} % (target <= {RTF_TARGET_PCT:g} %)")
    grid.add_row("overhead per call, p50", f"{result['overhead_ms_p50']:.1f} ms")
    grid.add_row("around the worker's inference (pipeline - worker RTF x audio) / bare",
                 f"{result['around_inference_pct']:+.1f} %, p50 "
                 f"{result['around_inference_ms_p50']:.1f} ms per call")
    grid.add_row("same transcript as bare", f"{result['same_text']} of {len(result['rows'])}")
    for when, load in result["load_average"].items():
        grid.add_row(f"load average (1, 5, 15 min) {when}", ", ".join(f"{x:.2f}" for x in load))
    return grid


SECTIONS: dict[str, Section] = {"capture": capture_section, "rtf": rtf_section}


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
    parser.add_argument("--runs", type=int, default=2, help="rtf: measured passes")
    parser.add_argument("--warmup", type=int, default=1, help="rtf: passes not counted")
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
