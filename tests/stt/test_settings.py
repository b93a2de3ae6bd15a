"""Speech-to-text settings: flags and environment, device and compute type, a model that
does not load."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigError, EngineUnavailable
from core.stt import settings as stt
from core.stt.settings import SttSettings
from core.stt.whisper import device_and_compute_type, load_model


def test_settings_go_to_the_worker_through_the_environment_and_back(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    chosen = SttSettings(model="tiny.en", device="cpu", compute_type="int8_float32",
                         cache_dir=tmp_path, preload=True, idle_unload_s=30,
                         decoder_threads=2)
    for name, value in chosen.env().items():
        monkeypatch.setenv(name, value)
    assert SttSettings.from_env() == chosen  # concurrency is not one: the default both ways


def test_bad_settings_are_one_line_config_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"--stt-device 'tpu': choose from auto, cpu, cuda"):
        SttSettings(device="tpu")
    monkeypatch.setenv(stt.ENV_IDLE_UNLOAD, "soon")
    with pytest.raises(ConfigError, match="VOICECORE_STT_IDLE_UNLOAD='soon': not a number"):
        SttSettings.from_env()


def test_auto_is_the_cpu_with_int8_on_a_machine_without_a_gpu() -> None:
    import ctranslate2

    if ctranslate2.get_cuda_device_count() > 0:
        pytest.skip("a GPU is here")
    assert device_and_compute_type(SttSettings()) == ("cpu", "int8")
    assert device_and_compute_type(SttSettings(device="cuda")) == ("cuda", "float16")
    assert device_and_compute_type(SttSettings(compute_type="float32")) == ("cpu", "float32")


def test_a_model_directory_that_does_not_load_is_engine_unavailable(tmp_path: Path) -> None:
    for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt"):
        (tmp_path / name).write_text("not a model")
    with pytest.raises(EngineUnavailable) as caught:
        load_model(SttSettings(model=str(tmp_path), device="cpu"))
    message = str(caught.value)
    assert message.startswith(f"speech model {tmp_path.name} ({tmp_path}) does not load on "
                              "cpu/int8: ")
    assert "\n" not in message


def test_ctranslate2_gets_the_usable_cores_shared_by_concurrent_passes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Not CTranslate2's own default of 4 threads, which on 2 cores contend with each other.
    monkeypatch.setattr("os.sched_getaffinity", lambda _: {0, 1})
    assert SttSettings().cpu_threads() == 2
    assert SttSettings(concurrency=2).cpu_threads() == 1
    assert SttSettings(concurrency=3).cpu_threads() == 1
    monkeypatch.setattr("os.sched_getaffinity", lambda _: set(range(32)))
    assert SttSettings().cpu_threads() == 4
    assert SttSettings(concurrency=4).cpu_threads() == 4
    assert SttSettings(concurrency=16).cpu_threads() == 2


def test_a_model_given_as_a_path_must_be_a_model_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^--stt-model \./gone: no such directory \("):
        SttSettings(model="./gone")
    with pytest.raises(ConfigError, match=r": no model\.bin, config\.json, tokenizer\.json \("):
        SttSettings(model=str(tmp_path))
    for name in ("small", "tiny.en", "base"):  # a name is resolved (or downloaded) when used
        assert SttSettings(model=name).model == name



def test_the_decoders_threads_are_chosen_by_the_model_unless_told_and_bad_counts_are_one_line(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert SttSettings().decoder_threads is None  # by the model's size (test_split.py)
    assert SttSettings.from_env().decoder_threads is None
    assert stt.ENV_DECODER_THREADS not in SttSettings().env()
    monkeypatch.setenv(stt.ENV_DECODER_THREADS, "0")
    assert SttSettings.from_env().decoder_threads == 0
    for bad in ("two", "1.5", "nan", "inf"):
        monkeypatch.setenv(stt.ENV_DECODER_THREADS, bad)
        with pytest.raises(ConfigError, match=rf"^VOICECORE_STT_DECODER_THREADS='{bad}': not "
                                              r"a whole number of threads$"):
            SttSettings.from_env()
    with pytest.raises(ConfigError, match=r"^--stt-decoder-threads 5: from 0 \(the "
                                          r"encoder's\) to 4$"):
        SttSettings(decoder_threads=5)
