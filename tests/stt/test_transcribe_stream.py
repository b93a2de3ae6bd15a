"""``transcribe_stream`` with the real tiny.en model, a real nats-server, a real worker and
speech made by Piper: partials while audio arrives, the final, VAD, the idle timeout."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import numpy as np
import pytest

from core import transcribe_stream
from core.audio import Pcm, decode
from core.audiostore import AudioStore
from core.bus import Bus
from core.config import WorkerOptions
from core.stt.whisper import Transcriber
from core.transcribe_stream import TRANSCRIBE_STREAM, StreamListener
from core.worker import Worker
from schemas.audio import StreamTranscription, TranscriptionPartial
from schemas.payloads import Failure
from tests.stt.conftest import heard_email, speak
from tests.support.listen import (
    feed,
    first_partial,
    pieces,
    quantized,
    start,
    stream_answer,
)

OPTIONS = WorkerOptions(concurrency=4, ack_wait_s=30.0, max_deliver=1, backoff_s=(0.05,),
                        fetch_timeout_s=0.2, shutdown_grace_s=5.0)
EMAIL = "My email is john dot smith at gmail dot com."
CONFIRM = "Yes, that is correct, please go ahead and change it."
"""Not digits: Whisper's temperature fallback (random sampling) made "five five five" come
out as 555 or 55 from one pass to the next; a sentence it decodes at temperature 0 is
the same on every pass, so the stream's final can be compared with a batch pass."""


@asynccontextmanager
async def listening(bus: Bus, transcriber: Transcriber) -> AsyncIterator[Worker]:
    listener = StreamListener()
    listener.configure(transcriber.settings, transcriber)
    primitive = dataclasses.replace(TRANSCRIBE_STREAM, handler=listener.listen,
                                    prepare=listener.prepare)
    worker = Worker(bus, primitive, OPTIONS)
    await worker.start()
    try:
        yield worker
    finally:
        await worker.stop()


@pytest.fixture(scope="module")
def email() -> Pcm:
    return quantized(speak(EMAIL))


def batch(transcriber: Transcriber, pcm: Pcm, *, words: bool = False) -> str:
    """The batch transcript with the settings of the final's pass (word times as the
    request asks: they also move where faster-whisper starts its next segment)."""
    return transcriber.transcribe(pcm, word_timestamps=words).text


async def test_partials_settle_before_the_final_which_is_the_batch_transcript(
        bus: Bus, tiny: Transcriber, email: Pcm) -> None:
    request = start("c-listen", "s1", email.rate)
    chunks = list(pieces(email))
    half = len(chunks) // 2
    async with listening(bus, tiny):
        await bus.publish(request)
        await feed(bus, request, chunks[:half], final=False)
        await first_partial(bus, request)  # heard while the rest is not sent yet
        await feed(bus, request, chunks[half:], first=half)
        result, partials = await stream_answer(bus, request)
    final = result.data
    assert isinstance(final, StreamTranscription), final
    # The same model, settings and audio: the same address read, however Whisper spelled it
    # in each pass ("john.smith" or "john dot smith": its temperature fallback samples).
    assert heard_email(final.text) == heard_email(batch(tiny, email)) == "john.smith@gmail.com"
    assert heard_email(final.text) == "john.smith@gmail.com", final.text
    assert (final.ended_by, final.chunks) == ("end_of_stream", len(chunks))
    assert final.time_to_final_ms > 0 and final.duration_s == pytest.approx(email.duration_s)
    assert partials and all(isinstance(p.data, TranscriptionPartial) for p in partials)
    assert [p.data.index for p in partials] == list(range(len(partials)))
    committed = [p.data.committed for p in partials]
    for before, after in itertools.pairwise(committed):
        assert after.startswith(before)  # what was committed never changes
    assert partials[0].data.audio_end_s < email.duration_s
    assert final.segments and not any(s.words for s in final.segments)  # not asked for
    assert final.audio is not None
    stored = decode(await AudioStore(bus).get(final.audio))
    assert stored.duration_s == pytest.approx(email.duration_s, abs=0.01)


async def test_the_final_has_timed_words_when_asked(
        bus: Bus, tiny: Transcriber, email: Pcm, monkeypatch: pytest.MonkeyPatch) -> None:
    # No early pass (it has word times anyway): the final is a pass after the end, which
    # has them only when asked.
    monkeypatch.setattr(transcribe_stream, "EARLY_SILENCE_S", float("inf"))
    request = start("c-words", "s1", email.rate, word_timestamps=True)
    async with listening(bus, tiny):
        await bus.publish(request)
        await feed(bus, request, list(pieces(email)))
        result, _ = await stream_answer(bus, request)
    final = result.data
    assert isinstance(final, StreamTranscription), final
    assert heard_email(final.text) == heard_email(batch(tiny, email, words=True))
    words = [w for s in final.segments for w in s.words]
    assert heard_email("".join(w.word for w in words)) == heard_email(final.text)
    assert all(w.start <= w.end for w in words)
    assert all(a.start <= b.start for a, b in itertools.pairwise(words))
    assert words[-1].end <= email.duration_s + 0.05


async def test_two_streams_of_one_conversation_do_not_interleave(
        bus: Bus, tiny: Transcriber, email: Pcm) -> None:
    other = quantized(speak(CONFIRM))
    first, second = start("c-two", "a", email.rate), start("c-two", "b", other.rate)
    a, b = list(pieces(email)), list(pieces(other))
    async with listening(bus, tiny):
        await bus.publish(first)
        await bus.publish(second)
        for n in range(max(len(a), len(b))):  # interleaved, chunk by chunk
            if n < len(a):
                await feed(bus, first, [a[n]], first=n, final=n == len(a) - 1)
            if n < len(b):
                await feed(bus, second, [b[n]], first=n, final=n == len(b) - 1)
        heard_a, _ = await stream_answer(bus, first)
        heard_b, _ = await stream_answer(bus, second)
    assert heard_email(heard_a.data.text) == heard_email(batch(tiny, email)) == (
        "john.smith@gmail.com")
    assert heard_b.data.text == batch(tiny, other)
    assert (heard_a.data.chunks, heard_b.data.chunks) == (len(a), len(b))


async def test_an_abandoned_stream_is_closed_after_its_timeout_with_what_was_heard(
        bus: Bus, tiny: Transcriber, email: Pcm) -> None:
    request = start("c-gone", "s1", email.rate, idle_timeout_s=1.0)
    async with listening(bus, tiny):
        await bus.publish(request)
        await feed(bus, request, list(pieces(email)), final=False)  # and then nothing
        result, _ = await stream_answer(bus, request)
    assert isinstance(result.data, StreamTranscription), result.data
    assert result.data.ended_by == "timeout"
    assert heard_email(result.data.text) == heard_email(batch(tiny, email)) == (
        "john.smith@gmail.com")


async def test_a_stream_abandoned_before_any_audio_is_closed_empty(
        bus: Bus, tiny: Transcriber) -> None:
    request = start("c-empty", "s1", 16_000, idle_timeout_s=1.0)
    async with listening(bus, tiny):
        await bus.publish(request)
        result, partials = await stream_answer(bus, request)
    assert isinstance(result.data, StreamTranscription), result.data
    assert (result.data.ended_by, result.data.text, result.data.chunks) == ("timeout", "", 0)
    assert result.data.audio is None and not partials


async def test_silence_after_speech_ends_the_utterance_when_asked(
        bus: Bus, tiny: Transcriber, email: Pcm) -> None:
    silence = Pcm(np.zeros(2 * email.rate, dtype=np.float32), email.rate)
    spoken = Pcm(np.concatenate([email.samples, silence.samples]), email.rate)
    request = start("c-vad", "s1", email.rate, end_of_speech_s=0.8, idle_timeout_s=120.0)
    async with listening(bus, tiny):
        await bus.publish(request)
        await feed(bus, request, list(pieces(spoken)), final=False)
        result, _ = await stream_answer(bus, request)
    assert isinstance(result.data, StreamTranscription), result.data
    assert result.data.ended_by == "end_of_speech"
    assert heard_email(result.data.text) == "john.smith@gmail.com", result.data.text


async def test_a_missing_chunk_fails_the_stream_clearly(
        bus: Bus, tiny: Transcriber, email: Pcm) -> None:
    request = start("c-gap", "s1", email.rate)
    chunks = list(pieces(email))
    async with listening(bus, tiny):
        await bus.publish(request)
        await feed(bus, request, chunks[:1], final=False)
        await feed(bus, request, chunks[2:], first=2)
        result, _ = await stream_answer(bus, request)
    assert isinstance(result.data, Failure), result.data
    assert result.data.code == "INVALID_AUDIO"
    assert "chunk 1 is missing" in result.data.message


async def test_a_language_whisper_does_not_know_fails_the_stream_at_its_start(
        bus: Bus, tiny: Transcriber, email: Pcm) -> None:
    request = start("c-xx", "s1", email.rate, language="xx")
    async with listening(bus, tiny):
        await bus.publish(request)  # no chunk at all: refused before the first one is awaited
        result, partials = await stream_answer(bus, request)
    assert isinstance(result.data, Failure), result.data
    assert (result.data.code, partials) == ("INVALID_PARAMS", [])
    assert "'xx': not a language Whisper knows" in result.data.message

