"""espeak-ng through its real command line: every language and gender speaks, speed
changes the duration, and a missing, crashing or hanging program is EngineUnavailable."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from core.errors import EngineUnavailable, UnknownVoice
from core.tts.engine import EngineVoice, create_engine
from core.tts.espeak import EspeakEngine, voice_id
from core.tts.settings import TtsSettings

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed (make test installs it)")
SENTENCES = {"en": "The meeting is on Tuesday at ten.",
             "es": "La reunión es el martes a las diez.",
             "fr": "La réunion est mardi à dix heures.",
             "de": "Das Treffen ist am Dienstag um zehn."}


@needs_espeak
@pytest.mark.parametrize("language", sorted(SENTENCES))
@pytest.mark.parametrize("variant", ["f3", "m3"])
def test_each_language_and_gender_speaks(language: str, variant: str) -> None:
    engine = create_engine("espeak-ng", TtsSettings())
    voice = next(v for v in engine.voices() if v.id == voice_id(language, variant))
    pcm = engine.synthesize(SENTENCES[language], voice, speed=1.0)
    assert pcm.rate == 22050
    assert 1.0 < pcm.duration_s < 6.0
    assert pcm.samples.dtype == np.float32
    assert np.sqrt(np.mean(pcm.samples**2)) > 0.01  # not silence


@needs_espeak
def test_speed_changes_the_duration() -> None:
    engine = EspeakEngine(TtsSettings())
    voice = EngineVoice("espeak-ng", "en-us+f3", "en", "female")
    normal = engine.synthesize(SENTENCES["en"], voice, speed=1.0).duration_s
    assert engine.synthesize(SENTENCES["en"], voice, speed=2.0).duration_s < normal * 0.7
    assert engine.synthesize(SENTENCES["en"], voice, speed=0.5).duration_s > normal * 1.4


@needs_espeak
def test_text_that_looks_like_an_option_is_spoken_not_parsed() -> None:
    engine = EspeakEngine(TtsSettings())
    pcm = engine.synthesize("--version -v xx", EngineVoice("espeak-ng", "en-us", "en", "male"),
                            speed=1.0)
    assert pcm.duration_s > 0.5


@needs_espeak
def test_an_unknown_espeak_voice_is_unknown_voice() -> None:
    with pytest.raises(UnknownVoice, match="espeak-ng has no voice 'xx-nope'"):
        EspeakEngine(TtsSettings()).synthesize(
            "Hello.", EngineVoice("espeak-ng", "xx-nope", "en", "male"), speed=1.0)


def test_missing_program_says_how_to_install(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    engine = EspeakEngine(TtsSettings())
    assert engine.missing() == "espeak-ng is not installed: apt-get install espeak-ng"
    with pytest.raises(EngineUnavailable, match="apt-get install espeak-ng") as caught:
        engine.synthesize("Hello.", EngineVoice("espeak-ng", "en-us", "en", "male"), speed=1.0)
    assert caught.value.retryable


def _program(directory: Path, script: str) -> None:
    """A stand-in ``espeak-ng`` on PATH: how a crash or a hang looks from here."""
    path = directory / "espeak-ng"
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)


def test_a_crash_is_engine_unavailable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _program(tmp_path, "echo 'Segmentation fault' >&2; exit 139")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(EngineUnavailable, match=r"espeak-ng failed \(exit status 139\): "
                       "Segmentation fault"):
        EspeakEngine(TtsSettings()).synthesize(
            "Hello.", EngineVoice("espeak-ng", "en-us", "en", "male"), speed=1.0)


def test_a_hang_times_out(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _program(tmp_path, f"exec {shutil.which('sleep')} 60")
    monkeypatch.setenv("PATH", str(tmp_path))
    engine = EspeakEngine(TtsSettings(espeak_timeout_s=0.2))
    with pytest.raises(EngineUnavailable, match=r"did not finish within 0\.2s"):
        engine.synthesize("Hello.", EngineVoice("espeak-ng", "en-us", "en", "male"), speed=1.0)


def test_voices_cover_every_language_and_gender() -> None:
    voices = EspeakEngine(TtsSettings()).voices()
    assert {(v.language, v.gender) for v in voices} == {
        (lang, g) for lang in ("en", "es", "fr", "de") for g in ("female", "male")}
