"""``voicecore transcribe FILE``: an audio file to text through the ``transcribe`` primitive.

The file is checked and measured here (it must decode: a bad file is one line and nothing
is sent), stored in ``VC_AUDIO`` under the call's conversation with the data directory's
bridge identity, and transcribed through the bridge's ``ExecutePrimitive`` at
``--grpc-addr`` (a running ``voicecore up``). When nothing listens there, it says so on
standard error and runs an embedded stack for the call (a NATS server on a free port in a
temporary directory, a ``transcribe`` worker on the ``--stt-model`` and a bridge, in this
process), as ``voicecore say`` does. Output: the text, or ``--json`` (the whole
transcription) or ``--srt`` (its segments as subtitles).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer

from core.audio import decode
from core.audiocheck import AudioLimits
from core.audiostore import AudioStore, object_name
from core.bus import Bus
from core.config import DEFAULT_NATS_PORT, Settings, default_data_dir, split_host_port
from core.errors import ConfigError
from core.eventlog.client import service_url
from core.natsauth import NatsAuth, identity
from core.natsserver import port_in_use
from core.stt import subtitles
from core.stt.settings import DEFAULT_MODEL
from core.transcribe import TRANSCRIBE, TRANSCRIBER
from schemas.audio import AudioFormat, AudioRef, Transcription
from voicecore.options import (
    Caller,
    DataDir,
    NatsUrl,
    run_async,
    with_grpc_caller,
    with_nats_auth,
)
from voicecore.stt_options import SttModel, stt_settings

SUFFIX_FORMATS: dict[str, AudioFormat] = {
    ".wav": "wav", ".mp3": "mp3", ".ogg": "ogg", ".opus": "ogg", ".oga": "ogg",
    ".flac": "flac", ".webm": "webm", ".pcm": "pcm_s16le", ".raw": "pcm_s16le"}
BRIDGE_TIMEOUT_S = 300.0
"""The most the bridge waits for one primitive (bridge/execute.py)."""


@with_grpc_caller
@with_nats_auth
def transcribe_command(
    file: Annotated[Path, typer.Argument(help="An audio file: wav, mp3, ogg, flac, webm, or "
                                         "raw 16-bit PCM (.pcm/.raw with --rate)")],
    language: Annotated[str, typer.Option(
        "--language", help="The language spoken (en, es, …); empty: detected")] = "",
    hint: Annotated[str, typer.Option(
        "--hint", help="email, phone, date, confirmation, or free text")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="The whole transcription as "
                                          "JSON (segments, words, confidence)")] = False,
    srt: Annotated[bool, typer.Option("--srt", help="The segments as SRT subtitles")] = False,
    words: Annotated[bool, typer.Option("--words", help="Word timestamps (in --json)")] = False,
    vad: Annotated[bool, typer.Option("--vad", help="Skip non-speech (Silero VAD)")] = False,
    rate: Annotated[int, typer.Option("--rate", help="Sample rate of a raw .pcm file")] = 0,
    conversation: Annotated[str, typer.Option("--conversation", help="Conversation id "
                                              "[default: a new one]")] = "",
    stt_model: SttModel = DEFAULT_MODEL,
    data_dir: DataDir = None,
    nats_url: NatsUrl = None,
    *,
    nats_auth: NatsAuth,
    caller: Caller,
) -> None:
    """Transcribe FILE (through a running `voicecore up`, or an embedded one)."""
    if as_json and srt:
        raise ConfigError("--json and --srt: choose one")
    upload = _read(file, rate)
    params = {"language": language, "hint": hint, "word_timestamps": words or srt,
              "vad_filter": vad}
    base = data_dir or default_data_dir()
    url = nats_url or service_url(base) or f"nats://127.0.0.1:{DEFAULT_NATS_PORT}"
    bridge = identity("bridge", nats_auth, base)  # the identity that may store audio
    conversation = conversation or f"transcribe-{uuid.uuid4().hex[:12]}"
    TRANSCRIBER.configure(stt_settings(data_dir, model=stt_model))
    try:
        result = run_async(_transcribe(caller, (url, bridge), conversation, upload, params))
    except asyncio.CancelledError:
        sys.exit(130)
    if as_json:
        print(json.dumps(msgspec.to_builtins(result), indent=2, ensure_ascii=False))
    elif srt:
        print(subtitles.srt(result.segments), end="")
    else:
        print(result.text)
    print(f"voicecore: {result.duration_s:.2f} s heard by {result.model} "
          f"(language {result.language}, confidence {result.confidence:.2f}; "
          f"conversation {conversation})", file=sys.stderr)


class _Upload(msgspec.Struct, frozen=True):
    data: bytes
    format: AudioFormat
    sample_rate: int
    duration_s: float


def _read(file: Path, rate: int) -> _Upload:
    """The file, decoded once here: audio that does not decode is refused before anything
    is stored or started."""
    fmt = SUFFIX_FORMATS.get(file.suffix.lower())
    if fmt is None:
        raise ConfigError(f"{file}: unknown audio extension {file.suffix or '(none)'!r} "
                          f"(known: {', '.join(SUFFIX_FORMATS)})")
    if fmt == "pcm_s16le" and rate <= 0:
        raise ConfigError(f"{file}: raw PCM needs its sample rate: --rate HZ")
    if not file.is_file():
        raise ConfigError(f"{file}: no such file")
    data = file.read_bytes()
    pcm = decode(data, limits=AudioLimits.from_env(), fmt=fmt, source_rate=rate or None)
    return _Upload(data, fmt, rate or pcm.rate, pcm.duration_s)


async def _transcribe(caller: Caller, nats: tuple[str, NatsAuth], conversation: str,
                      upload: _Upload, params: dict[str, Any]) -> Transcription:
    """Through the running ``up`` (NATS ``nats`` = URL and identity, the bridge ``caller``)
    or, when no bridge listens, an embedded stack."""
    if port_in_use(*split_host_port(caller.addr)):
        bus = await Bus.connect(nats[0], name="voicecore-transcribe", auth=nats[1])
        try:
            ref = await _store(bus, conversation, upload)
        finally:
            await bus.drain()
        return await _execute(caller, conversation, ref, params)
    print(f"voicecore: no bridge at {caller.addr}: transcribing through an embedded one",
          file=sys.stderr)
    async with _embedded() as (bus, address):
        ref = await _store(bus, conversation, upload)
        return await _execute(Caller(address, None, None), conversation, ref, params)


async def _store(bus: Bus, conversation: str, upload: _Upload) -> AudioRef:
    name = object_name(conversation, uuid.uuid4().hex, 0, upload.format)
    return await AudioStore(bus).put(name, upload.data, format=upload.format,
                                     sample_rate=upload.sample_rate,
                                     duration_s=upload.duration_s)


async def _execute(caller: Caller, conversation: str, ref: AudioRef,
                   params: dict[str, Any]) -> Transcription:
    import grpc

    from bridge._proto import voice_core_pb2 as pb
    from bridge.client import voice_core_stub
    from bridge.convert import fill_struct, from_struct

    request = pb.ExecutePrimitiveRequest(objective_type=TRANSCRIBE.name,
                                         conversation_id=conversation,
                                         timeout_seconds=BRIDGE_TIMEOUT_S)
    fill_struct(request.params, {"audio": msgspec.to_builtins(ref), **params})
    async with caller.channel() as channel:
        try:
            response = await voice_core_stub(channel).ExecutePrimitive(
                request, timeout=BRIDGE_TIMEOUT_S + 10, metadata=caller.metadata())
        except grpc.aio.AioRpcError as exc:
            raise ConfigError(f"{exc.code().name}: {exc.details()}") from None
    if not response.success:
        raise ConfigError(f"{response.error.code}: {response.error.message}")
    return msgspec.convert(from_struct(response.data), Transcription, strict=False)


@contextlib.asynccontextmanager
async def _embedded() -> AsyncIterator[tuple[Bus, str]]:
    """A throwaway stack (NATS, a transcribe worker, a bridge) for one call."""
    from voicecore.app import running

    with tempfile.TemporaryDirectory(prefix="voicecore-transcribe-") as scratch:
        chosen = Settings(data_dir=Path(scratch), nats_port=-1, grpc_addr="127.0.0.1:0")
        async with running(chosen, [TRANSCRIBE], grpc_bridge=True) as state:
            yield state.bus, state.bridge.address


def register(app: typer.Typer) -> None:
    app.command("transcribe")(transcribe_command)
