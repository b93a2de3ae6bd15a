"""The interface every text-to-speech engine implements, and the registry of engines.

An engine speaks ONE sentence at a time (``synthesize`` blocks: callers run it in a
thread), so a long text can be published part by part as each is ready. Adding an engine
is one module: it defines a class with the :class:`TtsEngine` members and decorates its
factory with :func:`register`; built-in modules are listed in :data:`_BUILTIN_MODULES`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from core.audio import Pcm
from core.errors import ConfigError
from core.tts.settings import TtsSettings

Gender = Literal["female", "male"]
GENDERS: tuple[Gender, ...] = ("female", "male")


@dataclass(frozen=True)
class EngineVoice:
    """One voice of one engine: ``id`` is the engine's own name for it (``en-us+f3`` for
    espeak-ng, ``en_US-joe-medium`` for Piper, ``en:com`` for gTTS)."""

    engine: str
    id: str
    language: str
    gender: Gender


class TtsEngine(Protocol):
    name: str
    """The engine's name: ``gtts``, ``piper``, ``espeak-ng``."""

    def missing(self) -> str | None:
        """Why this engine cannot run here (a one-line fix included), or ``None``."""
        ...

    def voices(self) -> Sequence[EngineVoice]:
        """The voices this engine can speak with here, now."""
        ...

    def synthesize(self, text: str, voice: EngineVoice, *, speed: float) -> Pcm:
        """``text`` (one sentence) spoken by ``voice`` at ``speed`` (1.0 = normal, 2.0 =
        twice as fast). Blocking. Raises :class:`~core.errors.EngineUnavailable`."""
        ...


EngineFactory = Callable[[TtsSettings], TtsEngine]

_FACTORIES: dict[str, EngineFactory] = {}
_BUILTIN_MODULES = {"espeak-ng": "core.tts.espeak", "piper": "core.tts.piper",
                    "gtts": "core.tts.gtts"}
"""Imported on first use, so a process that never speaks never loads an engine."""
ENGINE_NAMES: tuple[str, ...] = tuple(_BUILTIN_MODULES)


def register(name: str) -> Callable[[EngineFactory], EngineFactory]:
    """Class or function decorator: make ``name`` an engine built by the decorated factory."""

    def add(factory: EngineFactory) -> EngineFactory:
        _FACTORIES[name] = factory
        return factory

    return add


def engine_names() -> list[str]:
    """The built-in engines, then any a plugin registered."""
    return [*ENGINE_NAMES, *(n for n in _FACTORIES if n not in ENGINE_NAMES)]


def create_engine(name: str, settings: TtsSettings) -> TtsEngine:
    """A new engine ``name`` configured by ``settings``; an unknown name is a ConfigError."""
    if name not in _FACTORIES and name in _BUILTIN_MODULES:
        importlib.import_module(_BUILTIN_MODULES[name])
    factory = _FACTORIES.get(name)
    if factory is None:
        raise ConfigError(f"unknown text-to-speech engine {name!r}: choose from "
                          f"{', '.join(engine_names())}")
    return factory(settings)
