"""AudioService's calls that need no worker: voices, speech to text without one, auth and
reflection, over a real bridge and gRPC channel (and the real grpcurl)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc

from bridge._proto import audio_service_pb2 as pb
from bridge.client import audio_service_stub
from bridge.server import Bridge, BridgeOptions, serve_bridge
from core.bus import Bus
from tests.bridge.conftest import OPTIONS, status_of

BIN = Path(sys.executable).parent


async def test_speech_to_text_without_a_worker_is_unavailable(
        bridge: Bridge, audio_stub: Any) -> None:
    async def one_chunk() -> AsyncIterator[pb.AudioChunk]:
        yield pb.AudioChunk(data=b"\0\0", format="pcm_s16le", sample_rate=16000)

    code, details = await status_of(audio_stub.SpeechToText(one_chunk()))
    assert code == grpc.StatusCode.UNAVAILABLE and "transcribe" in details


async def test_list_voices_filters(bridge: Bridge, audio_stub: Any) -> None:
    every = (await audio_stub.ListVoices(pb.ListVoicesRequest())).voices
    assert {"emma", "james", "sophie"} <= {v.id for v in every}
    spanish = (await audio_stub.ListVoices(pb.ListVoicesRequest(language="es"))).voices
    assert spanish and {v.language for v in spanish} == {"es"}
    male = (await audio_stub.ListVoices(pb.ListVoicesRequest(gender="male"))).voices
    assert male and {v.gender for v in male} == {"male"} and "emma" not in {v.id for v in male}
    espeak = (await audio_stub.ListVoices(pb.ListVoicesRequest(engine="espeak-ng"))).voices
    assert espeak and {v.engine for v in espeak} == {"espeak-ng"}
    for bad in ({"language": "xx"}, {"engine": "nope"}, {"gender": "robot"}):
        code, details = await status_of(audio_stub.ListVoices(pb.ListVoicesRequest(**bad)))
        assert code == grpc.StatusCode.INVALID_ARGUMENT and details.startswith(next(iter(bad)))


async def test_get_voice(bridge: Bridge, audio_stub: Any) -> None:
    emma = await audio_stub.GetVoice(pb.GetVoiceRequest(voice_id="Emma"))
    assert (emma.id, emma.name, emma.gender, emma.language) == ("emma", "Emma", "female", "en")
    assert set(emma.languages) == {"en", "es", "fr", "de"} and emma.engine_voice
    code, _ = await status_of(audio_stub.GetVoice(pb.GetVoiceRequest(voice_id="nobody")))
    assert code == grpc.StatusCode.NOT_FOUND


async def test_the_token_guards_audio_service(bus: Bus) -> None:
    options = BridgeOptions(token="s3cret", grace_s=OPTIONS.grace_s)
    async with serve_bridge(bus, "127.0.0.1:0", options) as running, \
            grpc.aio.insecure_channel(running.address) as channel:
        audio_stub = audio_service_stub(channel)
        code, _ = await status_of(audio_stub.ListVoices(pb.ListVoicesRequest()))
        assert code == grpc.StatusCode.UNAUTHENTICATED
        code, _ = await status_of(audio_stub.TextToSpeech(pb.TTSRequest(text="Hi.")))
        assert code == grpc.StatusCode.UNAUTHENTICATED
        voices = await audio_stub.ListVoices(pb.ListVoicesRequest(),
                                       metadata=(("authorization", "Bearer s3cret"),))
        assert voices.voices


async def grpcurl(*args: str) -> tuple[int, str, str]:
    child = await asyncio.create_subprocess_exec(
        str(BIN / "grpcurl"), *args, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await child.communicate()
    assert child.returncode is not None
    return child.returncode, out.decode(), err.decode()


async def test_reflection_lists_and_describes_audio_service(bridge: Bridge) -> None:
    code, out, err = await grpcurl("-plaintext", bridge.address, "list")
    assert code == 0, err
    assert {"voicecore.v1.AudioService", "voicecore.v1.VoiceCore"} <= set(out.split())
    code, out, err = await grpcurl("-plaintext", bridge.address, "describe",
                                   "voicecore.v1.AudioService")
    assert code == 0, err
    assert "rpc TextToSpeech ( .voicecore.v1.TTSRequest ) returns ( stream " in out
    code, out, err = await grpcurl("-plaintext", "-d", '{"language": "de", "gender": "male"}',
                                   bridge.address, "voicecore.v1.AudioService/ListVoices")
    assert code == 0, err
    assert {(v["language"], v["gender"]) for v in json.loads(out)["voices"]} == {("de", "male")}


def test_every_method_is_implemented_and_registered_with_a_safe_parser() -> None:
    from bridge._proto.audio_service_pb2_grpc import AudioServiceServicer
    from bridge.audio import AudioService
    from bridge.rpc import add_service

    class Recorder:
        def __init__(self) -> None:
            self.registered: dict[str, Any] = {}

        def add_generic_rpc_handlers(self, handlers: object) -> None:
            pass

        def add_registered_method_handlers(self, service: str, handlers: Any) -> None:
            self.registered[service] = handlers

    service = pb.DESCRIPTOR.services_by_name["AudioService"]
    for method in service.methods:
        assert getattr(AudioService, method.name) is not getattr(
            AudioServiceServicer, method.name), f"{method.name} is not implemented"
    server = Recorder()
    add_service(AudioServiceServicer(), server, pb, "AudioService")
    handlers = server.registered[service.full_name]
    for method in service.methods:
        handler = handlers[method.name]
        assert (bool(handler.request_streaming), bool(handler.response_streaming)) == (
            method.client_streaming, method.server_streaming)
        assert handler.request_deserializer(b"\xff") is not None  # never raises
