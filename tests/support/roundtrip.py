"""Round trip: a corpus utterance spoken by a real TTS voice, written down by a real
Whisper model, then read by the capture primitive, as it happens on a call.

Everything is computed on first use and kept under one directory (one
:class:`RoundTrip`): the voices' audio as WAV files and the transcripts in a JSON file,
both keyed by what was said (and by voice, model and prompt), reused when the directory
is kept, as the benchmark's ``--cache`` does; each model is loaded once.
Whisper runs through faster-whisper directly (int8 on CPU, beam search of 5, the default of
the transcribe primitive): the point here is the recognizer's conventions.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from core.audio import Pcm, decode, encode, resample
from core.capture import capture_confirmation, capture_date, capture_email, capture_phone
from core.stt import hints, models
from core.stt.settings import SttSettings
from core.stt.split import whisper_model
from core.tts.engine import EngineVoice, create_engine
from core.tts.settings import TtsSettings
from schemas.payloads import CaptureResult
from tests.support.roundtrip_corpus import REFERENCE_DATE, Utterance

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

WHISPER_RATE = 16_000
VOICES = {
    "piper": EngineVoice("piper", "en_US-joe-medium", "en", "male"),
    "espeak": EngineVoice("espeak-ng", "en-us+m3", "en", "male"),
}
MODELS = ("tiny.en", "base")
BEAM_SIZE = 5


def capture(primitive: str, transcript: str) -> CaptureResult | None:
    """What ``primitive``'s parser takes from ``transcript`` (English, US numbers)."""
    if primitive == "email":
        return capture_email(transcript)
    if primitive == "phone":
        return capture_phone(transcript)
    if primitive == "date":
        return capture_date(transcript, reference_date=REFERENCE_DATE)
    return capture_confirmation(transcript)


def model_dir(name: str, cache: Path) -> Path:
    """The model's directory as ``voicecore`` finds it offline (base's parts joined once
    under ``cache``)."""
    return models.resolve(name, cache / "models", download=False).path


def hint_prompt(primitive: str) -> str | None:
    """The initial prompt of the objective's hint, as the transcribe primitive uses it."""
    return hints.initial_prompt(primitive, "en")


@dataclass(frozen=True)
class Outcome:
    """One utterance through one voice and model."""

    utterance: Utterance
    transcript: str
    result: CaptureResult | None

    @property
    def got(self) -> str | None:
        return self.result.value if self.result else None

    @property
    def correct(self) -> bool:
        return self.got == self.utterance.expected

    @property
    def confident_wrong(self) -> bool:
        """A wrong value the agent would not read back: the failure that costs most."""
        return not self.correct and self.result is not None and not self.result.needs_confirmation


def steady_tts(engine: str = "auto") -> TtsSettings:
    """TTS settings whose Piper speaks the same text the same way every time (its sampling
    noise off): tests then hear the same audio on every run. Recognizers still vary where
    Whisper's temperature fallback samples, and a streamed pass depends on chunk timing."""
    return TtsSettings(engine=engine, piper_noise_scale=0.0, piper_noise_w_scale=0.0)


class RoundTrip:
    """Audio, models and transcripts for one session, each made once."""

    def __init__(self, cache: Path, tts: TtsSettings | None = None) -> None:
        self.cache = cache
        self._engines = {name: create_engine(voice.engine, tts or TtsSettings())
                         for name, voice in VOICES.items()}
        self._models: dict[str, WhisperModel] = {}
        self._saved = cache / "transcripts.json"
        self._transcripts: dict[str, str] = (
            json.loads(self._saved.read_text()) if self._saved.is_file() else {})

    def audio(self, utterance: Utterance, voice: str) -> npt.NDArray[np.float32]:
        """The utterance spoken by ``voice``, mono 16 kHz (a WAV in the cache)."""
        name = hashlib.sha256(utterance.said.encode()).hexdigest()[:16]
        path = self.cache / "audio" / voice / f"{name}.wav"
        if path.is_file():
            return decode(path, rate=WHISPER_RATE).samples
        spoken: Pcm = self._engines[voice].synthesize(utterance.said, VOICES[voice], speed=1.0)
        pcm = resample(spoken, WHISPER_RATE)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(encode(pcm, "wav"))
        return pcm.samples

    def model(self, name: str) -> WhisperModel:
        if name not in self._models:  # as the worker loads it: the same transcripts
            settings = SttSettings()
            self._models[name] = whisper_model(
                model_dir(name, self.cache), device="cpu", compute_type="int8", workers=1,
                encoder_threads=settings.cpu_threads(),
                decoder_threads=settings.decoder_threads)
        return self._models[name]

    def transcript(self, utterance: Utterance, voice: str, model: str, hinted: bool) -> str:
        prompt = hint_prompt(utterance.primitive) if hinted else None
        key = json.dumps([voice, model, prompt, utterance.said])
        if key not in self._transcripts:
            segments, _ = self.model(model).transcribe(
                self.audio(utterance, voice), language="en", beam_size=BEAM_SIZE,
                initial_prompt=prompt)
            self._transcripts[key] = "".join(s.text for s in segments).strip()
            partial = self._saved.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps(self._transcripts, indent=0))
            partial.replace(self._saved)  # atomic: another process may be reading it
        return self._transcripts[key]

    def outcome(self, utterance: Utterance, voice: str, model: str, hinted: bool) -> Outcome:
        text = self.transcript(utterance, voice, model, hinted)
        return Outcome(utterance, text, capture(utterance.primitive, text))


def accuracy(outcomes: Sequence[Outcome]) -> float:
    return sum(o.correct for o in outcomes) / len(outcomes) if outcomes else 0.0


def describe_misses(outcomes: Sequence[Outcome]) -> str:
    """One line per miss: what was said, what Whisper wrote, what was captured."""
    return "\n".join(
        f"{o.utterance.id}: said {o.utterance.said!r} -> {o.transcript!r} -> {o.got!r} "
        f"(expected {o.utterance.expected!r})" for o in outcomes if not o.correct)
