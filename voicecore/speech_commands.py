"""``voicecore say``: text to an audio file through the bridge's AudioService.

It calls ``ProcessAudioFile`` on the bridge at ``--grpc-addr`` (a running ``voicecore
up``). When nothing listens there, it says so on standard error and runs an embedded
stack for the call: a NATS server on a free port in a temporary directory, a
``synthesize`` worker and a bridge in this process, stopped once the file is written.
The file is written next to its final name and renamed into place, so a failed call
leaves no partial file; ``-o -`` writes to standard output. A summary goes to standard
error.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer

from core.errors import ConfigError
from core.primitive import Primitive
from voicecore.options import Caller, run_async, through_bridge, with_grpc_caller

SUFFIX_FORMATS = {".wav": "wav", ".mp3": "mp3", ".ogg": "ogg", ".opus": "ogg", ".flac": "flac",
                  ".pcm": "pcm_s16le", ".raw": "pcm_s16le"}
STDOUT = "-"


@with_grpc_caller
def say_command(
    text: Annotated[str, typer.Argument(help="What to say (1-5,000 characters)")],
    output: Annotated[str, typer.Option(
        "--output", "-o", help="The audio file to write; - for standard output")],
    voice: Annotated[str, typer.Option(
        "--voice", help="Voice id or name: emma (the default), james, sophie, or "
        "ENGINE:VOICE")] = "",
    language: Annotated[str, typer.Option("--language", help="en, es, fr or de")] = "en",
    fmt: Annotated[str, typer.Option(
        "--format", help="wav, mp3, ogg, flac or pcm_s16le (default: from -o's extension; "
        "wav for -o -)")] = "",
    rate: Annotated[int, typer.Option("--rate", help="Sample rate in Hz (0: the "
                                      "engine's)")] = 0,
    speed: Annotated[float, typer.Option("--speed", help="0.5-2.0")] = 1.0,
    conversation: Annotated[str, typer.Option("--conversation", help="Conversation id")] = "",
    trace_id: Annotated[str, typer.Option("--trace-id", help="Trace id")] = "",
    *,
    caller: Caller,
) -> None:
    """Speak TEXT into an audio file (through a running `voicecore up`, or an embedded one)."""
    from bridge._proto import audio_service_pb2 as pb

    chosen = fmt or output_format(output)
    target = None if output == STDOUT else writable(Path(output))
    request = pb.ProcessAudioFileRequest(
        text=text, voice_id=voice, language=language, format=chosen, sample_rate=rate,
        speed=speed, conversation_id=conversation, trace_id=trace_id)
    try:
        response = run_async(synthesize(caller, request))
    except asyncio.CancelledError:
        sys.exit(130)
    if target is None:
        sys.stdout.buffer.write(response.data)
        sys.stdout.buffer.flush()
    else:
        write_atomically(target, response.data)
    where = "standard output" if target is None else str(target)
    print(f"voicecore: wrote {where}: {response.duration_seconds:.2f} s of {response.format} "
          f"at {response.sample_rate} Hz, {len(response.data)} bytes (voice "
          f"{response.voice_id}, {response.engine}; conversation {response.conversation_id})",
          file=sys.stderr)


def output_format(output: str) -> str:
    """The format ``-o``'s extension names (``wav`` for standard output)."""
    if output == STDOUT:
        return "wav"
    suffix = Path(output).suffix.lower()
    if suffix not in SUFFIX_FORMATS:
        raise ConfigError(f"-o {output}: cannot tell the format from {suffix or 'no'} "
                          f"extension: pass --format (wav, mp3, ogg, flac, pcm_s16le)")
    return SUFFIX_FORMATS[suffix]


def writable(path: Path) -> Path:
    """``path`` when a file can be written there (checked before anything is synthesized)."""
    folder = path.parent
    if path.is_dir():
        raise ConfigError(f"-o {path}: is a directory")
    if not folder.is_dir():
        raise ConfigError(f"-o {path}: no directory {folder}")
    if not os.access(folder, os.W_OK):
        raise ConfigError(f"-o {path}: cannot write in {folder}")
    return path


def write_atomically(path: Path, data: bytes) -> None:
    """``data`` into ``path``, whole or not at all (a scratch file renamed into place,
    created as any new file of the user's: the umask applies)."""
    scratch = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.part")
    try:
        with scratch.open("xb") as file:
            file.write(data)
        os.replace(scratch, path)
    except OSError as exc:
        scratch.unlink(missing_ok=True)
        raise ConfigError(f"-o {path}: {exc.strerror or exc}") from exc


async def synthesize(caller: Caller, request: Any) -> Any:
    """``ProcessAudioFile`` through ``caller``'s bridge, or an embedded one when nothing
    listens at its address."""
    return await through_bridge(caller, lambda to: call_bridge(to, request),
                                doing="speaking", primitives=_synthesize)


def _synthesize() -> list[Primitive]:
    from core.synthesize import SYNTHESIZE

    return [SYNTHESIZE]


async def call_bridge(caller: Caller, request: Any) -> Any:
    import grpc

    from bridge.client import audio_service_stub

    async with caller.channel() as channel:
        try:
            return await audio_service_stub(channel).ProcessAudioFile(
                request, metadata=caller.metadata(), timeout=300.0)
        except grpc.aio.AioRpcError as exc:
            raise ConfigError(f"{exc.code().name}: {exc.details()}") from None


def register(app: typer.Typer) -> None:
    app.command("say")(say_command)
