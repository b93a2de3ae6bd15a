"""Streaming speech to text: time to final through `voicecore up`, against bare faster-whisper.

Processes (all real, on this machine):

* ``voicecore up`` with a fresh data directory and free ports, its worker process on
  ``tiny.en`` (``VOICECORE_STT_MODEL``, preloaded): embedded nats-server, the
  ``transcribe_stream`` worker, the event-log sink and the bridge;
* this process: the utterances (3-8 s, spoken by Piper and espeak-ng), the gRPC client
  streaming each at real-time pace in 100 ms chunks, and, in turns with it, the same
  model alone (``core.stt.whisper.Transcriber``, the same settings) on the same audio.

Per utterance and run:

* **time to final**: from sending the last chunk to receiving the final ``STTResult``
  (the worker's last pass over the utterance, the completed event, the bridge);
* **bare**: ``Transcriber.transcribe`` of the whole utterance (the 16-bit samples the
  stream carries, without word times, as the final's pass) in this process: the pass the
  final needs, unless it started at the end of speech (see ``core/transcribe_stream.py``);
  whether its text is the final's;
* **the worker's own account**, from the final event (read back through StreamEvents):
  ``final_pass_started_ms`` (negative: the pass started at the end of speech, before the
  last chunk; positive: what it waited for, a partial's pass still running), the pass
  (``real_time_factor`` x duration), ``time_to_final_ms``;
* partials received before the final; the load average before and after.

Targets (issue 11, tiny.en on this 2-core machine): time to final p50 ≤ 0.5 s, p99 ≤ 1 s.
Prints a table and writes ``benchmarks/results/stt_streaming.json``.

Run: ``python benchmarks/bench_stt_streaming.py [--runs 2] [--warmup 1]
[--decoder-threads N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import uvloop
from bench_bridge import free_port, spawn, stop
from google.protobuf.json_format import MessageToDict
from rich.console import Console
from rich.table import Table

from bridge._proto import audio_service_pb2 as pb
from bridge.client import VoiceCoreClient, audio_service_stub
from core.audio import Pcm, decode, encode, resample
from core.stt.settings import SttSettings
from core.stt.whisper import Transcriber
from core.tts.settings import TtsSettings
from core.tts.voices import VoiceCatalog

RESULTS = Path(__file__).parent / "results"
RATE = 16_000
CHUNK_S = 0.1
TARGET_P50_S, TARGET_P99_S = 0.5, 1.0
UTTERANCES = [
    "Yes, that is correct.",
    "My email is john dot smith at gmail dot com.",
    "My number is two one two, five five five, zero one nine nine.",
    "I would like to change the date of my appointment to next Friday.",
    "Could you please read the confirmation number back to me one more time?",
    "No, the second letter is B as in boy, not D as in dog.",
]
VOICES = {"piper": "piper:en_US-joe-medium", "espeak-ng": "espeak-ng:en-us+f3"}


def utterances() -> list[tuple[str, str, Pcm]]:
    """(voice, text, 16 kHz speech as the stream carries it: 16-bit) for every utterance of
    3-8 s."""
    catalog = VoiceCatalog(TtsSettings())
    found = []
    for name, voice_id in VOICES.items():
        engine, voice, _ = catalog.resolve(voice_id, "en")
        for text in UTTERANCES:
            pcm = sixteen_bit(resample(engine.synthesize(text, voice, speed=1.0), RATE))
            if 3.0 <= pcm.duration_s <= 8.0:
                found.append((name, text, pcm))
            elif pcm.duration_s < 3.0:  # said twice: long enough
                again = sixteen_bit(resample(engine.synthesize(f"{text} {text}", voice,
                                                              speed=1.0), RATE))
                if again.duration_s <= 8.0:
                    found.append((name, f"{text} {text}", again))
    return found


def sixteen_bit(pcm: Pcm) -> Pcm:
    """``pcm`` as the stream carries it, so the bare pass hears the same samples."""
    return decode(encode(pcm, "pcm_s16le"), fmt="pcm_s16le", source_rate=pcm.rate)


@contextlib.asynccontextmanager
async def up_audio_stub(settings: SttSettings) -> AsyncIterator[tuple[Any, VoiceCoreClient]]:
    """An AudioService stub and a VoiceCore client on a fresh ``voicecore up`` (free
    ports, a new data directory) whose worker runs on ``settings``, preloaded."""
    os.environ.update(dataclasses.replace(settings, preload=True).env())
    with tempfile.TemporaryDirectory() as tmp:
        grpc_port = free_port()
        up = spawn(["-m", "voicecore", "up", "--data-dir", tmp, "--nats-port",
                    str(free_port()), "--grpc-addr", f"127.0.0.1:{grpc_port}"])
        try:
            async with (grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel,
                        VoiceCoreClient(f"127.0.0.1:{grpc_port}") as client):
                yield audio_service_stub(channel), client
        finally:
            stop(up)


async def stream(stub: Any, pcm: Pcm, conversation: str) -> tuple[float, int, str]:
    """(seconds from the last chunk sent to the final, partials, final text)."""
    data, step = encode(pcm, "pcm_s16le"), 2 * int(CHUNK_S * RATE)
    last_sent = 0.0

    async def chunks() -> Any:
        nonlocal last_sent
        yield pb.AudioChunk(format="pcm_s16le", sample_rate=RATE, language="en",
                            conversation_id=conversation)
        started = time.monotonic()
        for n, start in enumerate(range(0, len(data), step)):
            await asyncio.sleep(max(0.0, started + n * CHUNK_S - time.monotonic()))
            last_sent = time.monotonic()
            yield pb.AudioChunk(data=data[start:start + step], is_final=start + step >= len(data))

    partials = 0
    async for result in stub.StreamingSpeechToText(chunks()):
        if result.is_final:
            return time.monotonic() - last_sent, partials, result.text
        partials += 1
    raise AssertionError("no final")


async def worker_side(client: VoiceCoreClient, conversation: str) -> dict[str, float]:
    """The final event's own account (seconds): the wait before the final's pass, the pass,
    and the worker's time to final."""
    async for event in client.events(conversation_id=conversation, start_sequence=1,
                                     event_types=["transcribe_stream.completed"]):
        data: dict[str, Any] = MessageToDict(event.data)
        return {"wait_s": data.get("final_pass_started_ms", 0.0) / 1000,
                "pass_s": data["real_time_factor"] * data["duration_s"],
                "worker_time_to_final_s": data["time_to_final_ms"] / 1000}
    raise AssertionError("no final event")


def seconds(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50_s": round(statistics.median(ordered), 3),
            "p99_s": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 3),
            "max_s": round(ordered[-1], 3), "min_s": round(ordered[0], 3)}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    load_before = [round(x, 2) for x in os.getloadavg()]  # 1, 5, 15 minutes
    spoken = utterances()
    settings = SttSettings(model="tiny.en", idle_unload_s=0,
                           decoder_threads=args.decoder_threads)
    bare_model = Transcriber(settings)
    bare_model.load()
    to_final, bare, partials, rows = [], [], [], []
    inside: dict[str, list[float]] = {}
    async with up_audio_stub(settings) as (stub, client):
        for run in range(args.warmup + args.runs):
            for n, (voice, text, pcm) in enumerate(spoken):
                waited, heard, final = await stream(stub, pcm, f"bench-{run}-{n}")
                worker = await worker_side(client, f"bench-{run}-{n}")
                started = time.monotonic()
                batch = await asyncio.to_thread(  # the final's pass: no word times asked
                    bare_model.transcribe, pcm)
                alone = time.monotonic() - started
                if run >= args.warmup:
                    for key, value in worker.items():
                        inside.setdefault(key, []).append(value)
                    to_final.append(waited)
                    bare.append(alone)
                    partials.append(heard)
                    rows.append({"voice": voice, "text": text,
                                 "duration_s": round(pcm.duration_s, 2),
                                 "time_to_final_s": round(waited, 3),
                                 "bare_s": round(alone, 3), "partials": heard,
                                 "final": final, "final_is_bare_text": final == batch.text,
                                 **({} if final == batch.text else {"bare_text": batch.text}),
                                 **{k: round(v, 3) for k, v in worker.items()}})
    return {"runs": args.runs, "warmup": args.warmup, "utterances": len(spoken),
            "model": "tiny.en", "decoder_threads": args.decoder_threads, "chunk_s": CHUNK_S,
            "time_to_final": seconds(to_final),
            "bare_transcription": seconds(bare),
            **{f"worker_{k}": seconds(v) for k, v in inside.items()},
            "partials_per_utterance_p50": statistics.median(partials),
            "finals_equal_to_bare_text": sum(r["final_is_bare_text"] for r in rows),
            "rows": rows,
            "targets": {"p50_s": TARGET_P50_S, "p99_s": TARGET_P99_S},
            "machine": {"cpus": os.cpu_count(), "cpu": cpu_model(),
                        "python": sys.version.split()[0],
                        "load_average_before": load_before,
                        "load_average_after": [round(x, 2) for x in os.getloadavg()]}}


def cpu_model() -> str:
    """The processor's name (machines change from session to session, and the decoder's
    threads were measured on one)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def report(result: dict[str, Any]) -> None:
    table = Table("measure", "p50 s", "p99 s", "min s", "max s", "target",
                  title=f"Streaming tiny.en: {result['utterances']} utterances of 3-8 s x "
                        f"{result['runs']} runs, real-time pace")
    final, alone = result["time_to_final"], result["bare_transcription"]
    table.add_row("time to final (pipeline)", str(final["p50_s"]), str(final["p99_s"]),
                  str(final["min_s"]), str(final["max_s"]),
                  f"p50 ≤ {TARGET_P50_S:g}, p99 ≤ {TARGET_P99_S:g}")
    table.add_row("bare faster-whisper, whole utterance", str(alone["p50_s"]),
                  str(alone["p99_s"]), str(alone["min_s"]), str(alone["max_s"]), "")
    for key, label in (("worker_wait_s", "worker: wait before the final's pass"),
                       ("worker_pass_s", "worker: the final's pass"),
                       ("worker_worker_time_to_final_s", "worker: time to final")):
        part = result[key]
        table.add_row(label, str(part["p50_s"]), str(part["p99_s"]), str(part["min_s"]),
                      str(part["max_s"]), "")
    Console(width=140).print(table)
    print(f"partials per utterance (p50): {result['partials_per_utterance_p50']}; finals "
          f"equal to the bare pass's text: {result['finals_equal_to_bare_text']}"
          f"/{len(result['rows'])}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--decoder-threads", type=int, default=None,
                        help="VOICECORE_STT_DECODER_THREADS for the worker and the bare "
                             "model (0: one copy on the encoder's threads; default: by the "
                             "model's size)")
    parser.add_argument("--output", type=Path, default=RESULTS / "stt_streaming.json")
    cli = parser.parse_args()
    outcome = uvloop.run(main(cli))
    report(outcome)
    cli.output.parent.mkdir(exist_ok=True)
    cli.output.write_text(json.dumps(outcome, indent=2) + "\n")
