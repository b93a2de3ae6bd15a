"""The ``transcribe`` primitive: stored audio to text with faster-whisper.

The request names audio in the ``VC_AUDIO`` bucket (an :class:`~schemas.audio.AudioRef`);
it is read back (gone or altered: ``AUDIO_UNAVAILABLE``), decoded to 16 kHz mono (not
audio, or over the limits: ``INVALID_AUDIO``) and transcribed by the process's one model
(:class:`core.stt.whisper.Transcriber`) on this process's transcription threads, never on
the event loop. The result has the text, language, confidence (formula in
:mod:`core.stt.whisper`), segments and words, the real-time factor and usage (engine
``faster-whisper``, the model, the seconds heard). Silence is a completed result with
empty text and confidence 0. A model that cannot be found or loaded is a retryable
``ENGINE_UNAVAILABLE`` whose message says where it looked and how to fix it.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from core.audio import Pcm, decode
from core.audiocheck import AudioLimits
from core.audiostore import AudioStore
from core.bus import Bus
from core.errors import EngineUnavailable
from core.primitive import Primitive, register
from core.stt.settings import SttSettings
from core.stt.whisper import RATE, Transcriber
from core.text import one_line
from schemas import events as ev
from schemas.audio import TranscribeParams, Transcription

log = logging.getLogger(__name__)
TIMEOUT_S = 600.0
"""One attempt's default timeout: up to 600 s of audio (the decode limit), on two busy
cores, with the model loaded (or the base model joined) by the first request."""


class TranscribePrimitive:
    """The primitive's state in one process: settings, the transcriber, the store."""

    def __init__(self, settings: SttSettings | None = None, *,
                 transcriber: Transcriber | None = None) -> None:
        self._settings = settings
        self._transcriber = transcriber
        self._store: AudioStore | None = None
        self._threads: ThreadPoolExecutor | None = None

    def configure(self, settings: SttSettings) -> None:
        """The composition root's settings (before the worker starts); without this call
        they are read from the ``VOICECORE_STT_*`` environment (``up``'s worker process)."""
        self._settings = settings
        self._transcriber = None

    def transcriber(self) -> Transcriber:
        if self._transcriber is None:
            self._transcriber = Transcriber(self._settings or SttSettings.from_env())
        if self._threads is None:
            self._threads = ThreadPoolExecutor(self._transcriber.settings.concurrency,
                                               thread_name_prefix="stt")
        return self._transcriber

    async def prepare(self, bus: Bus) -> None:
        """At worker start: the audio bucket, and the model loaded if ``preload`` is set
        (a model that cannot load is logged: each request then says why it fails)."""
        self._store = AudioStore(bus)
        await self._store.ensure(update=False)
        transcriber = self.transcriber()
        if transcriber.settings.preload:
            try:
                await asyncio.get_running_loop().run_in_executor(self._threads,
                                                                 transcriber.load)
            except EngineUnavailable as exc:
                log.warning("transcribe: model not loaded at start: %s", one_line(str(exc)))

    async def transcribe(self, params: TranscribeParams) -> Transcription:
        assert self._store is not None, "the worker prepares the primitive before serving it"
        ref = params.audio
        data = await self._store.get(ref)
        pcm = await asyncio.to_thread(decode, data, rate=RATE, limits=AudioLimits.from_env(),
                                      fmt=ref.format, source_rate=ref.sample_rate or None)
        return await asyncio.get_running_loop().run_in_executor(
            self._threads, self._run, pcm, params)

    def _run(self, pcm: Pcm, params: TranscribeParams) -> Transcription:
        return self.transcriber().transcribe(
            pcm, language=params.language, hint=params.hint,
            word_timestamps=params.word_timestamps, vad_filter=params.vad_filter,
            beam_size=params.beam_size)


TRANSCRIBER = TranscribePrimitive()
TRANSCRIBE: Primitive = register(Primitive(
    name="transcribe",
    description="Speech to text (faster-whisper) of audio stored in VC_AUDIO: text, "
                "language, confidence, segments, words",
    requested=ev.TranscribeRequested, completed=ev.TranscribeCompleted,
    failed=ev.TranscribeFailed, handler=TRANSCRIBER.transcribe,
    prepare=TRANSCRIBER.prepare, timeout_s=TIMEOUT_S,
    volatile=("real_time_factor",)))
