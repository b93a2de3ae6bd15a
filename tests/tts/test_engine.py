"""The engine registry and the settings every engine is built from."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from core.audio import Pcm
from core.errors import ConfigError
from core.tts import engine
from core.tts.engine import EngineVoice, TtsEngine, create_engine, engine_names, register
from core.tts.settings import TtsSettings


class _Silent:
    """An engine in one class: what a plugin adds to make a new engine."""

    name = "silent"

    def __init__(self, settings: TtsSettings) -> None:
        self.settings = settings

    def missing(self) -> str | None:
        return None

    def voices(self) -> Sequence[EngineVoice]:
        return [EngineVoice("silent", "hush", "en", "female")]

    def synthesize(self, text: str, voice: EngineVoice, *, speed: float) -> Pcm:
        return Pcm(np.zeros(100, dtype=np.float32), 8000)


def test_an_engine_is_one_class_registered_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "_FACTORIES", dict(engine._FACTORIES))
    register("silent")(_Silent)
    built: TtsEngine = create_engine("silent", TtsSettings())
    assert built.name == "silent"
    assert engine_names()[-1] == "silent"
    assert engine_names()[:3] == ["espeak-ng", "piper", "gtts"]


def test_an_unknown_engine_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown text-to-speech engine 'nope': choose from "
                       "espeak-ng, piper, gtts"):
        create_engine("nope", TtsSettings())


def test_settings_reject_an_unknown_engine_or_timeout() -> None:
    with pytest.raises(ConfigError, match="--tts-fallback 'x'"):
        TtsSettings(fallback="x")
    with pytest.raises(ConfigError, match="timeout"):
        TtsSettings(gtts_timeout_s=0)


def test_settings_travel_through_the_environment(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    chosen = TtsSettings(engine="espeak-ng", fallback="piper", voices_file=tmp_path / "v.toml",
                         gtts_url="http://127.0.0.1:9", gtts_timeout_s=2.5,
                         voices_dir=tmp_path / "voices")
    for key, value in chosen.env().items():
        monkeypatch.setenv(key, value)
    assert TtsSettings.from_env(tmp_path) == chosen


def test_a_bad_timeout_variable_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICECORE_GTTS_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="VOICECORE_GTTS_TIMEOUT='soon': not a number"):
        TtsSettings.from_env()


def test_pulled_voices_are_looked_for_in_the_default_data_dir(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A worker process started by ``up`` finds what ``voicecore voices pull`` stored."""
    monkeypatch.setenv("VOICECORE_DATA_DIR", str(tmp_path))
    assert TtsSettings.from_env().voices_dir == tmp_path / "voices"
