"""``voicecore listen FILE``: a file streamed at real-time pace to StreamingSpeechToText.

The file is decoded (any format ``core.audio`` reads) to 16 kHz mono and sent as
``pcm_s16le`` chunks of ``--chunk-ms``, each ``--pace`` times its duration after the
previous one (1: real time; 0: as fast as they go). On a terminal one live line shows
what is heard as it settles (committed words plain, the tentative tail dimmed); then the
final transcript is printed on standard output, and a summary on standard error.

Like ``voicecore say``: through the bridge at ``--grpc-addr`` (a running ``voicecore
up``), or, when nothing listens there, an embedded stack (NATS, a ``transcribe_stream``
worker on the ``VOICECORE_STT_*`` model, a bridge) for the one call.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from core.audio import Pcm, decode, encode
from core.errors import ConfigError, InvalidAudio
from core.primitive import Primitive
from voicecore.options import Caller, run_async, through_bridge, with_grpc_caller

RATE = 16_000


@dataclass
class Heard:
    """What the call answered, and when."""

    text: str = ""
    confidence: float = 0.0
    partials: int = 0
    last_sent: float = 0.0
    final_at: float = 0.0


@with_grpc_caller
def listen_command(
    file: Annotated[Path, typer.Argument(help="The audio file to stream (wav, mp3, ogg, "
                                              "flac, webm)")],
    language: Annotated[str, typer.Option("--language", help="en, es, …; empty: "
                                          "detect")] = "",
    hint: Annotated[str, typer.Option("--hint", help="email, phone, date, confirmation "
                                      "or free text")] = "",
    pace: Annotated[float, typer.Option("--pace", min=0.0, help="1: real time; 0: as "
                                        "fast as possible")] = 1.0,
    chunk_ms: Annotated[int, typer.Option("--chunk-ms", min=20, max=2000,
                                          help="Audio per chunk")] = 100,
    conversation: Annotated[str, typer.Option("--conversation", help="Conversation id")] = "",
    trace_id: Annotated[str, typer.Option("--trace-id", help="Trace id")] = "",
    *,
    caller: Caller,
) -> None:
    """Stream FILE to speech-to-text at real-time pace, showing the transcript as it
    settles (through a running `voicecore up`, or an embedded one)."""
    try:
        pcm = decode(file, rate=RATE)
    except InvalidAudio as exc:
        raise ConfigError(f"{file}: {exc}") from None
    if not pcm.samples.size:
        raise ConfigError(f"{file}: no audio in it")
    first = {"format": "pcm_s16le", "sample_rate": RATE, "language": language,
             "hint": hint, "conversation_id": conversation, "trace_id": trace_id}
    try:
        heard = run_async(listen(caller, pcm, first, pace, chunk_ms / 1000))
    except asyncio.CancelledError:
        sys.exit(130)
    print(heard.text)
    print(f"voicecore: heard {pcm.duration_s:.2f} s, {heard.partials} partials; final "
          f"{(heard.final_at - heard.last_sent) * 1000:.0f} ms after the last audio was "
          f"sent (confidence {heard.confidence:.2f})", file=sys.stderr)


async def listen(caller: Caller, pcm: Pcm, first: dict[str, Any], pace: float,
                 chunk_s: float) -> Heard:
    """StreamingSpeechToText through ``caller``'s bridge, or an embedded one."""
    return await through_bridge(
        caller, lambda to: call_bridge(to, pcm, first, pace, chunk_s),
        doing="listening", primitives=_transcribe_stream)


def _transcribe_stream() -> list[Primitive]:
    from core.transcribe_stream import TRANSCRIBE_STREAM

    return [TRANSCRIBE_STREAM]


async def call_bridge(caller: Caller, pcm: Pcm, first: dict[str, Any], pace: float,
                      chunk_s: float) -> Heard:
    import grpc
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    from bridge.client import audio_service_stub

    heard = Heard()
    console = Console(stderr=True)
    async with caller.channel() as channel:
        call = audio_service_stub(channel).StreamingSpeechToText(
            _chunks(pcm, first, pace, chunk_s, heard), metadata=caller.metadata())
        try:
            with Live(Text(""), console=console, transient=True,
                      auto_refresh=False) as live:
                async for result in call:
                    if result.is_final:
                        heard.text, heard.confidence = result.text, result.confidence
                        heard.final_at = time.monotonic()
                        break
                    heard.partials += 1
                    live.update(_shown(result.text, result.stability, Text), refresh=True)
        except grpc.aio.AioRpcError as exc:
            raise ConfigError(f"{exc.code().name}: {exc.details()}") from None
    return heard


def _shown(text: str, stability: float, text_type: Any) -> Any:
    """The live line: the settled share of the words plain, the rest dimmed."""
    words = text.split()
    settled = round(stability * len(words))
    line = text_type(" ".join(words[:settled]))
    if settled < len(words):
        line.append((" " if settled else "") + " ".join(words[settled:]), style="dim")
    return line


async def _chunks(pcm: Pcm, first: dict[str, Any], pace: float, chunk_s: float,
                  heard: Heard) -> AsyncIterator[Any]:
    from bridge._proto import audio_service_pb2 as pb

    yield pb.AudioChunk(**first)
    data, step = encode(pcm, "pcm_s16le"), 2 * int(chunk_s * RATE)
    started = time.monotonic()
    for n, start in enumerate(range(0, len(data), step)):
        if pace:  # the n-th chunk leaves when its audio would have been spoken
            await asyncio.sleep(max(0.0, started + n * chunk_s * pace - time.monotonic()))
        final = start + step >= len(data)
        heard.last_sent = time.monotonic()
        yield pb.AudioChunk(data=data[start:start + step], is_final=final)


def register(app: typer.Typer) -> None:
    app.command("listen")(listen_command)
