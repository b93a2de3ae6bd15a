"""The ``synthesize`` primitive: text to speech on the event pipeline, part by part.

The text is split at sentence boundaries, the first sentence also at a clause break
(:func:`core.tts.sentences.speaking_parts`);
each part is spoken by the engine behind the resolved voice, encoded in the asked
format and rate, stored in the ``VC_AUDIO`` bucket (:class:`core.audiostore.AudioStore`)
and announced with a ``synthesize.chunk`` event *as soon as it is stored*, so the first
audio exists while the later sentences are still being spoken. The result lists every
part's reference, the time to the first stored audio, and the usage.

Engines block and Piper is CPU-heavy: every engine call of this process goes through
one thread (:data:`ENGINE_THREADS`), shared by all requests; a request's next part is
begun once the last one is announced. Voices are resolved before anything
is spoken: an unknown voice is ``INVALID_PARAMS`` at once.

When the voice's engine cannot answer (gTTS offline, a missing voice model) the failure
is ``ENGINE_UNAVAILABLE`` (retryable), unless a fallback engine is configured
(``--tts-fallback``): it then speaks the whole text instead, and the result names the
engine that failed (``fallback_from``) and why. Only before the first part is stored:
a request is never spoken by two engines.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from core.audio import Pcm, cheap_to_encode, encode, encoded_rate
from core.audiostore import AudioStore, object_name
from core.bus import Bus
from core.errors import EngineUnavailable, InvalidParams
from core.primitive import Call, Primitive, register
from core.text import one_line
from core.tts.engine import EngineVoice, TtsEngine
from core.tts.sentences import speaking_parts
from core.tts.settings import TtsSettings
from core.tts.voices import VoiceCatalog
from schemas import events as ev
from schemas import ids
from schemas.audio import AudioRef, SynthesisChunk, SynthesisResult, SynthesizeParams, Usage

log = logging.getLogger(__name__)

MAX_ID = 128
"""The longest request id (and object folder name) there is."""

ENGINE_THREADS = 1
"""Engine calls at a time in one process: Piper already uses both cores for one sentence."""
TIMEOUT_S = 120.0
"""One attempt's default timeout. Measured on this 2-core machine (busy with other work):
Piper speaks 5,000 characters (270 s of audio) in ~29 s; at speed 0.5 and with other
requests queued on the one engine thread it takes longer, so four times that."""


@dataclass(frozen=True)
class Speaker:
    """Who speaks a request: an engine, its voice, and our voice id for it."""

    engine: TtsEngine
    voice: EngineVoice
    voice_id: str


@dataclass
class _Spoken:
    """What a request has produced so far."""

    refs: list[AudioRef]
    first_audio_ms: float = 0.0


class Synthesizer:
    """The primitive's state in one process: settings, voices, store, the engine thread."""

    def __init__(self, settings: TtsSettings | None = None, *,
                 catalog: VoiceCatalog | None = None) -> None:
        self._settings = settings
        self._catalog = catalog
        self._store: AudioStore | None = None
        self._engine_thread = ThreadPoolExecutor(ENGINE_THREADS, thread_name_prefix="tts")

    def configure(self, settings: TtsSettings) -> None:
        """The composition root's settings (before the worker starts); without this call
        they are read from the ``VOICECORE_*`` environment (``up``'s worker process)."""
        self._settings = settings
        self._catalog = None

    async def prepare(self, bus: Bus) -> None:
        """At worker start: the audio bucket exists, the voices are known, and the default
        voice is loaded (Piper takes ~0.4 s to load a voice: not on the first call)."""
        self._store = AudioStore(bus)
        await self._store.ensure(update=False)  # its TTL is up's (the admin's) to set
        speaker = self._speaker("", "en")
        await asyncio.get_running_loop().run_in_executor(self._engine_thread, _warm_up, speaker)

    def catalog(self) -> VoiceCatalog:
        if self._catalog is None:
            self._catalog = VoiceCatalog(self._settings or TtsSettings.from_env())
        return self._catalog

    async def synthesize(self, params: SynthesizeParams, call: Call) -> SynthesisResult:
        started = time.monotonic()
        parts = speaking_parts(params.text, params.language)
        if not parts:
            raise InvalidParams("text: nothing to say (only white space)")
        speaker = self._speaker(params.voice, params.language)
        spoken = _Spoken(refs=[])
        fallback_from = fallback_reason = ""
        try:
            await self._speak(parts, speaker, params, call, spoken, started)
        except EngineUnavailable as exc:
            fallback = self._fallback(speaker, params, spoken)
            if fallback is None:
                raise
            fallback_from, fallback_reason = speaker.engine.name, one_line(str(exc), 300)
            log.warning("synthesize: %s unavailable, %s answers instead", fallback_from,
                        fallback.engine.name)
            speaker = fallback
            await self._speak(parts, speaker, params, call, spoken, started)
        return _result(params, speaker, spoken, fallback_from, fallback_reason)

    def _speaker(self, voice: str, language: str, engine: str | None = None) -> Speaker:
        found, engine_voice, voice_id = self.catalog().resolve(voice, language, engine=engine)
        return Speaker(found, engine_voice, voice_id)

    def _fallback(self, failed: Speaker, params: SynthesizeParams,
                  spoken: _Spoken) -> Speaker | None:
        """The configured fallback's speaker, if it may answer: configured, another engine,
        and nothing of this request spoken yet."""
        if spoken.refs:
            return None
        found = self.catalog().resolve_fallback(params.voice, params.language)
        if found is None or found[0].name == failed.engine.name:
            return None
        return Speaker(*found)

    async def _speak(self, parts: list[str], speaker: Speaker, params: SynthesizeParams,
                     call: Call, spoken: _Spoken, started: float) -> None:
        """Each part spoken, stored and announced in order. The next part is begun once this
        one is announced, not while it is stored: Piper takes both cores, and the bridge
        must read and send this part meanwhile (a paragraph's first audio came 6-10 ms
        sooner, for ~3 ms more per part in all)."""
        loop = asyncio.get_running_loop()

        def speak(text: str) -> asyncio.Future[Pcm]:
            return loop.run_in_executor(self._engine_thread, _say, speaker, text, params.speed)

        pending = speak(parts[0])
        try:
            for index, text in enumerate(parts):
                pcm = await pending
                ref = await self._store_part(call, index, pcm, params)
                if not spoken.refs:
                    spoken.first_audio_ms = (time.monotonic() - started) * 1000
                spoken.refs.append(ref)
                await call.emit(SynthesisChunk(index=index, is_final=index == len(parts) - 1,
                                               audio=ref, characters=len(text)))
                if index + 1 < len(parts):
                    pending = speak(parts[index + 1])
        finally:
            pending.cancel()  # a part not yet started is not spoken for nothing

    async def _store_part(self, call: Call, index: int, pcm: Pcm,
                          params: SynthesizeParams) -> AudioRef:
        rate = params.sample_rate or pcm.rate
        if cheap_to_encode(pcm, params.format, rate):  # a thread hop would cost more
            data = encode(pcm, params.format, rate=rate)
        else:
            data = await asyncio.to_thread(encode, pcm, params.format, rate=rate)
        assert self._store is not None, "the worker prepares the primitive before serving it"
        name = object_name(call.conversation_id, _objects_of(call), index, params.format)
        return await self._store.put(name, data, format=params.format,
                                     sample_rate=encoded_rate(params.format, rate),
                                     duration_s=pcm.duration_s)


def _objects_of(call: Call) -> str:
    """The request's folder of objects for this attempt: ``<request id>`` for the first,
    ``<request id>-<attempt>`` for a retry. Piper never speaks a sentence twice the same,
    so a retry must not replace what the first attempt's chunk events (the ones JetStream
    keeps: their ids are the same) point to, or their sha256 would no longer match. (A
    request id too long for the suffix gets an id derived from it and the attempt.)"""
    if call.attempt == 1:
        return call.request_id
    folder = f"{call.request_id}-{call.attempt}"
    return folder if len(folder) <= MAX_ID else ids.derive_id(call.request_id,
                                                             f"attempt/{call.attempt}")


def _warm_up(speaker: Speaker) -> None:
    """Speak one word with the default voice, so its model is loaded and its first run done
    before the first request. Not gTTS: that would be a request to Google at every start.
    A failure here is only logged: the request that needs the engine says what is wrong."""
    if speaker.engine.name == "gtts" or speaker.engine.missing() is not None:
        return
    try:
        speaker.engine.synthesize("Ready.", speaker.voice, speed=1.0)
    except EngineUnavailable as exc:
        log.warning("synthesize: %s cannot speak yet: %s", speaker.engine.name, exc)


def _say(speaker: Speaker, text: str, speed: float) -> Pcm:
    """On the engine thread: an engine that is not installed here is unavailable."""
    missing = speaker.engine.missing()
    if missing is not None:
        raise EngineUnavailable(missing)
    return speaker.engine.synthesize(text, speaker.voice, speed=speed)


def _result(params: SynthesizeParams, speaker: Speaker, spoken: _Spoken, fallback_from: str,
            fallback_reason: str) -> SynthesisResult:
    duration = sum(ref.duration_s for ref in spoken.refs)
    return SynthesisResult(
        chunks=tuple(spoken.refs), time_to_first_audio_ms=spoken.first_audio_ms,
        duration_s=duration, engine=speaker.engine.name, voice=speaker.voice_id,
        language=params.language, format=params.format,
        sample_rate=spoken.refs[0].sample_rate,
        usage=Usage(engine=speaker.engine.name, voice=speaker.voice.id,
                    characters=len(params.text), audio_seconds=duration),
        fallback_from=fallback_from, fallback_reason=fallback_reason)


SYNTHESIZER = Synthesizer()
SYNTHESIZE: Primitive = register(Primitive(
    name="synthesize",
    description="Speech from text (split at sentences, each part's audio announced as it is "
                "stored in VC_AUDIO)",
    requested=ev.SynthesizeRequested, completed=ev.SynthesizeCompleted,
    failed=ev.SynthesizeFailed, chunk=ev.SynthesizeChunk,
    handler=SYNTHESIZER.synthesize, prepare=SYNTHESIZER.prepare, timeout_s=TIMEOUT_S,
    # Piper never speaks twice the same, and the names carry the request's ids: a re-run
    # is the same when the same engine and voice spoke the same characters.
    volatile=("chunks", "time_to_first_audio_ms", "duration_s", "usage.audio_seconds")))
