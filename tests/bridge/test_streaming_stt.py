"""StreamingSpeechToText over a real stack: nats-server, a worker running the real
``transcribe_stream`` primitive on tiny.en, the bridge, a real gRPC channel."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from bridge._proto import audio_service_pb2 as pb
from bridge.server import Bridge
from core.bus import Bus
from core.stt.whisper import Transcriber
from core.transcribe_stream import TRANSCRIBE_STREAM, StreamListener
from core.worker import Worker
from tests.bridge.conftest import FAST, status_of, stored_events
from tests.stt.conftest import heard_email, speak
from tests.support.listen import pieces, quantized

SENTENCE = "My email is john dot smith at gmail dot com."


@pytest.fixture
async def listen_worker(bus: Bus, tiny: Transcriber) -> AsyncIterator[Worker]:
    listener = StreamListener()
    listener.configure(tiny.settings, tiny)
    worker = Worker(bus, dataclasses.replace(TRANSCRIBE_STREAM, handler=listener.listen,
                                             prepare=listener.prepare), FAST)
    await worker.start()
    yield worker
    await worker.stop()


async def test_partials_stream_before_one_final_which_is_the_batch_transcript(
        bus: Bus, bridge: Bridge, audio_stub: Any, listen_worker: Worker,
        tiny: Transcriber) -> None:
    speech = quantized(speak(SENTENCE))
    chunks = list(pieces(speech))
    half = len(chunks) // 2
    heard_one = asyncio.Event()

    async def send() -> AsyncIterator[pb.AudioChunk]:
        yield pb.AudioChunk(data=chunks[0], format="pcm_s16le", sample_rate=speech.rate,
                            language="en", conversation_id="c-grpc-listen", trace_id="t-listen")
        for chunk in chunks[1:half]:
            yield pb.AudioChunk(data=chunk)
        await heard_one.wait()  # the rest once a partial came back
        for n, chunk in enumerate(chunks[half:], start=half):
            yield pb.AudioChunk(data=chunk, is_final=n == len(chunks) - 1)

    results = []
    call = audio_stub.StreamingSpeechToText(send())
    async for result in call:
        results.append(result)
        heard_one.set()
    *partials, final = results
    assert partials and not any(p.is_final for p in partials) and final.is_final
    # The same words as a batch pass; Whisper may spell them "john dot smith" in one pass and
    # "john.smith" in the other (its temperature fallback samples), so the two are compared by
    # what capture_email reads from them.
    batch = tiny.transcribe(speech).text
    assert heard_email(final.text) == heard_email(batch) == "john.smith@gmail.com", (
        final.text, batch)
    assert 0 < final.confidence <= 1 and final.stability == 1.0
    assert all(0 <= p.stability <= 1 for p in partials)
    assert dict(await call.trailing_metadata())["trace-id"] == "t-listen"
    found = await stored_events(bus, "vc.ev.c-grpc-listen.>")
    assert found[0].event_type == "transcribe_stream.requested"
    assert found[-1].event_type == "transcribe_stream.completed"


async def test_a_stream_of_another_format_is_invalid_and_none_is_unavailable(
        bridge: Bridge, audio_stub: Any) -> None:
    async def one_chunk(fmt: str) -> AsyncIterator[pb.AudioChunk]:
        yield pb.AudioChunk(data=b"\0\0", format=fmt, sample_rate=16000, is_final=True)

    code, details = await status_of(audio_stub.StreamingSpeechToText(one_chunk("mp3")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "format" in details
    code, details = await status_of(audio_stub.StreamingSpeechToText(one_chunk("")))
    assert code == grpc.StatusCode.UNAVAILABLE and "transcribe_stream" in details
