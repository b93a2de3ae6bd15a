"""One loaded model per test session (loading takes seconds on two busy cores), and speech
made at test time by the real TTS engines."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.audio import Pcm
from core.capture import capture_email
from core.stt.settings import SttSettings
from core.stt.whisper import Transcriber
from core.tts.voices import VoiceCatalog
from tests.support.roundtrip import steady_tts


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the base model is joined, once per session."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def tiny(models_dir: Path) -> Iterator[Transcriber]:
    transcriber = Transcriber(SttSettings(model="tiny.en", cache_dir=models_dir,
                                          idle_unload_s=0))
    yield transcriber
    transcriber.unload()


@pytest.fixture(scope="session")
def base(models_dir: Path) -> Iterator[Transcriber]:
    transcriber = Transcriber(SttSettings(model="base", cache_dir=models_dir,
                                          idle_unload_s=0))
    yield transcriber
    transcriber.unload()


def speak(text: str, language: str = "en", engine: str = "auto") -> Pcm:
    """``text`` spoken by the default voice of ``language`` (Piper for English under
    ``auto``, espeak-ng for the others), the same way on every run."""
    catalog = VoiceCatalog(steady_tts(engine))
    found, voice, _ = catalog.resolve("", language)
    return found.synthesize(text, voice, speed=1.0)


def heard_email(text: str) -> str | None:
    """The address capture_email reads from a transcript. Whisper writes the same speech as
    "john dot smith", "john.smith" or "John Dot Smith" from run to run (Piper's audio is
    sampled): what must hold is what the next primitive reads."""
    captured = capture_email(text, "en")
    return captured.value if captured is not None else None
