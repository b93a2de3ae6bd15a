"""How ``transcribe_stream`` brings the final sooner, with the real tiny.en model, a real
nats-server and a real worker: the final's pass started at the end of speech is the final
when only silence follows, and dropped when speech resumes (each piece of audio is sent
as one chunk, so what the worker has heard when it looks is known, whatever the
machine's pace); partials leave the model free half the time; a partial still running
when the stream ends is given up."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import numpy as np

from core.audio import Pcm
from core.audioin import AudioPiece
from core.bus import Bus
from core.stt.abandon import PassAbandoned
from core.stt.settings import SttSettings
from core.stt.utterance import Utterance
from core.stt.vad import SpeechEnd
from core.stt.whisper import Transcriber
from core.transcribe_stream import PARTIAL_BEAM
from schemas import events as ev
from schemas.audio import StreamTranscription, Transcription, TranscriptionPartial
from tests.stt.conftest import speak
from tests.stt.test_transcribe_stream import CONFIRM, EMAIL, batch, listening
from tests.support.listen import (
    ANSWER_S,
    feed,
    pieces,
    quantized,
    s16le,
    start,
    stream_answer,
)
from tests.support.streams import wait_for_events


def silence(seconds: float, rate: int) -> Pcm:
    """Room tone, not digital zeros (which Whisper hears as its own padding): faint noise
    (-60 dBFS), the same in every run."""
    noise = np.random.default_rng(7).normal(0.0, 0.001, int(seconds * rate))
    return quantized(Pcm(noise.astype(np.float32), rate))


PAUSE_S = 0.5


def joined(*parts: Pcm) -> Pcm:
    return Pcm(np.concatenate([p.samples for p in parts]), parts[0].rate)


async def partial_up_to(bus: Bus, request: ev.Event, audio_end_s: float) -> ev.Event:
    """The stream's partial over the audio up to ``audio_end_s``."""
    def found(events: list[ev.Event]) -> bool:
        return any(_covers(e, request, audio_end_s) for e in events)

    events = await wait_for_events(
        bus, found, timeout=ANSWER_S,
        subject=f"vc.ev.{request.conversation_id}.transcribe_stream.chunk")
    return next(e for e in events if _covers(e, request, audio_end_s))


def _covers(event: ev.Event, request: ev.Event, audio_end_s: float) -> bool:
    return (event.causation_id == request.id and isinstance(event.data, TranscriptionPartial)
            and abs(event.data.audio_end_s - audio_end_s) < 0.01)


async def after_a_pause(bus: Bus, tiny: Transcriber, conversation: str, speech: Pcm,
                        then: list[bytes]) -> StreamTranscription:
    """The final of a stream of ``speech`` + :data:`PAUSE_S` of silence (one chunk), then, once the
    early pass over that is shown, the chunks ``then`` (the last one final)."""
    request = start(conversation, "s1", speech.rate)
    async with listening(bus, tiny):
        await bus.publish(request)
        heard = joined(speech, silence(PAUSE_S, speech.rate))
        await feed(bus, request, [s16le(heard)], final=False)
        await partial_up_to(bus, request, heard.duration_s)  # the early pass, done
        await feed(bus, request, then, first=1)
        result, _ = await stream_answer(bus, request)
    assert isinstance(result.data, StreamTranscription), result.data
    return result.data


async def test_the_pass_started_at_the_end_of_speech_is_the_final_when_silence_follows(
        bus: Bus, tiny: Transcriber) -> None:
    speech = quantized(speak(CONFIRM))
    rest = silence(1.0, speech.rate)
    later = list(pieces(rest))
    final = await after_a_pause(bus, tiny, "c-early", speech, later)  # only silence after
    assert final.final_pass_started_ms < 0  # before the last audio: no pass after it
    whole = joined(speech, silence(PAUSE_S, speech.rate), rest)
    # The pass over speech + 0.5 s of silence writes what a batch pass over all of it does
    # (with word times, as the early pass runs: it may be shown as a partial); the words
    # themselves are left out of the final, not asked for.
    assert final.text == batch(tiny, whole, words=True)
    assert final.segments and not any(s.words for s in final.segments)
    assert (final.chunks, final.ended_by) == (1 + len(later), "end_of_stream")
    assert abs(final.duration_s - whole.duration_s) < 0.01


async def test_speech_after_the_pause_drops_the_early_pass(
        bus: Bus, tiny: Transcriber) -> None:
    speech = quantized(speak(CONFIRM))
    final = await after_a_pause(bus, tiny, "c-resumed", speech, [s16le(speech)])
    assert final.final_pass_started_ms >= 0  # a pass over all of it, after the last audio
    assert final.text == batch(tiny, joined(speech, silence(PAUSE_S, speech.rate), speech))


def test_the_end_of_speech_heard_look_by_look_is_where_it_ends_heard_at_once() -> None:
    speech = quantized(speak(CONFIRM))
    whole = joined(speech, silence(1.0, speech.rate))
    at_once = SpeechEnd(0.1)
    at_once.look(whole.samples, 0, whole.rate)
    step = int(0.1 * whole.rate)
    by_looks = SpeechEnd(0.1)
    for end in range(step, len(whole.samples) + step, step):
        heard_from = by_looks.start(whole.rate)
        assert heard_from >= end - step - whole.rate  # what came since the last look + 1 s
        by_looks.look(whole.samples[heard_from:end], heard_from, whole.rate)
    assert at_once.end_s is not None and by_looks.end_s is not None
    assert abs(at_once.end_s - by_looks.end_s) < 0.1
    assert speech.duration_s - 0.5 < at_once.end_s <= speech.duration_s + 0.05
    assert at_once.silence_after(whole.duration_s) > 0.9


def test_a_look_that_missed_the_last_words_is_overruled_by_the_confirming_look() -> None:
    """A short fresh look can miss the last words (a stream ended by VAD after "My email is
    john dot." in a fresh-clone run): before ending for silence, the worker hears the audio
    again from well before the speech's end, which puts the end back where it is."""
    speech = quantized(speak(CONFIRM))
    whole = joined(speech, silence(1.0, speech.rate))
    missed = SpeechEnd(0.1, looked=len(whole.samples), end_s=0.3)  # as if the rest was lost
    assert missed.silence_after(whole.duration_s) > whole.duration_s - 0.4
    start = missed.confirming_start(whole.rate)
    assert start == 0
    missed.confirm(whole.samples[start:], start, whole.rate)
    assert missed.end_s is not None and speech.duration_s - 0.5 < missed.end_s
    assert missed.silence_after(whole.duration_s) < 1.5
    heard_late = SpeechEnd(0.1, end_s=speech.duration_s)
    heard_late.confirm(whole.samples, 0, whole.rate)  # a confirmation never moves it back
    assert heard_late.end_s == speech.duration_s


LONG = ("I would like to move my appointment from next Monday morning to the Friday after that "
        "because my daughter has to see her doctor on Monday and I need to drive her there")


class SlowMachine(Transcriber):
    """The real model on a machine where every pass takes a second more; it keeps how
    long each pass took."""

    def __init__(self, settings: SttSettings) -> None:
        super().__init__(settings)
        self.took: list[float] = []

    def transcribe(self, pcm: Pcm, **options: Any) -> Transcription:
        started = time.monotonic()
        time.sleep(1.0)
        found = super().transcribe(pcm, **options)
        self.took.append(time.monotonic() - started)
        return found


async def test_partials_leave_the_model_free_half_the_time_on_a_slow_machine(
        bus: Bus, tiny: Transcriber) -> None:
    speech = quantized(speak(LONG))
    slow = SlowMachine(tiny.settings)
    slow.load()  # not in the first pass
    request = start("c-slow", "s1", speech.rate)
    async with listening(bus, slow):
        await bus.publish(request)
        await feed(bus, request, list(pieces(speech)), pace_s=0.25)  # real time
        result, partials = await stream_answer(bus, request)
    assert isinstance(result.data, StreamTranscription), result.data
    heard = [p.data.audio_end_s for p in partials if isinstance(p.data, TranscriptionPartial)]
    assert len(heard) >= 2, heard
    # The next partial waited for twice as much new audio as the first one's pass took
    # (audio comes at real-time pace), not for one step while that pass ran.
    assert heard[1] - heard[0] >= 2 * slow.took[0], (heard, slow.took)


class HeldPartials(Transcriber):
    """The real model; a partial's pass (greedy), once started, waits until its caller gives
    up on it (at most 10 s: a caller that never does gets its pass) and keeps how it ended."""

    def __init__(self, settings: SttSettings) -> None:
        super().__init__(settings)
        self.started = threading.Event()
        self.ended: list[str] = []

    def transcribe(self, pcm: Pcm, **options: Any) -> Transcription:
        if options.get("beam_size") != PARTIAL_BEAM:
            return super().transcribe(pcm, **options)
        self.started.set()
        abandon, waited_from = options.get("abandon"), time.monotonic()
        while abandon is not None and not abandon() and time.monotonic() - waited_from < 10:
            time.sleep(0.01)
        try:
            found = super().transcribe(pcm, **options)
        except PassAbandoned:
            self.ended.append("abandoned")
            raise
        self.ended.append("done")
        return found


async def test_a_partial_still_running_when_the_stream_ends_is_given_up(
        bus: Bus, tiny: Transcriber) -> None:
    speech = quantized(speak(EMAIL))
    chunks = list(pieces(speech))
    half = len(chunks) // 2
    held = HeldPartials(tiny.settings)
    held.load()
    request = start("c-given-up", "s1", speech.rate)
    async with listening(bus, held):
        await bus.publish(request)
        await feed(bus, request, chunks[:half], final=False)  # mid-speech: a partial starts
        assert await asyncio.to_thread(held.started.wait, 30)
        await feed(bus, request, chunks[half:], first=half)  # the end, while it runs
        result, partials = await stream_answer(bus, request)
    final = result.data
    assert isinstance(final, StreamTranscription), final
    assert held.ended == ["abandoned"]  # not run to its end after the stream's
    assert not partials  # nothing published for it
    assert final.text == batch(tiny, speech)  # the final's pass, as ever
    assert (final.chunks, final.ended_by) == (len(chunks), "end_of_stream")


def test_the_utterance_gives_the_samples_since_a_point_without_joining_the_rest() -> None:
    utterance = Utterance(16_000)
    chunks = [np.arange(n, n + 1_000, dtype="<i2") for n in range(0, 5_000, 1_000)]
    for sequence, chunk in enumerate(chunks[:3]):
        utterance.add(AudioPiece(sequence, chunk.tobytes(), final=False))
    utterance.pcm()  # joins the first three
    for sequence, chunk in enumerate(chunks[3:], start=3):
        utterance.add(AudioPiece(sequence, chunk.tobytes(), final=False))
    whole = np.concatenate(chunks).astype(np.float32) / 32768.0
    assert len(utterance.parts) == 3  # one joined, two not
    for point in (0, 999, 1_000, 2_500, 3_000, 4_999, 5_000):
        assert np.array_equal(utterance.since(point), whole[point:]), point
