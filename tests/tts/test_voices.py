"""The named voices through the real engines: every voice speaks every language through
``resolve`` + ``synthesize``, the voices file adds and overrides, unknown is UnknownVoice."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from core.errors import ConfigError, InvalidParams, UnknownVoice
from core.tts.piper import PiperEngine
from core.tts.settings import TtsSettings
from core.tts.voices import VoiceCatalog

SENTENCES = {"en": "Thank you for calling, how can I help?",
             "es": "Gracias por llamar, ¿en qué puedo ayudarle?",
             "fr": "Merci de votre appel, comment puis-je vous aider ?",
             "de": "Danke für Ihren Anruf, wie kann ich helfen?"}
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed (make test installs it)")


@pytest.fixture(scope="module")
def catalog() -> VoiceCatalog:
    return VoiceCatalog(TtsSettings())


@needs_espeak
@pytest.mark.parametrize("language", sorted(SENTENCES))
@pytest.mark.parametrize("voice", ["Emma", "james", "SOPHIE"])
def test_each_named_voice_speaks_each_language(catalog: VoiceCatalog, voice: str,
                                               language: str) -> None:
    engine, speaker, voice_id = catalog.resolve(voice, language)
    pcm = engine.synthesize(SENTENCES[language], speaker, speed=1.0)
    assert voice_id == voice.lower()
    assert speaker.language == language
    assert 1.0 < pcm.duration_s < 8.0
    assert np.sqrt(np.mean(pcm.samples**2)) > 0.01


def test_the_embedded_default_speaks_english_with_piper_and_the_rest_with_espeak(
        catalog: VoiceCatalog) -> None:
    engine, speaker, voice_id = catalog.resolve("", "en")
    assert (engine.name, speaker.id, voice_id) == ("piper", "en_US-joe-medium", "emma")
    assert {catalog.resolve("james", lang)[0].name for lang in ("es", "fr", "de")} == {
        "espeak-ng"}
    assert catalog.resolve("sophie", "de")[1].id == "de+f4"


@needs_espeak
def test_speed_changes_the_duration_through_resolve() -> None:
    # Piper samples its phoneme durations (noise_w): one synthesis varies by ~±5 %, enough to
    # cross the line now and then. Without the noise the durations are exact.
    catalog = VoiceCatalog(TtsSettings(piper_noise_scale=0.0, piper_noise_w_scale=0.0))
    for language in ("en", "fr"):
        engine, speaker, _ = catalog.resolve("james", language)
        normal = engine.synthesize(SENTENCES[language], speaker, speed=1.0).duration_s
        assert engine.synthesize(SENTENCES[language], speaker, speed=2.0).duration_s < (
            normal * 0.7)
        assert engine.synthesize(SENTENCES[language], speaker, speed=0.5).duration_s > (
            normal * 1.4)


def test_a_pulled_piper_voice_is_used_once_installed(tmp_path: Path) -> None:
    joe = PiperEngine(TtsSettings()).model("en_US-joe-medium")
    assert joe is not None
    voices = tmp_path / "voices"
    voices.mkdir()
    for suffix in (".onnx", ".onnx.json"):  # joe's model standing in for amy's download
        (voices / f"en_US-amy-medium{suffix}").symlink_to(f"{joe}{suffix[5:]}")
    catalog = VoiceCatalog(TtsSettings(voices_dir=voices))
    engine, speaker, _ = catalog.resolve("emma", "en")
    assert (engine.name, speaker.id, speaker.gender) == ("piper", "en_US-amy-medium", "female")
    assert catalog.list(language="en", gender="female")[0].note == ""


def test_a_forced_engine_speaks_every_language_or_says_what_answers_instead() -> None:
    piper = VoiceCatalog(TtsSettings(engine="piper"))
    engine, speaker, _ = piper.resolve("emma", "es")
    assert (engine.name, speaker.id) == ("espeak-ng", "es+f3")  # no Spanish Piper voice here
    row = piper.info(piper.named("emma"), "es")
    assert row.note == ("piper voice es_AR-daniela-high is not installed here "
                        "(voicecore voices pull es_AR-daniela-high)")
    gtts = VoiceCatalog(TtsSettings(engine="gtts"))
    assert [gtts.resolve("james", lang)[1].id for lang in ("en", "es", "fr", "de")] == [
        "en:co.uk", "es:com.mx", "fr:ca", "de:de"]


def test_the_fallback_engine_resolves_the_same_voice() -> None:
    catalog = VoiceCatalog(TtsSettings(engine="gtts", fallback="espeak-ng"))
    fallback = catalog.resolve_fallback("sophie", "en")
    assert fallback is not None
    assert (fallback[0].name, fallback[1].id, fallback[2]) == ("espeak-ng", "en-us+f4", "sophie")
    assert VoiceCatalog(TtsSettings()).resolve_fallback("sophie", "en") is None


def test_an_engine_voice_can_be_named_directly(catalog: VoiceCatalog) -> None:
    engine, speaker, voice_id = catalog.resolve("espeak-ng:de+m2", "de")
    assert (engine.name, speaker.id, speaker.gender, voice_id) == (
        "espeak-ng", "de+m2", "male", "espeak-ng:de+m2")
    assert catalog.resolve("piper:en_US-joe-medium", "en")[2] == "piper:en_US-joe-medium"
    with pytest.raises(UnknownVoice, match="piper has no voice 'en_US-nobody-low' here"):
        catalog.resolve("piper:en_US-nobody-low", "en")


@pytest.mark.parametrize("voice", ["piper:/etc/passwd.onnx", "piper:../x.onnx",
                                   "gtts:en:evil.example/x", "gtts:en:com.evil",
                                   "espeak-ng:--stdout", "espeak-ng:en+-x", "espeak-ng:a b"])
def test_a_caller_cannot_name_a_path_an_option_or_a_host(catalog: VoiceCatalog,
                                                         voice: str) -> None:
    with pytest.raises(UnknownVoice, match="has no voice"):
        catalog.resolve(voice, "en")


def test_an_unknown_language_is_invalid_params(catalog: VoiceCatalog) -> None:
    with pytest.raises(InvalidParams, match="language 'it': choose from en, es, fr, de"):
        catalog.resolve("emma", "it")


@pytest.mark.parametrize("voice", ["olivia", "emma2", "x" * 500])
def test_an_unknown_voice_is_unknown_voice(catalog: VoiceCatalog, voice: str) -> None:
    with pytest.raises(UnknownVoice, match=r"unknown voice .*: choose from Emma, James, Sophie"
                       ) as caught:
        catalog.resolve(voice, "en")
    assert len(str(caught.value)) < 200
    assert caught.value.code == "INVALID_PARAMS"


def test_list_filters_by_language_engine_and_gender(catalog: VoiceCatalog) -> None:
    assert len(catalog.list()) == 12
    assert [(r.id, r.engine) for r in catalog.list(language="en")] == [
        ("emma", "piper"), ("james", "piper"), ("sophie", "piper")]
    assert {r.id for r in catalog.list(gender="male")} == {"james"}
    assert {(r.id, r.language) for r in catalog.list(engine="piper")} == {
        ("emma", "en"), ("james", "en"), ("sophie", "en")}
    assert len(catalog.list(engine="gtts")) == 12
    with pytest.raises(ConfigError, match="unknown engine 'nope'"):
        catalog.list(engine="nope")


def test_get_is_one_voice_as_spoken_here(catalog: VoiceCatalog) -> None:
    james = catalog.get("James", "fr")
    assert (james.id, james.name, james.gender, james.engine, james.engine_voice) == (
        "james", "James", "male", "espeak-ng", "fr-fr+m3")
    assert james.languages == ("en", "es", "fr", "de")
    with pytest.raises(UnknownVoice):
        catalog.get("nobody")


VOICES_FILE = """
[voices.emma.espeak-ng]
fr = "fr-fr+f1"

[voices.oliver]
name = "Oliver"
gender = "male"
[voices.oliver.espeak-ng]
en = "en-gb+m1"
"""


def test_a_voices_file_adds_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "voices.toml"
    path.write_text(VOICES_FILE)
    catalog = VoiceCatalog(TtsSettings(voices_file=path))
    assert catalog.resolve("emma", "fr")[1].id == "fr-fr+f1"
    assert catalog.resolve("emma", "de")[1].id == "de+f3"  # the rest stays built in
    engine, speaker, voice_id = catalog.resolve("Oliver", "en", engine="espeak-ng")
    assert (speaker.id, speaker.gender, voice_id) == ("en-gb+m1", "male", "oliver")
    assert catalog.resolve("oliver", "es")[1].id == "es+m3"  # espeak-ng speaks any language
    if shutil.which("espeak-ng"):
        assert engine.synthesize("Hello, I am Oliver.", speaker, speed=1.0).duration_s > 0.5


@pytest.mark.parametrize(("content", "error"), [
    ("[voices.x", "not TOML"),
    ("colour = 1", "colour: unknown field"),
    ("[voices.Bad]\ngender = 'male'", "voices.Bad: a voice id is"),
    ("[voices.bob]\nname = 'Bob'", "voices.bob.gender: a new voice needs one"),
    ("[voices.bob]\ngender = 'robot'", "voices.bob.gender: must be one of female, male"),
    ("[voices.emma.piper]\nit = 'x'", "voices.emma.piper.it: unknown language"),
    ("[voices.emma.piper]\nen = 5", "voices.emma.piper.en: must be the engine's voice name"),
    ("[voices.emma]\nvolume = 3", "voices.emma.volume: unknown field"),
])
def test_a_bad_voices_file_is_one_line_naming_file_and_field(tmp_path: Path, content: str,
                                                             error: str) -> None:
    path = tmp_path / "voices.toml"
    path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        VoiceCatalog(TtsSettings(voices_file=path))
    assert str(caught.value).startswith(f"voices file {path}: ")
    assert error in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_missing_voices_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="No such file"):
        VoiceCatalog(TtsSettings(voices_file=tmp_path / "none.toml"))
