"""espeak-ng, the offline engine for every language, through its command line.

``espeak-ng --stdout`` writes a WAV; the text goes in on standard input (never on the
command line, where ``ps`` would show it, and never through a shell). espeak-ng is GPL-3.0
and runs as a separate program, installed with ``apt-get install espeak-ng``.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from collections.abc import Sequence

import numpy as np

from core.audio import Pcm
from core.errors import EngineUnavailable, UnknownVoice
from core.text import one_line
from core.tts.engine import EngineVoice, Gender, register
from core.tts.settings import TtsSettings

NAME = "espeak-ng"
PROGRAM = "espeak-ng"
INSTALL = "espeak-ng is not installed: apt-get install espeak-ng"
WORDS_PER_MINUTE = 175
"""espeak-ng's own default rate: ``speed`` 1.0."""
MIN_WPM, MAX_WPM = 80, 450
LANGUAGE_VOICES = {"en": "en-us", "es": "es", "fr": "fr-fr", "de": "de"}
"""The espeak-ng voice each language is spoken with; a variant (``+f3``) gives its timbre."""
VARIANTS: dict[Gender, tuple[str, ...]] = {"female": ("f1", "f2", "f3", "f4", "f5"),
                                          "male": ("m1", "m2", "m3", "m4", "m5")}


def voice_id(language: str, variant: str) -> str:
    """The ``-v`` argument of ``language`` (en/es/fr/de) spoken with ``variant`` (``f3``)."""
    return f"{LANGUAGE_VOICES[language]}+{variant}"


@register(NAME)
class EspeakEngine:
    name = NAME

    def __init__(self, settings: TtsSettings) -> None:
        self.timeout_s = settings.espeak_timeout_s

    def missing(self) -> str | None:
        return None if shutil.which(PROGRAM) else INSTALL

    def voices(self) -> Sequence[EngineVoice]:
        return [EngineVoice(NAME, voice_id(language, variant), language, gender)
                for language in LANGUAGE_VOICES
                for gender, variants in VARIANTS.items() for variant in variants]

    def synthesize(self, text: str, voice: EngineVoice, *, speed: float) -> Pcm:
        program = shutil.which(PROGRAM)
        if program is None:
            raise EngineUnavailable(INSTALL)
        wpm = min(MAX_WPM, max(MIN_WPM, round(WORDS_PER_MINUTE * speed)))
        command = [program, "--stdout", "-b", "1", "-s", str(wpm), "-v", voice.id]
        try:
            done = subprocess.run(command, input=text.encode(), capture_output=True,
                                  timeout=self.timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise EngineUnavailable(f"espeak-ng did not finish within {self.timeout_s:g}s"
                                    ) from None
        except OSError as exc:
            raise EngineUnavailable(f"espeak-ng could not run: {exc.strerror or exc}") from exc
        said = one_line(done.stderr.decode(errors="replace"), 200)
        if "voice does not exist" in said:
            raise UnknownVoice(f"espeak-ng has no voice {voice.id!r}")
        if done.returncode != 0 or not done.stdout:
            raise EngineUnavailable(f"espeak-ng failed (exit status {done.returncode}): "
                                    f"{said or 'no output'}")
        return wav_to_pcm(done.stdout)


def wav_to_pcm(data: bytes) -> Pcm:
    """espeak-ng's 16-bit mono WAV as :class:`Pcm`. Its header's sizes are placeholders
    (it streams), so the samples are whatever follows the header."""
    try:
        with wave.open(io.BytesIO(data)) as wav:
            rate, width, channels = wav.getframerate(), wav.getsampwidth(), wav.getnchannels()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise EngineUnavailable(f"espeak-ng wrote no readable WAV: {exc}") from exc
    if width != 2 or channels != 1:
        raise EngineUnavailable(f"espeak-ng wrote {channels} channel(s) of {width * 8}-bit "
                                "audio, not 16-bit mono")
    samples = np.frombuffer(frames[: len(frames) // 2 * 2], dtype="<i2")
    return Pcm((samples.astype(np.float32) / 32768.0), rate)
