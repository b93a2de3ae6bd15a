"""The ``transcribe_stream`` primitive: one utterance heard while it is spoken.

The request (``transcribe_stream.requested``) is the start of the stream; the worker that
takes it from the primitive's durable consumer OWNS the stream: it reads the chunks
(:mod:`core.audioin`) in order with its one ordered consumer, holds the request un-acked
(the worker runtime's in-progress heartbeats) and acks it once the final is stored. If it
dies, the request is redelivered to another worker, which reads the chunks again from the
first and finishes the stream: never silently truncated.

While audio arrives, every :data:`STEP_S` of new audio (more when a pass takes longer than
half of that, :data:`BUSY_SHARE`) the buffer is transcribed and the
hypothesis goes through local agreement (:mod:`core.stt.agreement`): a
``transcribe_stream.chunk`` event carries the committed prefix and the tentative tail.
The buffer is trimmed at a committed segment end once it is longer than ``TRIM_S``.
The final (``transcribe_stream.completed``) is one pass over the buffer, after the words
committed before it: for an utterance shorter than ``TRIM_S`` (never trimmed) it is
the batch transcript of the same audio. It comes at the end of the stream, when Silero
VAD hears ``end_of_speech_s`` of silence after speech, or ``idle_timeout_s`` after the
last chunk (with what was heard). The utterance is stored in ``VC_AUDIO`` meanwhile.

That pass starts early, at the end of speech: the VAD looks at every :data:`LOOK_S` of
new audio, and once speech is followed by ``EARLY_SILENCE_S`` of silence the final's pass
(the params' beam) runs over the buffer so far, and is shown as a partial. If only
silence follows until the stream ends, it IS the final: on clean audio Whisper writes the
same text for speech + a little silence as for speech + more (not always on audio it
hears on a knife edge: README); if speech resumes, it is dropped and partials go on.
A partial still running when the stream ends stops at the model's next stage
(:mod:`core.stt.abandon`), so the final's pass waits less for it.
"""

from __future__ import annotations

import asyncio
import time

from core.audio import Pcm, encode
from core.audioin import ChunkReader
from core.audiostore import AudioStore, object_name
from core.bus import Bus
from core.primitive import Call, Primitive, register
from core.stt.abandon import Abandon, PassAbandoned
from core.stt.agreement import LocalAgreement, TimedWord, text_of
from core.stt.settings import SttSettings
from core.stt.utterance import (
    EARLY_SILENCE_S,
    MAX_UTTERANCE_S,
    EarlyPass,
    Hearing,
    Pass,
    Utterance,
)
from core.stt.whisper import ENGINE, Transcriber, check_language
from core.transcribe import TRANSCRIBER
from schemas import events as ev
from schemas.audio import (
    AudioRef,
    StreamTranscription,
    TranscribeStreamParams,
    Transcription,
    TranscriptionPartial,
    Usage,
)

STEP_S = 1.0
"""New audio between two hypotheses (not every chunk: each pass costs ~0.3 s of CPU)."""
BUSY_SHARE = 0.5
"""Partials keep the model busy at most this share of the time: the next one waits for
twice as much new audio as the last one took (a slow or loaded machine gets fewer), so
that the final's pass seldom waits for a partial's still running when the stream ends."""
PARTIAL_BEAM = 1
"""Partials decode greedily: a pass in flight when the stream ends delays the final, and
the final (the params' beam) decides the text anyway."""
LOOK_S = 0.1
"""New audio between two looks of the VAD for the end of speech (~10 ms each)."""
TIMEOUT_S = MAX_UTTERANCE_S + 60.0
"""One attempt's default timeout: the longest utterance, and its final."""


class StreamListener:
    """The primitive's state in one process: the model, the bus, the audio store."""

    def __init__(self, settings: SttSettings | None = None) -> None:
        self._settings = settings
        self._transcriber: Transcriber | None = None
        self._bus: Bus | None = None
        self._store: AudioStore | None = None

    def configure(self, settings: SttSettings, transcriber: Transcriber | None = None) -> None:
        """The composition root's settings (or its shared model); without this call they
        are read from the ``VOICECORE_STT_*`` environment (``up``'s worker process)."""
        self._settings, self._transcriber = settings, transcriber

    def transcriber(self) -> Transcriber:
        if self._transcriber is None:
            # Unless configured apart, share the batch primitive's model: one model per process.
            self._transcriber = (Transcriber(self._settings) if self._settings is not None
                                 else TRANSCRIBER.transcriber())
        return self._transcriber

    async def prepare(self, bus: Bus) -> None:
        self._bus = bus
        self._store = AudioStore(bus)
        await self._store.ensure(update=False)
        if self.transcriber().settings.preload:
            await asyncio.to_thread(self.transcriber().load)

    async def listen(self, params: TranscribeStreamParams,
                     call: Call) -> StreamTranscription:
        assert self._bus is not None, "the worker prepares the primitive before serving it"
        check_language(params.language)  # refused at the start, not at the first pass
        hearing = Hearing(params, Utterance(params.sample_rate))
        reader = ChunkReader(self._bus, call.conversation_id, params.stream_id)
        await reader.open()
        receiving = asyncio.create_task(self._receive(reader, hearing))
        try:
            try:
                await self._follow(hearing, call)
            finally:
                receiving.cancel()
                await asyncio.gather(receiving, return_exceptions=True)
                await reader.close()
            return await self._final(hearing, call)
        finally:
            await hearing.settle()

    async def _receive(self, reader: ChunkReader, hearing: Hearing) -> None:
        utterance = hearing.utterance
        try:
            while utterance.ended_by is None:
                piece = await reader.next(hearing.params.idle_timeout_s)
                if piece is None:
                    utterance.end("timeout")
                    return
                utterance.add(piece)
                if piece.final:
                    utterance.end("end_of_stream")
        except Exception as exc:  # raised where the handler waits: one failure, no hang
            utterance.failure = exc
            utterance.changed.set()

    async def _follow(self, hearing: Hearing, call: Call) -> None:
        """Until the stream ends (or VAD ends it): at every look, the end of speech; after
        a pause, the final's pass; while speech goes on, partials every step of new audio."""
        utterance, rate = hearing.utterance, hearing.utterance.rate
        step, look = int(STEP_S * rate), int(LOOK_S * rate)
        seen = heard = 0
        while True:
            await utterance.grown(seen, look)
            if utterance.failure is not None:
                raise utterance.failure
            if utterance.ended_by is not None:
                return
            await self._show_early(hearing, call)
            if utterance.samples - seen < look:
                continue  # woken by an early pass
            seen = utterance.samples
            silence = await self._look(hearing)
            if 0 < hearing.params.end_of_speech_s <= silence and \
                    hearing.params.end_of_speech_s <= await self._look(hearing, confirming=True):
                utterance.end("end_of_speech")
                return
            if silence >= EARLY_SILENCE_S:
                self._start_early(hearing)
            elif seen - heard >= step:
                heard, began = seen, time.monotonic()
                await self._partial(hearing, call)
                step = int(max(STEP_S, (time.monotonic() - began) / BUSY_SHARE) * rate)

    async def _look(self, hearing: Hearing, *, confirming: bool = False) -> float:
        """The silence after the speech heard so far; drops an early pass that more speech
        followed. ``confirming``: heard again from well before the speech's end (Silero
        starts each look afresh, a second back, and now and then misses the last words:
        that alone must not end the utterance)."""
        utterance, speech = hearing.utterance, hearing.speech
        start = (speech.confirming_start if confirming else speech.start)(utterance.rate)
        hear = speech.confirm if confirming else speech.look
        await asyncio.to_thread(hear, utterance.since(start), start, utterance.rate)
        early = hearing.early
        if early is not None and speech.end_s is not None and speech.end_s > early.covers_s:
            hearing.drop_early()
        return speech.silence_after(utterance.samples / utterance.rate)

    def _start_early(self, hearing: Hearing) -> None:
        """The final's pass over the buffer so far, unless one already hears all the speech
        (or a dropped one still holds the model: this one would wait for it anyway)."""
        if hearing.early is not None or hearing.passes:
            return
        buffer = hearing.utterance.pcm(hearing.offset_s)
        task = asyncio.create_task(self._transcribe(hearing, buffer))
        hearing.passes.add(task)
        task.add_done_callback(hearing.passes.discard)
        task.add_done_callback(_retrieved)
        task.add_done_callback(lambda _: hearing.utterance.nudge())
        hearing.early = EarlyPass(hearing.offset_s + buffer.duration_s, task)

    async def _show_early(self, hearing: Hearing, call: Call) -> None:
        """A finished early pass's hypothesis, as a partial (once)."""
        early = hearing.early
        if early is None or early.shown or not early.task.done() or early.task.cancelled():
            return
        early.shown = True
        if early.task.exception() is None:  # a failure is the final's to raise
            await self._show(call, hearing.agreement, early.task.result(), early.covers_s)

    async def _partial(self, hearing: Hearing, call: Call) -> None:
        buffer = hearing.utterance.pcm(hearing.offset_s)
        try:
            done = await self._transcribe(hearing, buffer, beam_size=PARTIAL_BEAM,
                                          abandon=hearing.utterance.over)
        except PassAbandoned:
            return  # the stream ended meanwhile: the final's pass has the model sooner
        await self._show(call, hearing.agreement, done, done.offset_s + buffer.duration_s)
        hearing.trim(done.found)

    @staticmethod
    async def _show(call: Call, agreement: LocalAgreement, done: Pass,
                    audio_end_s: float) -> None:
        """A pass's hypothesis through local agreement, published as a partial."""
        agreement.insert([TimedWord(w.start + done.offset_s, w.end + done.offset_s, w.word)
                          for s in done.found.segments for w in s.words])
        await call.emit(TranscriptionPartial(
            index=call.emitted, committed=text_of(agreement.committed),
            tentative=text_of(agreement.tentative), stability=agreement.stability(),
            audio_end_s=audio_end_s))

    async def _transcribe(self, hearing: Hearing, buffer: Pcm, beam_size: int | None = None,
                          *, words: bool = True, abandon: Abandon | None = None) -> Pass:
        params, offset_s = hearing.params, hearing.offset_s

        def run() -> Pass:
            found = self.transcriber().transcribe(
                buffer, language=params.language, hint=params.hint, word_timestamps=words,
                beam_size=beam_size or params.beam_size, abandon=abandon)
            took = found.real_time_factor * found.duration_s
            return Pass(found, offset_s, time.monotonic() - took)

        return await asyncio.to_thread(run)

    async def _final_pass(self, hearing: Hearing, whole: Pcm) -> Pass:
        """The early pass if only silence came after it, else one over the buffer now."""
        if hearing.early is not None:
            await self._look(hearing)  # the audio since the last look
        if hearing.early is not None:
            return await hearing.early.task
        if not whole.samples.size:  # nothing heard (abandoned at once): nothing to run
            return Pass(self._nothing_heard(hearing.params), 0.0, time.monotonic())
        # Started after the end: its word times only if asked (the early pass above keeps
        # them, it may be shown as a partial; Hearing.final drops them unless asked).
        return await self._transcribe(hearing, hearing.utterance.pcm(hearing.offset_s),
                                      words=hearing.timed_words)

    async def _final(self, hearing: Hearing, call: Call) -> StreamTranscription:
        whole = hearing.utterance.pcm()
        storing = (asyncio.create_task(self._store_utterance(call, whole))
                   if whole.samples.size else None)  # stored while the model runs
        try:
            done = await self._final_pass(hearing, whole)
            audio = await storing if storing is not None else None
        finally:
            if storing is not None:
                storing.cancel()
                await asyncio.gather(storing, return_exceptions=True)
        return hearing.final(done, whole, audio)

    def _nothing_heard(self, params: TranscribeStreamParams) -> Transcription:
        model = self.transcriber().settings.model
        return Transcription(text="", language=params.language, language_probability=0.0,
                             confidence=0.0, segments=(), duration_s=0.0,
                             real_time_factor=0.0, model=model,
                             usage=Usage(engine=ENGINE, voice=model))

    async def _store_utterance(self, call: Call, pcm: Pcm) -> AudioRef:
        assert self._store is not None
        data = await asyncio.to_thread(encode, pcm, "wav")
        name = object_name(call.conversation_id, call.request_id, 0, "wav")
        return await self._store.put(name, data, format="wav", sample_rate=pcm.rate,
                                     duration_s=pcm.duration_s)


def _retrieved(task: asyncio.Task[Pass]) -> None:
    """A dropped early pass's failure is nobody's to raise (the final's pass raises its own):
    looked at, so asyncio does not log it as never retrieved."""
    if not task.cancelled():
        task.exception()


LISTENER = StreamListener()
TRANSCRIBE_STREAM: Primitive = register(Primitive(
    name="transcribe_stream",
    description="Speech to text while it is spoken: partials by local agreement, then the "
                "final (chunks on vc.audio.<conversation>.<stream id>)",
    requested=ev.TranscribeStreamRequested, completed=ev.TranscribeStreamCompleted,
    failed=ev.TranscribeStreamFailed, chunk=ev.TranscribeStreamChunk,
    handler=LISTENER.listen, prepare=LISTENER.prepare, timeout_s=TIMEOUT_S,
    # A final made at the end of speech has its segments' times from the word times its pass
    # computed; one made after the last chunk, from Whisper's timestamps (tens of ms apart).
    volatile=("real_time_factor", "time_to_final_ms", "final_pass_started_ms", "audio.name",
              "segments.*.start", "segments.*.end")))
