"""The voices file (TOML, ``--voices-file`` / ``$VOICECORE_VOICES_FILE``): add or override
named voices. Each voice is a table; each engine a sub-table mapping a language onto that
engine's voice::

    [voices.emma.piper]          # override one mapping of a built-in voice
    en = "en_US-lessac-medium"

    [voices.oliver]              # a new voice
    name = "Oliver"
    gender = "male"
    [voices.oliver.espeak-ng]
    en = "en-gb+m1"
    [voices.oliver.piper]
    en = "/models/en_GB-alan-medium.onnx"   # a local model

A bad file is one line naming the file and the field.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, NoReturn

from core.errors import ConfigError
from core.tts.engine import GENDERS, engine_names

LANGUAGES = ("en", "es", "fr", "de")
VOICE_ID = re.compile(r"^[a-z][a-z0-9_-]{0,63}(?!\n)$")
_MAX_ENGINE_VOICE = 512

Mappings = dict[str, dict[str, str]]
"""engine → language → the engine's voice id."""


def read_voices_file(path: Path) -> dict[str, dict[str, Any]]:
    """Voice id → its checked fields (``name``, ``gender``, and engine → mapping)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"voices file {path}: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"voices file {path}: not TOML: {exc}") from exc
    extra = set(data) - {"voices"}
    if extra:
        _bad(path, sorted(extra)[0], "unknown field (the file holds [voices.<id>] tables)")
    voices = data.get("voices", {})
    if not isinstance(voices, dict):
        _bad(path, "voices", "must be a table of voices")
    return {voice_id: _voice(path, voice_id, fields) for voice_id, fields in voices.items()}


def _voice(path: Path, voice_id: str, fields: Any) -> dict[str, Any]:
    where = f"voices.{voice_id}"
    if not VOICE_ID.match(voice_id):
        _bad(path, where, "a voice id is lower-case letters, digits, '-' or '_' (≤ 64)")
    if not isinstance(fields, dict):
        _bad(path, where, "must be a table")
    checked: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "name":
            if not isinstance(value, str) or not 0 < len(value) <= 64:
                _bad(path, f"{where}.name", "must be a string of 1 to 64 characters")
            checked["name"] = value
        elif key == "gender":
            if value not in GENDERS:
                _bad(path, f"{where}.gender", f"must be one of {', '.join(GENDERS)}")
            checked["gender"] = value
        elif key in engine_names():
            checked[key] = _mapping(path, f"{where}.{key}", value)
        else:
            _bad(path, f"{where}.{key}", "unknown field: name, gender or an engine "
                 f"({', '.join(engine_names())})")
    return checked


def _mapping(path: Path, where: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        _bad(path, where, "must be a table of language = engine voice")
    for language, voice in value.items():
        if language not in LANGUAGES:
            _bad(path, f"{where}.{language}", f"unknown language: {', '.join(LANGUAGES)}")
        if not isinstance(voice, str) or not 0 < len(voice) <= _MAX_ENGINE_VOICE or (
                any(c in voice for c in "\n\r\x00")):
            _bad(path, f"{where}.{language}", "must be the engine's voice name (one line)")
    return dict(value)


def _bad(path: Path, field: str, why: str) -> NoReturn:
    raise ConfigError(f"voices file {path}: {field}: {why}")
