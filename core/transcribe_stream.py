"""The ``transcribe_stream`` primitive: one utterance heard while it is spoken.

The request (``transcribe_stream.requested``) is the start of the stream; the worker that
takes it from the primitive's durable consumer OWNS the stream: it reads the chunks
(:mod:`core.audioin`) in order with its one ordered consumer, holds the request un-acked
(the worker runtime's in-progress heartbeats) and acks it once the final is stored. If it
dies, the request is redelivered to another worker, which reads the chunks again from the
first and finishes the stream: never silently truncated.

While audio arrives, every :data:`STEP_S` of new audio the buffer is transcribed and the
hypothesis goes through local agreement (:mod:`core.stt.agreement`): a
``transcribe_stream.chunk`` event carries the committed prefix and the tentative tail.
The buffer is trimmed at a committed segment end once it is longer than :data:`TRIM_S`.
The final (``transcribe_stream.completed``) is one pass over the buffer, after the words
committed before it: for an utterance shorter than :data:`TRIM_S` (the buffer was never
trimmed) it is the batch transcript of the same audio. It comes at the end of the stream,
when Silero VAD hears ``end_of_speech_s`` of silence after speech, or ``idle_timeout_s``
after the last chunk (with what was heard). The utterance is stored in ``VC_AUDIO``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import msgspec
import numpy as np

from core.audio import Pcm, encode
from core.audioin import AudioPiece, ChunkReader
from core.audiostore import AudioStore, object_name
from core.bus import Bus
from core.errors import InvalidAudio
from core.primitive import Call, Primitive, register
from core.stt import vad
from core.stt.agreement import LocalAgreement, TimedWord, text_of
from core.stt.settings import SttSettings
from core.stt.whisper import ENGINE, Transcriber
from core.transcribe import TRANSCRIBER
from schemas import events as ev
from schemas.audio import (
    AudioRef,
    EndedBy,
    StreamTranscription,
    TranscribeStreamParams,
    Transcription,
    TranscriptionPartial,
    Usage,
)

STEP_S = 1.0
"""New audio between two hypotheses (not every chunk: each pass costs ~0.3 s of CPU)."""
PARTIAL_BEAM = 1
"""Partials decode greedily: a pass in flight when the stream ends delays the final, and
the final (the params' beam) decides the text anyway."""
TRIM_S = 15.0
"""A buffer longer than this is cut at a committed segment end (whisper_streaming's)."""
MAX_UTTERANCE_S = 600.0
TIMEOUT_S = MAX_UTTERANCE_S + 60.0
"""One attempt's default timeout: the longest utterance, and its final."""


@dataclass
class _Utterance:
    """The audio heard so far, and how the stream ended (set by the receiving task)."""

    rate: int
    parts: list[np.ndarray] = field(default_factory=list)
    samples: int = 0
    chunks: int = 0
    ended_by: EndedBy | None = None
    failure: BaseException | None = None
    last_audio: float = field(default_factory=time.monotonic)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, piece: AudioPiece) -> None:
        if len(piece.data) % 2:
            raise InvalidAudio(f"audio chunk {piece.sequence}: an odd number of bytes "
                               "(pcm_s16le has two per sample)")
        samples = np.frombuffer(piece.data, dtype="<i2").astype(np.float32) / 32768.0
        self.parts.append(samples)
        self.samples += len(samples)
        self.chunks += 1
        self.last_audio = time.monotonic()
        if self.samples > MAX_UTTERANCE_S * self.rate:
            raise InvalidAudio(f"stream longer than {MAX_UTTERANCE_S:g} s")
        self.changed.set()

    def end(self, why: EndedBy) -> None:
        if self.ended_by is None:
            self.ended_by = why
        self.changed.set()

    def pcm(self, start_s: float = 0.0) -> Pcm:
        if len(self.parts) > 1:
            self.parts = [np.concatenate(self.parts)]
        whole = self.parts[0] if self.parts else np.zeros(0, dtype=np.float32)
        return Pcm(whole[int(start_s * self.rate):], self.rate)

    async def grown(self, since: int, step: int) -> None:
        """Until ``step`` samples more than ``since`` were heard, or the stream ended (or
        failed)."""
        while (self.ended_by is None and self.failure is None
               and self.samples - since < step):
            self.changed.clear()
            await self.changed.wait()


@dataclass
class _Hearing:
    """The streaming transcription of one utterance."""

    params: TranscribeStreamParams
    utterance: _Utterance
    agreement: LocalAgreement = field(default_factory=LocalAgreement)
    offset_s: float = 0.0
    """Where the buffer starts in the utterance (after a trim)."""


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
        hearing = _Hearing(params, _Utterance(params.sample_rate))
        reader = ChunkReader(self._bus, call.conversation_id, params.stream_id)
        await reader.open()
        receiving = asyncio.create_task(self._receive(reader, hearing))
        try:
            await self._follow(hearing, call)
        finally:
            receiving.cancel()
            await asyncio.gather(receiving, return_exceptions=True)
            await reader.close()
        return await self._final(hearing, call)

    async def _receive(self, reader: ChunkReader, hearing: _Hearing) -> None:
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

    async def _follow(self, hearing: _Hearing, call: Call) -> None:
        """Partials every step of new audio, until the stream ends (or VAD ends it)."""
        utterance, step = hearing.utterance, int(STEP_S * hearing.utterance.rate)
        heard = 0
        while True:
            await utterance.grown(heard, step)
            if utterance.failure is not None:
                raise utterance.failure
            if utterance.ended_by is not None:
                return
            heard = utterance.samples
            await self._partial(hearing, call)
            if await self._speech_ended(hearing):
                utterance.end("end_of_speech")
                return

    async def _partial(self, hearing: _Hearing, call: Call) -> None:
        buffer = hearing.utterance.pcm(hearing.offset_s)
        found = await self._transcribe(hearing, buffer, beam_size=PARTIAL_BEAM)
        words = [TimedWord(w.start + hearing.offset_s, w.end + hearing.offset_s, w.word)
                 for s in found.segments for w in s.words]
        agreement = hearing.agreement
        agreement.insert(words)
        await call.emit(TranscriptionPartial(
            index=call.emitted, committed=text_of(agreement.committed),
            tentative=text_of(agreement.tentative), stability=agreement.stability(),
            audio_end_s=hearing.offset_s + buffer.duration_s))
        _trim(hearing, found)

    async def _speech_ended(self, hearing: _Hearing) -> bool:
        silence = hearing.params.end_of_speech_s
        if silence <= 0:
            return False
        buffer = hearing.utterance.pcm(hearing.offset_s)
        return await asyncio.to_thread(vad.ended_after, buffer, silence)

    async def _transcribe(self, hearing: _Hearing, buffer: Pcm,
                          beam_size: int | None = None) -> Transcription:
        params = hearing.params
        return await asyncio.to_thread(
            self.transcriber().transcribe, buffer, language=params.language,
            hint=params.hint, word_timestamps=True, beam_size=beam_size or params.beam_size)

    async def _final(self, hearing: _Hearing, call: Call) -> StreamTranscription:
        utterance = hearing.utterance
        before = [w for w in hearing.agreement.committed if w.end <= hearing.offset_s]
        whole = utterance.pcm()
        if not whole.samples.size:  # nothing heard (abandoned at once): nothing to run
            found = self._nothing_heard(hearing.params)
        else:
            found = await self._transcribe(hearing, utterance.pcm(hearing.offset_s))
        audio = await self._store_utterance(call, whole) if whole.samples.size else None
        text = " ".join(t for t in (text_of(before), found.text) if t)
        segments = tuple(msgspec.structs.replace(
            s, start=s.start + hearing.offset_s, end=s.end + hearing.offset_s,
            words=tuple(msgspec.structs.replace(w, start=w.start + hearing.offset_s,
                                                end=w.end + hearing.offset_s)
                        for w in s.words)) for s in found.segments)
        fields = msgspec.structs.asdict(found)
        fields.update(text=text, segments=segments, duration_s=whole.duration_s,
                      usage=msgspec.structs.replace(found.usage,
                                                    audio_seconds=whole.duration_s))
        return StreamTranscription(
            **fields, ended_by=utterance.ended_by or "end_of_stream",
            time_to_final_ms=(time.monotonic() - utterance.last_audio) * 1000, audio=audio,
            chunks=utterance.chunks)

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


def _trim(hearing: _Hearing, found: Transcription) -> None:
    """Cut a long buffer at the end of its last segment whose words are all committed
    (their text stays in the committed words; the next pass hears what follows)."""
    buffer_s = hearing.utterance.samples / hearing.utterance.rate - hearing.offset_s
    if buffer_s <= TRIM_S:
        return
    committed_end = hearing.agreement.committed_end
    ends = [s.end + hearing.offset_s for s in found.segments
            if s.end + hearing.offset_s <= committed_end]
    if ends:
        hearing.offset_s = max(ends[-1], hearing.offset_s)


LISTENER = StreamListener()
TRANSCRIBE_STREAM: Primitive = register(Primitive(
    name="transcribe_stream",
    description="Speech to text while it is spoken: partials by local agreement, then the "
                "final (chunks on vc.audio.<conversation>.<stream id>)",
    requested=ev.TranscribeStreamRequested, completed=ev.TranscribeStreamCompleted,
    failed=ev.TranscribeStreamFailed, chunk=ev.TranscribeStreamChunk,
    handler=LISTENER.listen, prepare=LISTENER.prepare, timeout_s=TIMEOUT_S,
    volatile=("real_time_factor", "time_to_final_ms", "audio.name")))
