"""Time to first audio: gRPC TextToSpeech through `voicecore up` against the bare engine.

Processes (all real, on this machine):

* ``voicecore up`` with a fresh data directory and free ports: embedded nats-server, the
  worker process (the real ``synthesize`` primitive), the event-log sink and the bridge;
* this process: the gRPC client (grpc.aio, uvloop), and, in the same run, each offline
  engine called alone (``core.tts``: the same engine voice, in this process).

For each offline engine (espeak-ng, Piper) and each text (one sentence; a paragraph of
ten), ``--runs`` rounds after ``--warmup`` unmeasured ones, one call at a time, each round
one pipeline call then the engine alone (in turns, so both see the same load):

* **pipeline**: from sending ``TextToSpeech`` to receiving the first ``AudioChunk``
  (request event published, the worker splits the text, synthesizes the first sentence,
  encodes it to WAV, stores it in the object store, publishes ``synthesize.chunk``; the
  bridge reads the event and the object and sends the chunk);
* **engine alone**: ``engine.synthesize(first sentence)``, the work the pipeline cannot
  avoid before its first audio exists;
* **overhead**: pipeline − engine alone, of the medians.

Targets (issue 10): first audio ≤ 100 ms with espeak-ng, ≤ 300 ms with Piper, for one
sentence; overhead ≤ 20 ms. Prints a table and writes ``benchmarks/results/tts.json``.

Run: ``python benchmarks/bench_tts.py [--runs 20] [--warmup 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import grpc
import uvloop
from bench_bridge import free_port, spawn, stop
from rich.console import Console
from rich.table import Table

from bridge._proto import audio_service_pb2 as pb
from bridge.client import audio_service_stub
from core.tts.engine import TtsEngine
from core.tts.sentences import speaking_parts
from core.tts.settings import TtsSettings
from core.tts.voices import VoiceCatalog
from schemas import ids

RESULTS = Path(__file__).parent / "results"
ENGINES = {"espeak-ng": "espeak-ng:en-us+f3", "piper": "piper:en_US-joe-medium"}
TARGET_MS = {"espeak-ng": 100.0, "piper": 300.0}
OVERHEAD_TARGET_MS = 20.0
SENTENCE = "Thank you for calling, how can I help you today?"
PARAGRAPH = " ".join([
    "Thank you for calling the support line.", "My name is Emma and I will help you today.",
    "First, I need to confirm a few details.", "Could you tell me the email on your account?",
    "Then I will read it back to you.", "If anything is wrong, just say so.",
    "We can also update your phone number.", "The whole call takes about two minutes.",
    "You can ask me to repeat anything.", "Let us begin whenever you are ready."])
TEXTS = {"one sentence": SENTENCE, "10-sentence paragraph": PARAGRAPH}


def milliseconds(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 1),
            "min_ms": round(ordered[0] * 1000, 1)}


def engine_alone(engine: TtsEngine, voice: Any, text: str) -> float:
    """Seconds the engine takes to speak the text's first sentence, alone in this process."""
    first = speaking_parts(text, "en")[0]
    started = time.perf_counter()
    engine.synthesize(first, voice, speed=1.0)
    return time.perf_counter() - started


async def pipeline(stub: Any, voice: str, text: str, conversation: str) -> float:
    """Seconds from sending TextToSpeech to its first AudioChunk (the rest read after)."""
    started = time.perf_counter()
    stream = stub.TextToSpeech(pb.TTSRequest(text=text, voice_id=voice,
                                             conversation_id=conversation))
    first = None
    async for _ in stream:
        first = first or time.perf_counter()
    assert first is not None, "no audio"
    return first - started


async def compare(stub: Any, engine: TtsEngine, voice: Any, voice_id: str, text: str,
                  args: argparse.Namespace) -> dict[str, Any]:
    """Pipeline and engine alone in turns (so both see the same load on a shared machine)."""
    through, alone = [], []
    for i in range(args.warmup + args.runs):
        conversation = f"bench-tts-{ids.uuid7().replace('-', '')}"
        sample = (await pipeline(stub, voice_id, text, conversation),
                  engine_alone(engine, voice, text))
        if i >= args.warmup:
            through.append(sample[0])
            alone.append(sample[1])
    piped, bare = milliseconds(through), milliseconds(alone)
    return {"pipeline": piped, "engine_alone": bare,
            "overhead_p50_ms": round(piped["p50_ms"] - bare["p50_ms"], 1)}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    catalog = VoiceCatalog(TtsSettings())
    result: dict[str, Any] = {"runs": args.runs, "warmup": args.warmup, "engines": {},
                              "load_average_before": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        nats_port, grpc_port = free_port(), free_port()
        up = spawn(["-m", "voicecore", "up", "--data-dir", tmp, "--nats-port", str(nats_port),
                    "--grpc-addr", f"127.0.0.1:{grpc_port}"])
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
                stub = audio_service_stub(channel)
                for name, voice_id in ENGINES.items():
                    engine, voice, _ = catalog.resolve(voice_id, "en")
                    rows: dict[str, Any] = {"voice": voice_id}
                    result["engines"][name] = rows
                    for label, text in TEXTS.items():
                        rows[label] = await compare(stub, engine, voice, voice_id, text, args)
        finally:
            stop(up)
    result["targets"] = {"first_audio_ms": TARGET_MS, "overhead_ms": OVERHEAD_TARGET_MS}
    result["load_average_after"] = os.getloadavg()  # the machine is shared: say how busy
    result["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                         "grpcio": grpc.__version__, "loop": "uvloop"}
    return result


def report(result: dict[str, Any]) -> None:
    table = Table("engine", "text", "pipeline p50 ms", "p90", "engine alone p50 ms", "p90",
                  "overhead p50 ms", "target",
                  title=f"Time to first audio ({result['runs']} runs each, one at a time)")
    for name, rows in result["engines"].items():
        for label in TEXTS:
            row = rows[label]
            through, alone = row["pipeline"], row["engine_alone"]
            target = f"≤ {TARGET_MS[name]:g} ms" if label == "one sentence" else ""
            table.add_row(name, label, str(through["p50_ms"]), str(through["p90_ms"]),
                          str(alone["p50_ms"]), str(alone["p90_ms"]),
                          str(row["overhead_p50_ms"]), target)
    Console(width=160).print(table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--output", type=Path, default=RESULTS / "tts.json")
    cli = parser.parse_args()
    outcome = uvloop.run(main(cli))
    report(outcome)
    cli.output.parent.mkdir(exist_ok=True)
    cli.output.write_text(json.dumps(outcome, indent=2) + "\n")
