"""The ``synthesize`` primitive with real engines (Piper, espeak-ng; gTTS pointed at a closed
port), a real nats-server, a real worker and the real VC_AUDIO object store."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from nats.aio.msg import Msg

from core import subjects
from core.audio import Pcm, decode, encoded_rate
from core.audiostore import AudioStore
from core.bus import Bus
from core.config import StreamLimits, WorkerOptions
from core.natsserver import EmbeddedNats
from core.synthesize import SYNTHESIZE, Synthesizer
from core.tts.engine import EngineVoice
from core.tts.piper import PiperEngine
from core.tts.sentences import speaking_parts
from core.tts.settings import TtsSettings
from core.tts.voices import VoiceCatalog
from core.worker import Worker
from schemas import events as ev
from schemas import ids
from schemas.audio import SynthesisChunk, SynthesisResult, SynthesizeParams
from schemas.payloads import Failure, Request
from tests.support import proc
from tests.support.streams import stream_messages, wait_for_events
from tests.test_up import up_args

OPTIONS = WorkerOptions(concurrency=4, ack_wait_s=30.0, max_deliver=1, backoff_s=(0.05,),
                        fetch_timeout_s=0.2, shutdown_grace_s=5.0)
ANSWER_S = 300.0
"""Only a bound on a hang: two busy cores may take long to speak ten sentences."""
TEN = " ".join(f"This is sentence number {n}, spoken on its own." for n in
               ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"))
ESPEAK = TtsSettings(engine="espeak-ng")


class RecordingPiper(PiperEngine):
    """The real Piper engine, noting the wall-clock time each sentence started."""

    def __init__(self, settings: TtsSettings) -> None:
        super().__init__(settings)
        self.started: list[tuple[str, float]] = []

    def synthesize(self, text: str, voice: EngineVoice, *, speed: float) -> Pcm:
        self.started.append((text, time.time()))
        return super().synthesize(text, voice, speed=speed)


def say(text: str, conversation_id: str = "c-say", **params: Any) -> ev.Event:
    return ev.new_event(ev.SynthesizeRequested, conversation_id=conversation_id,
                        trace_id=f"t-{conversation_id}",
                        data=Request(params=SynthesizeParams(text=text, **params)))


@asynccontextmanager
async def synthesizing(bus: Bus, settings: TtsSettings,
                       catalog: VoiceCatalog | None = None) -> AsyncIterator[Worker]:
    """A worker serving ``synthesize`` with its own settings (not the process-wide one)."""
    synthesizer = Synthesizer(settings, catalog=catalog)
    primitive = dataclasses.replace(SYNTHESIZE, handler=synthesizer.synthesize,
                                    prepare=synthesizer.prepare)
    worker = Worker(bus, primitive, OPTIONS)
    await worker.start()
    try:
        yield worker
    finally:
        await worker.stop()


async def answer(bus: Bus, request: ev.Event) -> tuple[ev.Event, list[ev.Event]]:
    """The request's result, and its chunk events in stream order."""
    await bus.publish(request)
    return await answered(bus, request)


async def answered(bus: Bus, request: ev.Event) -> tuple[ev.Event, list[ev.Event]]:
    result_id = ids.derive_id(request.id, "result")
    found = await wait_for_events(bus, lambda es: any(e.id == result_id for e in es),
                                  timeout=ANSWER_S,
                                  subject=f"vc.ev.{request.conversation_id}.synthesize.>")
    [result] = [e for e in found if e.id == result_id]
    chunks = [e for e in found if e.event_type == "synthesize.chunk"
              and e.causation_id == request.id]
    return result, chunks


async def test_ten_sentences_are_announced_one_by_one_the_first_before_the_last_is_spoken(
        bus: Bus) -> None:
    settings = TtsSettings()  # auto: Piper speaks English
    piper = RecordingPiper(settings)
    catalog = VoiceCatalog(settings, engines={"piper": piper})
    request = say(TEN, "c-ten")
    async with synthesizing(bus, settings, catalog):
        result, chunks = await answer(bus, request)
    assert isinstance(result.data, SynthesisResult), result.data
    parts = speaking_parts(TEN, "en")  # the first sentence in two: at its comma
    assert len(parts) == 11 and parts[0] == "This is sentence number one,"
    data = [c.data for c in chunks]
    assert all(isinstance(d, SynthesisChunk) for d in data)
    assert [d.index for d in data] == list(range(11))
    assert [d.is_final for d in data] == [False] * 10 + [True]
    assert [d.characters for d in data] == [len(p) for p in parts]
    assert list(result.data.chunks) == [d.audio for d in data]
    # The first chunk was stored (JetStream's own timestamp) before the engine even began
    # the last sentence: the first audio existed while the rest was still being spoken.
    first = (await stream_messages(bus, subject="vc.ev.c-ten.synthesize.chunk"))[0]
    last_started = next(at for text, at in piper.started if text == parts[-1])
    assert first.metadata.timestamp.timestamp() < last_started
    assert result.data.time_to_first_audio_ms > 0
    assert result.data.engine == "piper" and result.data.voice == "emma"
    usage = result.data.usage
    assert (usage.engine, usage.characters) == ("piper", len(TEN))
    assert usage.audio_seconds == pytest.approx(sum(r.duration_s for r in result.data.chunks))
    assert usage.audio_seconds == pytest.approx(result.data.duration_s)


@pytest.mark.parametrize("fmt", ["wav", "mp3", "ogg", "flac", "pcm_s16le"])
async def test_every_format_is_stored_as_referenced_and_decodes_at_the_asked_rate(
        bus: Bus, fmt: str) -> None:
    request = say("Hello there. How are you today?", f"c-{fmt.replace('_', '-')}",
                  format=fmt, sample_rate=16000, voice="james")
    async with synthesizing(bus, ESPEAK):
        result, chunks = await answer(bus, request)
    assert isinstance(result.data, SynthesisResult), result.data
    assert (result.data.format, result.data.engine) == (fmt, "espeak-ng")
    assert result.data.sample_rate == encoded_rate(fmt, 16000)
    store = AudioStore(bus)
    for ref in result.data.chunks:
        data = await store.get(ref)  # checks size and sha256 too
        assert hashlib.sha256(data).hexdigest() == ref.sha256 and len(data) == ref.size
        assert ref.name.startswith(f"{request.conversation_id}/{request.id}/")
        pcm = decode(data, fmt="pcm_s16le", source_rate=ref.sample_rate) \
            if fmt == "pcm_s16le" else decode(data)
        assert pcm.rate == ref.sample_rate
        assert 0.3 < pcm.duration_s < 5.0
        assert pcm.duration_s == pytest.approx(ref.duration_s, abs=0.1)  # codec padding
    assert len(chunks) == 2


def _bad(request: ev.Event, **params: Any) -> bytes:
    body = json.loads(ev.encode(request))
    body["data"]["params"].update(params)
    return json.dumps(body).encode()


async def test_bad_params_and_an_unknown_voice_are_invalid_params_at_once(bus: Bus) -> None:
    """What the schema rejects is answered INVALID_PARAMS by the worker's dead-letter path
    (as for every primitive); an unknown voice by the handler, before anything is spoken."""
    bad: dict[str, dict[str, Any]] = {
        "empty": {"text": ""}, "format": {"format": "aiff"}, "speed": {"speed": 3.0},
        "long": {"text": "x" * 5001}, "language": {"language": "it"}}
    requests = {name: say("Hello.", f"c-bad-{name}") for name in bad}
    unknown = say("Hello.", "c-unknown", voice="nobody")
    blank = say("  \n ", "c-blank")
    async with synthesizing(bus, ESPEAK):
        for name, request in requests.items():
            await bus.publish_raw(f"vc.ev.{request.conversation_id}.synthesize.requested",
                                  _bad(request, **bad[name]), {})
        results = {name: (await answered(bus, r))[0] for name, r in requests.items()}
        results["blank"], _ = await answer(bus, blank)
        result, chunks = await answer(bus, unknown)
    for name, found in results.items():
        assert isinstance(found.data, Failure), name
        assert (found.event_type, found.data.code) == ("synthesize.failed", "INVALID_PARAMS")
    assert isinstance(result.data, Failure)
    assert result.data.code == "INVALID_PARAMS" and "unknown voice" in result.data.message
    assert chunks == [] and result.attempt == 1


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_gtts_unreachable_is_engine_unavailable_or_the_fallback_answers(
        bus: Bus) -> None:
    offline = TtsSettings(engine="gtts", gtts_url=f"http://127.0.0.1:{_closed_port()}",
                          gtts_timeout_s=5.0)
    alone, helped = say("Hello there.", "c-gtts"), say("Hello there.", "c-fallback")
    async with synthesizing(bus, offline):
        failed, none = await answer(bus, alone)
    async with synthesizing(bus, dataclasses.replace(offline, fallback="espeak-ng")):
        result, chunks = await answer(bus, helped)
    assert isinstance(failed.data, Failure) and none == []
    assert (failed.data.code, failed.data.retryable) == ("ENGINE_UNAVAILABLE", True)
    assert isinstance(result.data, SynthesisResult), result.data
    assert (result.data.engine, result.data.fallback_from) == ("espeak-ng", "gtts")
    assert result.data.fallback_reason and result.data.usage.engine == "espeak-ng"
    assert [c.data.audio for c in chunks] == list(result.data.chunks)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[EmbeddedNats]:
    """An authenticating server whose worker identity serves synthesize; the streams exist
    but not the audio bucket (as for a worker started before ``up``)."""
    started = EmbeddedNats(tmp_path, port=-1, primitives=["synthesize"])
    await started.start()
    admin = await Bus.connect(started.url, auth=started.identity("admin"))
    await admin.ensure_streams(StreamLimits())
    await admin.drain()
    yield started
    await started.stop()


async def test_the_worker_identity_stores_the_audio_the_bridge_identity_reads(
        server: EmbeddedNats) -> None:
    """Least privilege, end to end: the worker creates the missing bucket, stores the parts
    and publishes their chunks; the bridge asks, sees the chunks and reads the audio."""
    worker_bus = await Bus.connect(server.url, auth=server.identity("worker"))
    bridge_bus = await Bus.connect(server.url, auth=server.identity("bridge"))
    seen: asyncio.Queue[Msg] = asyncio.Queue()
    await bridge_bus.nc.subscribe(subjects.ALL_CHUNKS, cb=seen.put)
    await bridge_bus.nc.flush()
    request = say("Hello. Goodbye.", "c-roles")
    try:
        async with synthesizing(worker_bus, ESPEAK):
            await bridge_bus.publish(request)
            chunks = [ev.decode((await asyncio.wait_for(seen.get(), ANSWER_S)).data)
                      for _ in range(2)]
        store = AudioStore(bridge_bus)
        for chunk in chunks:
            assert isinstance(chunk.data, SynthesisChunk)
            data = await store.get(chunk.data.audio)
            assert decode(data).duration_s > 0.2
    finally:
        await worker_bus.drain()
        await bridge_bus.drain()


async def test_up_hands_its_tts_flags_to_its_worker_process(tmp_path: Path) -> None:
    """`up --tts-engine gtts --gtts-url <closed> --tts-fallback espeak-ng`: the worker child
    (its own process, started by up) speaks with the fallback, so every flag reached it."""
    port = proc.free_port()
    flags = ["--tts-engine", "gtts", "--gtts-url", f"http://127.0.0.1:{_closed_port()}",
             "--gtts-timeout", "5", "--tts-fallback", "espeak-ng"]
    with proc.started(*up_args(tmp_path, port), *flags) as (up, ready):
        assert "synthesize" in ready
        bus = await Bus.connect(f"nats://127.0.0.1:{port}", auth=proc.admin(tmp_path))
        try:
            result, chunks = await answer(bus, say("Hello from up.", "c-up"))
        finally:
            await bus.drain()
        assert proc.stop(up).returncode == 0
    assert isinstance(result.data, SynthesisResult), result.data
    assert (result.data.engine, result.data.fallback_from) == ("espeak-ng", "gtts")
    assert len(chunks) == 1


class FlakyPiper(PiperEngine):
    """The real Piper engine, failing once (a crash, not an unavailability) on the second
    sentence of the first attempt: the attempt is retried after its first chunk is out."""

    def __init__(self, settings: TtsSettings) -> None:
        super().__init__(settings)
        self.crashed = False

    def synthesize(self, text: str, voice: EngineVoice, *, speed: float) -> Pcm:
        if text.startswith("Second") and not self.crashed:
            self.crashed = True
            raise RuntimeError("engine crashed")
        return super().synthesize(text, voice, speed=speed)


async def test_a_retried_request_keeps_every_chunk_event_pointing_at_its_own_audio(
        bus: Bus) -> None:
    """Piper never speaks a sentence twice the same: the retry must not overwrite the
    audio of the first attempt's chunk 0 (whose event JetStream keeps), or its sha256
    would no longer match."""
    settings = TtsSettings()
    catalog = VoiceCatalog(settings, engines={"piper": FlakyPiper(settings)})
    request = say("First sentence here. Second sentence here. Third one.", "c-retry")
    retrying = dataclasses.replace(OPTIONS, max_deliver=2)
    synthesizer = Synthesizer(settings, catalog=catalog)
    primitive = dataclasses.replace(SYNTHESIZE, handler=synthesizer.synthesize,
                                    prepare=synthesizer.prepare)
    worker = Worker(bus, primitive, retrying)
    await worker.start()
    try:
        result, chunks = await answer(bus, request)
    finally:
        await worker.stop()
    assert isinstance(result.data, SynthesisResult) and result.attempt == 2, result.data
    assert [(c.data.index, c.attempt) for c in chunks] == [(0, 1), (1, 2), (2, 2)]
    store = AudioStore(bus)
    for ref in [c.data.audio for c in chunks] + list(result.data.chunks):
        assert hashlib.sha256(await store.get(ref)).hexdigest() == ref.sha256
    assert chunks[0].data.audio.name.startswith(f"c-retry/{request.id}/")
    assert all(r.name.startswith(f"c-retry/{request.id}-2/") for r in result.data.chunks)
