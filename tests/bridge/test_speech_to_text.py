"""SpeechToText and ProcessAudioFile (transcription) over a real stack: nats-server, a
worker running the real ``transcribe`` primitive on tiny.en, the bridge, a real gRPC
channel; speech made at test time by Piper (its words vary from run to run: they are
checked by what capture_email reads, not letter by letter)."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from bridge._proto import audio_service_pb2 as pb
from bridge.server import Bridge
from core import audio
from core.audiostore import AudioStore
from core.bus import Bus
from core.stt.whisper import Transcriber
from core.transcribe import TRANSCRIBE, TranscribePrimitive
from core.worker import Worker
from schemas import events as ev
from schemas.audio import AudioRef
from tests.bridge.conftest import FAST, status_of, stored_events
from tests.stt.conftest import heard_email, speak

SENTENCE = "My email is john dot smith at gmail dot com."
EMAIL = "john.smith@gmail.com"


@pytest.fixture(scope="module")
def email_speech() -> audio.Pcm:
    return speak(SENTENCE)


@pytest.fixture
async def stt_worker(bus: Bus, tiny: Transcriber) -> AsyncIterator[Worker]:
    primitive = TranscribePrimitive(transcriber=tiny)
    worker = Worker(bus, dataclasses.replace(TRANSCRIBE, handler=primitive.transcribe,
                                             prepare=primitive.prepare), FAST)
    await worker.start()
    yield worker
    await worker.stop()


def pieces(data: bytes, size: int = 16_384) -> list[bytes]:
    return [data[at:at + size] for at in range(0, len(data), size)]


async def stored_audio(bus: Bus, found: pb.AudioObject) -> bytes:
    ref = AudioRef(bucket=found.bucket, name=found.name, size=found.size, sha256=found.sha256,
                   format=found.format, sample_rate=found.sample_rate,  # type: ignore[arg-type]
                   duration_s=found.duration_seconds)
    return await AudioStore(bus).get(ref)


async def test_speech_to_text_stores_the_audio_and_answers_the_transcribe_result(
        bus: Bus, bridge: Bridge, audio_stub: Any, stt_worker: Worker,
        email_speech: audio.Pcm) -> None:
    wav = audio.encode(email_speech, "wav")
    chunks = pieces(wav)

    async def send() -> AsyncIterator[pb.AudioChunk]:
        yield pb.AudioChunk(data=chunks[0], language="en", hint="email",
                            conversation_id="c-stt", trace_id="t-stt")
        for chunk in chunks[1:]:
            yield pb.AudioChunk(data=chunk)

    call = audio_stub.SpeechToText(send())
    answer = await call
    assert heard_email(answer.text) == EMAIL, answer.text
    assert answer.language == "en" and 0 < answer.confidence <= 1
    assert answer.model == "tiny.en" and answer.real_time_factor > 0
    assert abs(answer.duration_seconds - email_speech.duration_s) < 0.05
    words = [w for s in answer.segments for w in s.words]
    assert words and all(a.start <= b.start for a, b in itertools.pairwise(words))
    assert (answer.conversation_id, answer.trace_id) == ("c-stt", "t-stt")
    assert dict(await call.trailing_metadata())["trace-id"] == "t-stt"
    # The audio as sent, stored under the conversation; the request and result events.
    assert answer.audio.name == f"c-stt/{answer.request_event_id}/0.wav"
    assert (answer.audio.format, answer.audio.sample_rate) == ("wav", email_speech.rate)
    assert await stored_audio(bus, answer.audio) == wav
    found = await stored_events(bus, "vc.ev.c-stt.>")
    assert [e.event_type for e in found] == ["transcribe.requested", "transcribe.completed"]
    request, result = found
    assert request.id == answer.request_event_id and result.id == answer.result_event_id
    assert isinstance(request, ev.TranscribeRequested)
    assert request.data.params.audio.name == answer.audio.name
    assert request.data.params.hint == "email" and request.trace_id == "t-stt"


async def test_raw_pcm_says_its_rate_and_is_heard(
        bridge: Bridge, audio_stub: Any, stt_worker: Worker, email_speech: audio.Pcm) -> None:
    raw = audio.encode(email_speech, "pcm_s16le", rate=16_000)

    async def send() -> AsyncIterator[pb.AudioChunk]:
        for n, chunk in enumerate(pieces(raw)):
            yield pb.AudioChunk(data=chunk, format="pcm_s16le", sample_rate=16_000) if n == 0 \
                else pb.AudioChunk(data=chunk)

    answer = await audio_stub.SpeechToText(send())
    assert heard_email(answer.text) == EMAIL, answer.text
    assert answer.conversation_id.startswith("bridge-")
    assert (answer.audio.format, answer.audio.sample_rate) == ("pcm_s16le", 16_000)
    assert answer.audio.name.endswith("/0.pcm")


async def test_process_audio_file_transcribes_a_file_with_subtitles(
        bus: Bus, bridge: Bridge, audio_stub: Any, stt_worker: Worker,
        email_speech: audio.Pcm) -> None:
    mp3 = audio.encode(email_speech, "mp3")
    answer = await audio_stub.ProcessAudioFile(pb.ProcessAudioFileRequest(
        audio=mp3, language="en", subtitles="vtt", conversation_id="c-file"))
    assert heard_email(answer.transcription.text) == EMAIL, answer.transcription.text
    assert (answer.format, answer.conversation_id) == ("mp3", "c-file")
    assert answer.usage.engine == "faster-whisper" and answer.usage.voice == "tiny.en"
    assert answer.usage.audio_seconds == pytest.approx(answer.duration_seconds)
    [stored] = answer.objects
    assert await stored_audio(bus, stored) == mp3
    lines = answer.subtitles.splitlines()
    assert lines[0] == "WEBVTT" and lines[2] == "1" and " --> " in lines[3]
    assert heard_email(" ".join(lines[4:])) == EMAIL
    assert answer.request_event_id and answer.result_event_id
    events = await stored_events(bus, "vc.ev.c-file.>")
    assert [e.id for e in events] == [answer.request_event_id, answer.result_event_id]


async def test_audio_that_does_not_decode_is_invalid_and_nothing_is_published(
        bus: Bus, bridge: Bridge, audio_stub: Any, stt_worker: Worker) -> None:
    async def send(data: bytes) -> AsyncIterator[pb.AudioChunk]:
        yield pb.AudioChunk(data=data, conversation_id="c-bad")

    for bad in (b"not audio at all", b"RIFF\x24\x00\x00\x00WAVEfmt ", b""):
        code, details = await status_of(audio_stub.SpeechToText(send(bad)))
        assert code == grpc.StatusCode.INVALID_ARGUMENT
        assert details.startswith("INVALID_AUDIO: "), details
    code, details = await status_of(audio_stub.ProcessAudioFile(
        pb.ProcessAudioFileRequest(audio=b"ID3 nothing", conversation_id="c-bad")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and details.startswith("INVALID_AUDIO: ")
    assert await stored_events(bus, "vc.ev.c-bad.>") == []


async def test_limits_format_and_subtitles_are_checked_before_anything_is_sent(
        bus: Bus, bridge: Bridge, audio_stub: Any, stt_worker: Worker,
        email_speech: audio.Pcm, monkeypatch: pytest.MonkeyPatch) -> None:
    wav = audio.encode(email_speech, "wav")
    monkeypatch.setenv("VOICECORE_AUDIO_MAX_BYTES", str(len(wav) - 1))

    async def send() -> AsyncIterator[pb.AudioChunk]:
        for chunk in pieces(wav):
            yield pb.AudioChunk(data=chunk, conversation_id="c-limits")

    code, details = await status_of(audio_stub.SpeechToText(send()))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.startswith("INVALID_AUDIO: ") and "over the limit" in details
    for request, field in ((pb.ProcessAudioFileRequest(audio=wav, subtitles="ass"), "subtitles"),
                           (pb.ProcessAudioFileRequest(audio=wav, format="aiff"), "format")):
        request.conversation_id = "c-limits"
        code, details = await status_of(audio_stub.ProcessAudioFile(request))
        assert code == grpc.StatusCode.INVALID_ARGUMENT and details.startswith(field), details
    assert await stored_events(bus, "vc.ev.c-limits.>") == []


async def test_no_worker_is_unavailable(bridge: Bridge, audio_stub: Any,
                                        email_speech: audio.Pcm) -> None:
    code, details = await status_of(audio_stub.ProcessAudioFile(
        pb.ProcessAudioFileRequest(audio=audio.encode(email_speech, "wav"))))
    assert code == grpc.StatusCode.UNAVAILABLE and "transcribe" in details
