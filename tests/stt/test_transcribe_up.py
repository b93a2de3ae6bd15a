"""Speech in through a real ``voicecore up`` (tiny.en): ``voicecore transcribe FILE``, the
audio → transcribe → capture_email chain through gRPC ExecutePrimitive, AudioService
SpeechToText in the event log and in ``replay --rerun``, and the offline model error of a
model that is nowhere."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import msgspec

from bridge._proto import audio_service_pb2 as audio_pb
from bridge._proto import voice_core_pb2 as pb
from bridge.client import audio_service_stub, voice_core_stub
from bridge.convert import fill_struct, from_struct
from core.audio import encode
from core.audiostore import AudioStore, object_name
from core.bus import Bus
from core.natsauth import NatsAuth, identity
from tests.stt.conftest import speak
from tests.support import proc

EMAIL = "My email is john dot smith at gmail dot com."


def up_args(data_dir: Path, nats_port: int, grpc_port: int) -> list[str]:
    return ["up", "--data-dir", str(data_dir), "--nats-port", str(nats_port),
            "--grpc-addr", f"127.0.0.1:{grpc_port}", "--stt-model", "tiny.en"]


async def execute(address: str, objective: str, params: dict[str, object],
                  conversation: str) -> pb.ExecutePrimitiveResponse:
    request = pb.ExecutePrimitiveRequest(objective_type=objective, conversation_id=conversation,
                                         timeout_seconds=300)
    fill_struct(request.params, params)
    async with grpc.aio.insecure_channel(address) as channel:
        response: pb.ExecutePrimitiveResponse = await voice_core_stub(channel).ExecutePrimitive(
            request, timeout=320)
    return response


async def test_spoken_email_is_transcribed_then_captured_through_a_real_up(
        tmp_path: Path) -> None:
    speech = speak(EMAIL)
    audio_file = tmp_path / "email.ogg"
    audio_file.write_bytes(encode(speech, "ogg"))
    data, nats_port, grpc_port = tmp_path / "data", proc.free_port(), proc.free_port()
    address = f"127.0.0.1:{grpc_port}"
    with proc.started(*up_args(data, nats_port, grpc_port)) as (up, ready):
        assert "transcribe" in ready
        # The command line: the file stored with the bridge identity, ExecutePrimitive.
        done = proc.run("transcribe", str(audio_file), "--json", "--hint", "email",
                        "--data-dir", str(data), "--grpc-addr", address, timeout=600)
        assert done.returncode == 0, done.stderr
        printed = json.loads(done.stdout)
        assert "john dot smith at gmail dot com" in printed["text"].lower()
        assert (printed["model"], printed["language"]) == ("tiny.en", "en")
        assert printed["usage"]["engine"] == "faster-whisper"
        # The chain through gRPC: audio stored by the bridge identity, transcribed, captured.
        conversation = f"c-chain-{uuid.uuid4().hex[:8]}"
        bus = await Bus.connect(f"nats://127.0.0.1:{nats_port}",
                                auth=identity("bridge", NatsAuth(), data))
        try:
            ref = await AudioStore(bus).put(
                object_name(conversation, "upload", 0, "wav"), encode(speech, "wav"),
                format="wav", sample_rate=speech.rate, duration_s=speech.duration_s)
        finally:
            await bus.drain()
        heard = await execute(address, "transcribe", {"audio": msgspec.to_builtins(ref),
                                                      "word_timestamps": True}, conversation)
        assert heard.success, heard.error
        text = from_struct(heard.data)["text"]
        captured = await execute(address, "capture_email", {"transcript": text}, conversation)
        assert captured.success, captured.error
        assert from_struct(captured.data)["value"] == "john.smith@gmail.com"
        stopped = proc.stop(up)
    assert stopped.returncode == 0, stopped.stderr


def test_a_model_that_is_nowhere_fails_in_one_line_naming_places_and_fixes(
        tmp_path: Path) -> None:
    audio_file = tmp_path / "email.wav"
    audio_file.write_bytes(encode(speak("Hello."), "wav"))
    closed = proc.free_port()  # the hub's address: nothing listens (the network is closed)
    done = proc.run("transcribe", str(audio_file), "--stt-model", "small",
                    "--data-dir", str(tmp_path / "data"),
                    "--grpc-addr", f"127.0.0.1:{proc.free_port()}", timeout=300,
                    env={"HF_HUB_CACHE": str(tmp_path / "hf"),
                         "HF_ENDPOINT": f"http://127.0.0.1:{closed}"})
    assert done.returncode == 1
    error = done.stderr.strip().splitlines()[-1]
    assert error.startswith("voicecore: error: ENGINE_UNAVAILABLE: speech model 'small' not "
                            "found; looked at: model packages")
    assert f"hugging face cache {tmp_path / 'hf'} (Systran/faster-whisper-small not there)" \
        in error
    assert "download of Systran/faster-whisper-small (" in error
    assert "`voicecore models pull small`" in error and "pip install" in error
    assert "--stt-model /path/to/model" in error


def test_audio_that_does_not_decode_is_refused_before_anything_starts(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"ID3 this is not audio")
    done = proc.run("transcribe", str(bad), "--grpc-addr", f"127.0.0.1:{proc.free_port()}")
    assert done.returncode == 1
    assert done.stderr.startswith("voicecore: error: ")
    assert len(done.stderr.strip().splitlines()) == 1


async def test_speech_to_text_through_a_real_up_is_logged_and_reruns(tmp_path: Path) -> None:
    """AudioService SpeechToText with up's own identities (the bridge stores the audio):
    the call is events in the log, and `replay --rerun` transcribes its stored audio again."""
    speech = speak(EMAIL)
    data, nats_port, grpc_port = tmp_path / "data", proc.free_port(), proc.free_port()

    async def chunks() -> AsyncIterator[audio_pb.AudioChunk]:
        yield audio_pb.AudioChunk(data=encode(speech, "flac"), language="en",
                                  conversation_id="c-stt-up")

    env = {"VOICECORE_DATA_DIR": str(data)}
    with proc.started(*up_args(data, nats_port, grpc_port)) as (up, _):
        async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            answer = await audio_service_stub(channel).SpeechToText(chunks(), timeout=320)
        assert "john" in answer.text.lower() and answer.audio.format == "flac"
        shown = await logged(env, "c-stt-up", 2)
        rerun = await asyncio.to_thread(
            proc.run, "replay", "c-stt-up", "--rerun", "--json", "--timeout", "300",
            env=env, timeout=400)
        stopped = proc.stop(up)
    assert stopped.returncode == 0, stopped.stderr
    assert [row["type"] for row in shown] == [
        "transcribe.requested", "transcribe.completed"]
    assert rerun.returncode in (0, 1), rerun.stderr  # 1: Whisper sampled another spelling
    [compared] = json.loads(rerun.stdout)["rerun"]["requests"]
    assert compared["now"]["kind"] == "completed"
    assert compared["now"]["data"]["duration_s"] == compared["recorded"]["data"]["duration_s"]


async def logged(env: dict[str, str], conversation: str, rows: int) -> list[dict[str, Any]]:
    """The conversation's rows in the log (`log show`), once the sink stored ``rows``."""
    for _ in range(60):
        shown = await asyncio.to_thread(proc.run, "log", "show", conversation, "--json",
                                        env=env)
        found = json.loads(shown.stdout) if shown.returncode == 0 else []
        if len(found) >= rows:
            return list(found)
        await asyncio.sleep(0.5)
    raise AssertionError(f"{conversation}: not logged: {shown.stderr}")
