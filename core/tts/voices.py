"""The named voices (Emma, James, Sophie, and any a voices file adds) and how each
becomes a real voice of an engine, per language.

:meth:`VoiceCatalog.resolve` picks the engine: with ``--tts-engine auto`` (the default)
English is spoken by Piper when the voice's Piper model is installed (else by
``en_US-joe-medium``, the packaged Piper voice), and es/fr/de by espeak-ng. A forced
engine is used for every language, except that a Piper voice not installed here falls
back to joe (English) or espeak-ng: the engine voice returned is always the one that will
actually speak. A voice is named by its id or name (any case), or directly as
``ENGINE:VOICE`` (``piper:en_US-joe-medium``, ``espeak-ng:de+f2``, ``gtts:en:co.uk``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.errors import ConfigError, InvalidParams, UnknownVoice
from core.tts import espeak, piper
from core.tts.engine import EngineVoice, Gender, TtsEngine, create_engine, engine_names
from core.tts.settings import TtsSettings
from core.tts.voicesfile import LANGUAGES, Mappings, read_voices_file

DEFAULT_VOICE = "emma"
"""The voice of a request that names none."""
_ESPEAK_NAME = re.compile(r"^[a-z][\w-]{0,40}(\+\w{1,20})?(?!\n)$", re.ASCII)
"""An espeak-ng voice a caller may name (``de``, ``en-gb-x-rp+m2``): never an option."""


@dataclass(frozen=True)
class NamedVoice:
    id: str
    name: str
    gender: Gender
    engines: Mappings = field(default_factory=dict)
    """engine → language → the engine's voice id."""


BUILT_IN = (
    NamedVoice("emma", "Emma", "female", {
        "piper": {"en": "en_US-amy-medium", "es": "es_AR-daniela-high",
                  "fr": "fr_FR-siwis-medium", "de": "de_DE-kerstin-low"},
        "espeak-ng": {lang: espeak.voice_id(lang, "f3") for lang in LANGUAGES},
        "gtts": {"en": "en:com", "es": "es:es", "fr": "fr:fr", "de": "de:de"}}),
    NamedVoice("james", "James", "male", {
        "piper": {"en": "en_US-joe-medium", "es": "es_ES-davefx-medium",
                  "fr": "fr_FR-tom-medium", "de": "de_DE-thorsten-medium"},
        "espeak-ng": {lang: espeak.voice_id(lang, "m3") for lang in LANGUAGES},
        "gtts": {"en": "en:co.uk", "es": "es:com.mx", "fr": "fr:ca", "de": "de:de"}}),
    NamedVoice("sophie", "Sophie", "female", {
        "piper": {"en": "en_GB-alba-medium", "es": "es_AR-daniela-high",
                  "fr": "fr_FR-siwis-low", "de": "de_DE-eva_k-x_low"},
        "espeak-ng": {lang: espeak.voice_id(lang, "f4") for lang in LANGUAGES},
        "gtts": {"en": "en:com.au", "es": "es:us", "fr": "fr:fr", "de": "de:de"}}),
)


@dataclass(frozen=True)
class VoiceInfo:
    """One named voice in one language, as it will be spoken here (ListVoices, the CLI)."""

    id: str
    name: str
    gender: Gender
    language: str
    languages: tuple[str, ...]
    engine: str
    engine_voice: str
    engine_gender: Gender
    """The engine voice's own gender: a fallback voice may differ from the voice's."""
    note: str = ""
    """Why the engine voice is not the voice's own (a fallback), else empty."""


Resolved = tuple[TtsEngine, EngineVoice, str]
"""(the engine, the engine voice that will speak, our voice id)."""


class VoiceCatalog:
    def __init__(self, settings: TtsSettings,
                 engines: Mapping[str, TtsEngine] | None = None) -> None:
        self.settings = settings
        self._engines = dict(engines or {})
        self.voices = {v.id: v for v in BUILT_IN}
        if settings.voices_file is not None:
            self._merge(settings.voices_file)

    def engine(self, name: str) -> TtsEngine:
        """The engine ``name``, created on first use and kept."""
        if name not in self._engines:
            self._engines[name] = create_engine(name, self.settings)
        return self._engines[name]

    def named(self, voice: str) -> NamedVoice:
        """The named voice ``voice`` (id or name, any case; empty = the default)."""
        wanted = (voice or DEFAULT_VOICE).strip().lower()
        for named in self.voices.values():
            if wanted in (named.id, named.name.lower()):
                return named
        raise UnknownVoice(f"unknown voice {voice[:64]!r}: choose from "
                           f"{', '.join(v.name for v in self.voices.values())} (or "
                           "ENGINE:VOICE, e.g. piper:en_US-joe-medium)")

    def resolve(self, voice: str, language: str, *, engine: str | None = None) -> Resolved:
        """Who speaks ``voice`` in ``language``: under the settings' engine, or ``engine``."""
        if language not in LANGUAGES:
            raise InvalidParams(f"language {language[:16]!r}: choose from "
                                f"{', '.join(LANGUAGES)}")
        prefix, _, rest = voice.partition(":")
        if rest and prefix in engine_names():
            return self._direct(prefix, rest, language)
        named = self.named(voice)
        chosen = engine or self.settings.engine
        order = ["piper", "espeak-ng"] if chosen == "auto" and language == "en" else (
            ["espeak-ng"] if chosen == "auto" else [chosen, "espeak-ng"])
        for name in order:
            speaker = self._speaker(named, name, language)
            if speaker is not None:
                return self.engine(name), speaker, named.id
        raise AssertionError("espeak-ng speaks every language")  # pragma: no cover

    def resolve_fallback(self, voice: str, language: str) -> Resolved | None:
        """Who speaks when the first choice is unavailable (``--tts-fallback``), or None."""
        fallback = self.settings.fallback
        return self.resolve(voice, language, engine=fallback) if fallback else None

    def _speaker(self, named: NamedVoice, engine: str, language: str) -> EngineVoice | None:
        """The engine voice of ``named`` in ``language`` on ``engine``, None when that
        engine cannot speak it here (a Piper model not installed and no joe fallback)."""
        mapped = named.engines.get(engine, {}).get(language)
        if engine == "piper":
            return self._piper_speaker(mapped, named.gender, language)
        if engine == "espeak-ng" and mapped is None:  # espeak-ng speaks every voice
            variant = "f3" if named.gender == "female" else "m3"
            mapped = espeak.voice_id(language, variant)
        if engine == "gtts" and mapped is None:
            mapped = f"{language}:com"
        return EngineVoice(engine, mapped, language, named.gender) if mapped else None

    def _piper_speaker(self, mapped: str | None, gender: Gender,
                       language: str) -> EngineVoice | None:
        engine = self.engine("piper")
        assert isinstance(engine, piper.PiperEngine)
        if engine.missing():
            return None
        if mapped and engine.model(mapped) is not None:
            return EngineVoice("piper", mapped, language, gender)
        if language == "en" and engine.model(piper.DEFAULT_VOICE) is not None:
            return EngineVoice("piper", piper.DEFAULT_VOICE, "en",
                               piper.gender_of(piper.DEFAULT_VOICE))
        return None

    def _direct(self, engine_name: str, voice_id: str, language: str) -> Resolved:
        """``ENGINE:VOICE`` from a request: one of the engine's voices here, or for
        espeak-ng any voice name it may know. Never a file path or a URL part: those come
        from the voices file only (configuration, not callers)."""
        engine = self.engine(engine_name)
        known = {v.id: v for v in engine.voices()}
        if voice_id in known:
            return engine, known[voice_id], f"{engine_name}:{voice_id}"
        if engine_name != espeak.NAME or not _ESPEAK_NAME.match(voice_id):
            raise UnknownVoice(f"{engine_name} has no voice {voice_id[:64]!r} here (see "
                               "`voicecore voices`; Piper voices: `voicecore voices pull`)")
        gender: Gender = "female" if "+f" in voice_id else "male"  # espeak-ng's default
        return engine, EngineVoice(engine_name, voice_id, language, gender), (
            f"{engine_name}:{voice_id}")

    def list(self, *, language: str | None = None, engine: str | None = None,
             gender: str | None = None) -> list[VoiceInfo]:
        """Every named voice in every language (or those asked), as spoken here."""
        if engine is not None and engine not in engine_names():
            raise ConfigError(f"unknown engine {engine!r}: {', '.join(engine_names())}")
        rows = []
        for named in self.voices.values():
            if gender is not None and named.gender != gender:
                continue
            for lang in (language,) if language else LANGUAGES:
                row = self.info(named, lang, engine)
                if engine is None or row.engine == engine:
                    rows.append(row)
        return rows

    def get(self, voice: str, language: str = "en") -> VoiceInfo:
        """GetVoice: the named voice ``voice`` (id or name) as spoken in ``language``."""
        return self.info(self.named(voice), language)

    def info(self, named: NamedVoice, language: str, engine: str | None = None) -> VoiceInfo:
        """``named`` in ``language`` as it will be spoken (GetVoice, a row of ListVoices);
        its note says when that is not the voice's own engine voice, and why."""
        spoken_by, speaker, _ = self.resolve(named.id, language, engine=engine)
        asked = engine or self.settings.engine
        if asked == "auto":
            asked = "piper" if language == "en" else "espeak-ng"
        intended = named.engines.get(asked, {}).get(language)
        note = ""
        if intended and (spoken_by.name, speaker.id) != (asked, intended):
            note = f"{asked} voice {intended} is not installed here"
            if asked == "piper":
                note += f" (voicecore voices pull {intended})"
        return VoiceInfo(named.id, named.name, named.gender, language, LANGUAGES,
                         spoken_by.name, speaker.id, speaker.gender, note)

    def _merge(self, path: Path) -> None:
        for voice_id, fields in read_voices_file(path).items():
            base = self.voices.get(voice_id)
            if base is None:
                if "gender" not in fields:
                    raise ConfigError(f"voices file {path}: voices.{voice_id}.gender: a new "
                                      "voice needs one (female or male)")
                base = NamedVoice(voice_id, voice_id.capitalize(), fields["gender"])
            engines = {e: dict(m) for e, m in base.engines.items()}
            for name in engine_names():
                engines.setdefault(name, {}).update(fields.get(name, {}))
            self.voices[voice_id] = replace(base, name=fields.get("name", base.name),
                                            gender=fields.get("gender", base.gender),
                                            engines=engines)
