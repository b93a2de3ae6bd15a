"""TextToSpeech and ProcessAudioFile over a real stack: nats-server, a worker running the
real ``synthesize`` primitive (Piper and espeak-ng), the bridge, a real gRPC channel."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from bridge._proto import audio_service_pb2 as pb
from bridge._proto import voice_core_pb2
from bridge.client import voice_core_stub
from core import audio
from core.bus import Bus
from core.synthesize import SYNTHESIZE, SYNTHESIZER
from core.tts.settings import TtsSettings
from core.worker import Worker
from schemas import events as ev
from schemas import ids
from schemas.payloads import Failure
from tests.bridge.conftest import FAST, status_of, stored_events
from tests.support.hostile import corpus
from tests.support.proc import free_port

TEN_SENTENCES = " ".join(f"This is sentence number {n}, spoken on its own." for n in range(1, 11))


@pytest.fixture
async def speech_worker(bus: Bus) -> AsyncIterator[Worker]:
    worker = Worker(bus, SYNTHESIZE, FAST)
    await worker.start()
    yield worker
    await worker.stop()


async def requests_of(bus: Bus, conversation: str) -> list[ev.Event]:
    found = await stored_events(bus, f"vc.ev.{conversation}.>")
    return [e for e in found if e.event_type == "synthesize.requested"]


async def test_text_to_speech_streams_each_sentence_before_the_last_is_spoken(
        bus: Bus, speech_worker: Worker, audio_stub: Any) -> None:
    stream = audio_stub.TextToSpeech(pb.TTSRequest(text=TEN_SENTENCES, conversation_id="tts-10",
                                             trace_id="tts-trace"))
    chunks, first_at = [], None
    async for chunk in stream:
        first_at = first_at or dt.datetime.now(dt.UTC)
        chunks.append(chunk)
    assert len(chunks) >= 2
    assert [c.sequence for c in chunks] == list(range(len(chunks)))
    assert [c.is_final for c in chunks] == [False] * (len(chunks) - 1) + [True]
    assert {(c.conversation_id, c.trace_id, c.format, c.language) for c in chunks} == {
        ("tts-10", "tts-trace", "wav", "en")}
    for chunk in chunks:
        pcm = audio.decode(chunk.data)
        assert pcm.rate == chunk.sample_rate and pcm.duration_s > 0.3
    stored = await stored_events(bus, "vc.ev.tts-10.>")
    parts = [e for e in stored if isinstance(e, ev.SynthesizeChunk)]
    # the first part reached the caller before the worker had stored the last one
    assert first_at is not None and first_at < parts[-1].occurred_at
    assert dict(await stream.trailing_metadata() or ()).get("trace-id") == "tts-trace"


async def test_stream_events_shows_the_synthesis(
        bus: Bus, speech_worker: Worker, channel: grpc.aio.Channel,
        audio_stub: Any) -> None:
    events = voice_core_stub(channel).StreamEvents(
        voice_core_pb2.StreamEventsRequest(conversation_id="tts-events"))
    await events.initial_metadata()
    async for _ in audio_stub.TextToSpeech(pb.TTSRequest(text="One. Two.",
                                                   conversation_id="tts-events")):
        pass
    seen: list[str] = []
    async for event in events:
        seen.append(event.type)
        if event.type == "synthesize.completed":
            break
    events.cancel()
    assert seen[0] == "synthesize.requested"
    assert seen.count("synthesize.chunk") >= 1 and seen[-1] == "synthesize.completed"


async def test_an_unknown_voice_is_not_found_and_nothing_is_published(
        bus: Bus, speech_worker: Worker, audio_stub: Any) -> None:
    code, details = await status_of(audio_stub.TextToSpeech(pb.TTSRequest(
        text="Hello.", voice_id="nobody", conversation_id="tts-unknown")))
    assert code == grpc.StatusCode.NOT_FOUND and "nobody" in details
    code, _ = await status_of(audio_stub.ProcessAudioFile(pb.ProcessAudioFileRequest(
        text="Hello.", voice_id="nobody", conversation_id="tts-unknown")))
    assert code == grpc.StatusCode.NOT_FOUND
    assert await requests_of(bus, "tts-unknown") == []


@pytest.mark.parametrize(("fields", "named"), [
    ({"text": ""}, "text"),
    ({"text": "x" * 5001}, "text"),
    ({"text": "Hi.", "format": "aiff"}, "format"),
    ({"text": "Hi.", "speed": 3.0}, "speed"),
    ({"text": "Hi.", "speed": float("nan")}, "speed"),
    ({"text": "Hi.", "language": "xx"}, "language"),
    ({"text": "Hi.", "sample_rate": -1}, "sample_rate"),
    ({"text": "Hi.", "sample_rate": 7}, "sample_rate"),  # was a WAV of no samples at 7 Hz
    ({"text": "Hi.", "sample_rate": 48_001}, "sample_rate"),
    ({"text": "Hi.", "voice_id": "v" * 200}, "voice_id"),
    ({"text": "Hi.", "conversation_id": "a.b"}, "conversation_id"),
    ({"text": "Hi.", "trace_id": "\n"}, "trace_id"),
])
async def test_bad_params_are_invalid_argument_naming_the_field(
        bus: Bus, speech_worker: Worker, audio_stub: Any, fields: dict[str, Any],
        named: str) -> None:
    code, details = await status_of(audio_stub.TextToSpeech(pb.TTSRequest(**fields)))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.startswith(named), details
    assert "x" * 50 not in details  # never the value


async def test_an_engine_that_cannot_answer_ends_the_stream_unavailable(
        bus: Bus, audio_stub: Any) -> None:
    """gTTS pointed at a closed port: the worker answers ENGINE_UNAVAILABLE (retryable)."""
    SYNTHESIZER.configure(TtsSettings(gtts_url=f"http://127.0.0.1:{free_port()}",
                                      gtts_timeout_s=2.0))
    worker = Worker(bus, SYNTHESIZE, FAST)
    await worker.start()
    try:
        code, details = await status_of(audio_stub.TextToSpeech(pb.TTSRequest(
            text="Hello.", voice_id="gtts:en:com", conversation_id="tts-offline")))
    finally:
        await worker.stop()
        SYNTHESIZER.configure(TtsSettings.from_env())
    assert code == grpc.StatusCode.UNAVAILABLE
    assert details.startswith("ENGINE_UNAVAILABLE")


async def test_no_live_worker_is_unavailable(bus: Bus, audio_stub: Any) -> None:
    code, details = await status_of(audio_stub.TextToSpeech(pb.TTSRequest(text="Hello.")))
    assert code == grpc.StatusCode.UNAVAILABLE and "synthesize" in details


async def test_process_audio_file_answers_one_playable_file(
        bus: Bus, speech_worker: Worker, audio_stub: Any) -> None:
    text = "The first sentence. And the second one, a little longer."
    response = await audio_stub.ProcessAudioFile(pb.ProcessAudioFileRequest(
        text=text, format="mp3", sample_rate=16000, voice_id="james",
        conversation_id="tts-file"))
    pcm = audio.decode(response.data)
    assert (response.format, response.sample_rate, pcm.rate) == ("mp3", 16000, 16000)
    assert abs(pcm.duration_s - response.duration_seconds) < 0.2
    assert response.usage.characters == len(text)
    assert response.voice_id == "james" and response.engine
    assert len(response.objects) >= 2
    assert all(o.bucket == "VC_AUDIO" and len(o.sha256) == 64 for o in response.objects)
    assert response.conversation_id == "tts-file" and response.result_event_id
    code, details = await status_of(audio_stub.ProcessAudioFile(pb.ProcessAudioFileRequest(
        audio=response.data)))  # transcription: no worker serves transcribe here
    assert code == grpc.StatusCode.UNAVAILABLE and "transcribe" in details


async def test_text_to_speech_goes_past_what_is_not_its_own_on_its_subjects(
        bus: Bus, speech_worker: Worker, audio_stub: Any) -> None:
    """The hostile corpus, and well-formed events of other calls, published on the call's
    own synthesize subjects while it streams: skipped, and the call ends as it should."""
    conversation = "tts-hostile"
    stream = audio_stub.TextToSpeech(pb.TTSRequest(text=TEN_SENTENCES,
                                                   conversation_id=conversation))
    chunks = [await stream.read()]  # the request is stored: what follows is read by the call
    [request] = await requests_of(bus, conversation)
    for hostile in corpus():
        await bus.publish_raw(f"vc.ev.{conversation}.synthesize.chunk", hostile.body,
                              dict(hostile.headers))
    strangers = [  # another request's failure, and results of ours with ids no worker gives
        ev.new_event(ev.SynthesizeFailed, conversation_id=conversation, trace_id="x",
                     causation_id=ids.uuid7(), data=Failure(code="PRIMITIVE_FAILED",
                                                               message="not yours")),
        ev.new_event(ev.SynthesizeFailed, conversation_id=conversation, trace_id="x",
                     causation_id=request.id, data=Failure(code="PRIMITIVE_FAILED",
                                                           message="forged id"))]
    for stranger in strangers:
        await bus.publish(stranger)
    while (chunk := await stream.read()) != grpc.aio.EOF:
        chunks.append(chunk)
    assert [c.sequence for c in chunks] == list(range(len(chunks))) and chunks[-1].is_final
    assert len(chunks) == len([e for e in await stored_events(bus, f"vc.ev.{conversation}.>")
                               if isinstance(e, ev.SynthesizeChunk)
                               and e.causation_id == request.id])


@pytest.mark.parametrize("fmt", ["wav", "ogg", "pcm_s16le"])
async def test_process_audio_file_joins_the_parts_of_each_format(
        bus: Bus, speech_worker: Worker, audio_stub: Any, fmt: str) -> None:
    response = await audio_stub.ProcessAudioFile(pb.ProcessAudioFileRequest(
        text="One sentence here. And a second sentence there.", format=fmt,
        voice_id="espeak-ng:en-us+m3", conversation_id=f"tts-join-{fmt.replace('_', '-')}"))
    assert len(response.objects) >= 2 and response.format == fmt
    pcm = audio.decode(response.data, fmt=fmt, source_rate=response.sample_rate)
    assert pcm.rate == response.sample_rate
    # the whole file: every part's audio (a codec may pad each part by a few ms)
    assert abs(pcm.duration_s - response.duration_seconds) < 0.1 * len(response.objects)


async def test_trace_ids_follow_execute_primitives_rules(
        bus: Bus, speech_worker: Worker, audio_stub: Any) -> None:
    """The field first, then a W3C traceparent, then a trace-id header: on every chunk, the
    trailer and the events."""
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    for conversation, metadata, field, expected in (
            ("tts-trace-header", (("trace-id", "from-header"),), "", "from-header"),
            ("tts-trace-parent", (("traceparent", parent),), "",
             "4bf92f3577b34da6a3ce929d0e0e4736"),
            ("tts-trace-field", (("trace-id", "from-header"),), "from-field", "from-field")):
        stream = audio_stub.TextToSpeech(pb.TTSRequest(
            text="Hi.", conversation_id=conversation, trace_id=field), metadata=metadata)
        chunks = [chunk async for chunk in stream]
        assert {c.trace_id for c in chunks} == {expected}
        assert dict(await stream.trailing_metadata() or ()).get("trace-id") == expected
        stored = await stored_events(bus, f"vc.ev.{conversation}.>")
        assert stored and {e.trace_id for e in stored} == {expected}
