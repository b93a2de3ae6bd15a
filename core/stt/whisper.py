"""One shared faster-whisper model per process, and the :class:`Transcriber` around it.

The model is resolved (:mod:`core.stt.models`) and loaded at the first request, or when
the worker starts with ``preload``; it is unloaded after ``idle_unload_s`` unused and
loaded again when needed. :meth:`Transcriber.transcribe` blocks: it is thread-safe, and at
most ``concurrency`` transcriptions run at once (the others wait for a slot).

Confidence, in [0, 1]: per segment ``exp(avg_logprob) × (1 − no_speech_prob)`` (the mean
token probability, discounted by the chance the segment is not speech); the transcript's
is the mean of its segments' weighted by their duration. Silence is a completed
transcription, not a failure: no segment, empty text, confidence 0. Whisper writes a word
or two on silence ("You", "Thank you."): a segment it itself thinks is not speech
(``no_speech_prob`` ≥ 0.6) whose confidence is under 0.1 is dropped as such.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from core.audio import Pcm, resample
from core.errors import EngineUnavailable, InvalidParams
from core.stt import hints
from core.stt.abandon import Abandon, abandonable, abandoned_when
from core.stt.models import Resolved, resolve
from core.stt.settings import SttSettings
from core.stt.split import whisper_model
from core.text import one_line
from schemas.audio import Segment, Transcription, Usage, Word

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

log = logging.getLogger(__name__)
RATE = 16_000
"""Whisper hears 16 kHz mono."""
ENGINE = "faster-whisper"
NOT_SPEECH_PROB = 0.6
"""Whisper's own no-speech threshold (``no_speech_threshold``)."""
NOT_SPEECH_CONFIDENCE = 0.1
Loader = Callable[[SttSettings], tuple["WhisperModel", Resolved]]


def device_and_compute_type(settings: SttSettings) -> tuple[str, str]:
    """``auto`` is CUDA when CTranslate2 sees a GPU; ``default`` compute is int8 on the CPU
    (4x smaller, faster, ~same accuracy), float16 on a GPU."""
    import ctranslate2

    device = settings.device
    if device == "auto":
        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    compute = settings.compute_type
    if compute == "default":
        compute = "float16" if device == "cuda" else "int8"
    return device, compute


def load_model(settings: SttSettings) -> tuple[WhisperModel, Resolved]:
    """The settings' model, resolved and loaded; any failure is ``EngineUnavailable``."""
    resolved = resolve(settings.model, settings.models_dir())
    device, compute = device_and_compute_type(settings)
    try:
        model = whisper_model(resolved.path, device=device, compute_type=compute,
                              workers=settings.concurrency,
                              encoder_threads=settings.cpu_threads(),
                              decoder_threads=settings.decoder_threads)
    except (RuntimeError, ValueError, OSError) as exc:
        raise EngineUnavailable(f"speech model {resolved.name} ({resolved.path}) does not "
                                f"load on {device}/{compute}: {one_line(str(exc), 200)}"
                                ) from exc
    abandonable(model)  # a streaming partial stops between stages once the stream ends
    log.info("stt: model %s loaded from %s (%s, %s/%s)", resolved.name, resolved.path,
             resolved.source, device, compute)
    return model, resolved


class Transcriber:
    """Speech to text on the process's one model, with bounded concurrency."""

    def __init__(self, settings: SttSettings | None = None, *,
                 loader: Loader = load_model) -> None:
        self.settings = settings or SttSettings()
        self._loader = loader
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(self.settings.concurrency)
        self._loaded: tuple[WhisperModel, Resolved] | None = None
        self._busy = 0
        self._last_used = 0.0
        self._timer: threading.Timer | None = None

    def load(self) -> Resolved:
        """Load the model now (``preload``); its resolution."""
        return self._acquire()[1]

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    def transcribe(self, pcm: Pcm, *, language: str = "", hint: str = "",
                   word_timestamps: bool = False, vad_filter: bool = False,
                   beam_size: int = 5, abandon: Abandon | None = None) -> Transcription:
        """``pcm`` as text (blocking). Language empty = detected. ``abandon``: raises
        :class:`~core.stt.abandon.PassAbandoned` at the model's next stage once it is true."""
        check_language(language)
        audio = pcm if pcm.rate == RATE else resample(pcm, RATE)
        with self._slots, abandoned_when(abandon):
            model, resolved = self._acquire()
            try:
                started = time.monotonic()
                segments, info = _run(model, audio, language, hint, word_timestamps,
                                      vad_filter, beam_size)
                elapsed = time.monotonic() - started
            finally:
                self._release()
        return _transcription(segments, info, audio.duration_s, elapsed, resolved.name)

    def _acquire(self) -> tuple[WhisperModel, Resolved]:
        with self._lock:
            if self._loaded is None:
                self._loaded = self._loader(self.settings)
            self._busy += 1
            return self._loaded

    def _release(self) -> None:
        with self._lock:
            self._busy -= 1
            self._last_used = time.monotonic()
            if self.settings.idle_unload_s > 0 and self._timer is None:
                self._timer = threading.Timer(self.settings.idle_unload_s, self._unload_idle)
                self._timer.daemon = True
                self._timer.start()

    def _unload_idle(self) -> None:
        """On the timer: unload when unused for the idle time, else look again later."""
        with self._lock:
            self._timer = None
            idle = time.monotonic() - self._last_used
            if self._busy or idle < self.settings.idle_unload_s:
                self._timer = threading.Timer(self.settings.idle_unload_s - idle + 0.01,
                                              self._unload_idle)
                self._timer.daemon = True
                self._timer.start()
                return
            self._loaded = None
        log.info("stt: model unloaded after %.0f s unused", self.settings.idle_unload_s)

    def unload(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._loaded = None


def check_language(language: str) -> None:
    """Empty (detect) or a language Whisper knows, else :class:`InvalidParams`: the caller's
    mistake, said in one line, not faster-whisper's ``ValueError`` listing every code (which
    a worker reports as the primitive failing). An English-only model hears English whatever
    the code (faster-whisper's rule), but a code no Whisper model knows is refused by all."""
    if not language:
        return
    from faster_whisper.tokenizer import _LANGUAGE_CODES  # the codes its tokenizer accepts

    if language not in _LANGUAGE_CODES:
        raise InvalidParams(f"language {language!r}: not a language Whisper knows "
                            f"(an ISO 639-1 code such as en, es, fr, de; empty = detect)")


def _run(model: WhisperModel, audio: Pcm, language: str, hint: str, word_timestamps: bool,
         vad_filter: bool, beam_size: int) -> tuple[list[Any], Any]:
    """faster-whisper's segments (all of them: its generator decodes as it is read; those
    that write a phone or date prompt back dropped) and info. An objective hint with no
    language: the language is detected first, so the hint's prompt is in the language
    spoken."""
    detected: tuple[str, float] | None = None
    if not language and hints.is_objective(hint) and model.model.is_multilingual:
        found, probability, _ = model.detect_language(audio.samples)
        detected, language = (found, probability), found
    prompt = hints.initial_prompt(hint, language or "en")
    segments, info = model.transcribe(
        audio.samples, language=language or None, initial_prompt=prompt,
        word_timestamps=word_timestamps, vad_filter=vad_filter, beam_size=beam_size)
    echoed = hints.echo_checked_prompt(hint, language or "en")
    found_segments = [s for s in segments if not hints.echoes_prompt(s.text, echoed)]
    if detected is not None:
        info = dataclasses.replace(info, language=detected[0],
                                   language_probability=detected[1])
    return found_segments, info


def segment_confidence(avg_logprob: float, no_speech_prob: float) -> float:
    """``exp(avg_logprob) × (1 − no_speech_prob)``, in [0, 1]."""
    if not math.isfinite(avg_logprob):
        return 0.0
    return _unit(math.exp(min(avg_logprob, 0.0)) * (1.0 - _unit(no_speech_prob)))


def overall_confidence(segments: list[Segment]) -> float:
    """The segments' confidences weighted by duration (equal weights if all are instant)."""
    if not segments:
        return 0.0
    weights = [max(s.end - s.start, 0.0) for s in segments]
    if sum(weights) == 0:
        weights = [1.0] * len(segments)
    return _unit(sum(w * s.confidence for w, s in zip(weights, segments, strict=True))
                 / sum(weights))


def _seconds(value: float) -> float:
    return max(float(value), 0.0)


def _unit(value: float) -> float:
    return min(max(float(value), 0.0), 1.0)


def _segment(found: Any) -> Segment:
    words = tuple(Word(start=_seconds(w.start), end=_seconds(max(w.end, w.start)), word=w.word,
                       probability=_unit(w.probability)) for w in (found.words or ()))
    logprob = float(found.avg_logprob) if math.isfinite(found.avg_logprob) else -100.0
    return Segment(start=_seconds(found.start), end=_seconds(max(found.end, found.start)),
                   text=found.text.strip(),
                   confidence=segment_confidence(found.avg_logprob, found.no_speech_prob),
                   avg_logprob=logprob, no_speech_prob=_unit(found.no_speech_prob),
                   words=words)


def _not_speech(segment: Segment) -> bool:
    """A segment Whisper wrote on what it itself judged silence or noise."""
    return (segment.no_speech_prob >= NOT_SPEECH_PROB
            and segment.confidence < NOT_SPEECH_CONFIDENCE)


def _transcription(found: list[Any], info: Any, duration_s: float, elapsed_s: float,
                   model: str) -> Transcription:
    segments = [s for s in map(_segment, found) if not _not_speech(s)]
    text = " ".join(s.text for s in segments if s.text)
    return Transcription(
        text=text, language=info.language or "",
        language_probability=_unit(info.language_probability),
        confidence=overall_confidence(segments), segments=tuple(segments),
        duration_s=duration_s,
        real_time_factor=elapsed_s / duration_s if duration_s > 0 else 0.0,
        model=model, usage=Usage(engine=ENGINE, voice=model, audio_seconds=duration_s))
