"""The encoder on one copy of the real model (tiny.en, base), the decoder on another with
its own threads: the same transcript, each stage on its copy, one copy when asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.audio import Pcm
from core.stt.models import resolve
from core.stt.split import SMALL_MODEL_BYTES, EncoderApart, decoder_threads_for, whisper_model
from tests.stt.conftest import speak


@pytest.fixture(scope="module")
def speech() -> Pcm:
    return speak("My email is john dot smith at gmail dot com.")


def everything(model: Any, pcm: Pcm, language: str | None) -> list[tuple[Any, ...]]:
    """Every segment's text, times and scores, and its words', from one pass."""
    segments, info = model.transcribe(pcm.samples, language=language, beam_size=5,
                                      word_timestamps=True)
    found: list[tuple[Any, ...]] = [(info.language, info.language_probability)]
    for segment in segments:
        found.append((segment.text, segment.start, segment.end, segment.avg_logprob,
                      segment.no_speech_prob))
        found.extend((w.word, w.start, w.end, w.probability) for w in segment.words or [])
    return found


def loaded(name: str, models_dir: Path, decoder_threads: int) -> Any:
    return whisper_model(resolve(name, models_dir).path, device="cpu", compute_type="int8",
                         workers=1, encoder_threads=2, decoder_threads=decoder_threads)


@pytest.mark.parametrize(("name", "language"), [("tiny.en", "en"), ("base", None)],
                         ids=["tiny.en", "base-detecting-the-language"])
def test_two_copies_write_what_one_writes(name: str, language: str | None,
                                          models_dir: Path, speech: Pcm) -> None:
    one = loaded(name, models_dir, decoder_threads=0)
    two = loaded(name, models_dir, decoder_threads=1)
    assert not isinstance(one.model, EncoderApart)
    assert isinstance(two.model, EncoderApart)
    found = everything(two, speech, language)
    assert "smith" in str(found[1][0]).lower()
    assert found == everything(one, speech, language)  # words, times, scores: all of it


class Counted:
    """A CTranslate2 model that counts the calls made to it."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.model, name)
        if not callable(found):
            return found

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return found(*args, **kwargs)
        return counted


def test_the_encoder_runs_on_its_copy_and_everything_else_on_the_decoders(
        models_dir: Path, speech: Pcm) -> None:
    model = loaded("base", models_dir, decoder_threads=1)
    encoder, decoder = Counted(model.model.encoder), Counted(model.model.decoder)
    model.model = EncoderApart(encoder, decoder)
    everything(model, speech, None)
    assert set(encoder.calls) == {"encode"}
    assert {"detect_language", "generate", "align"} <= set(decoder.calls)
    assert "encode" not in decoder.calls


def test_one_copy_when_the_decoder_has_the_encoders_threads(models_dir: Path) -> None:
    same = whisper_model(resolve("tiny.en", models_dir).path, device="cpu",
                         compute_type="int8", workers=1, encoder_threads=1,
                         decoder_threads=1)
    assert not isinstance(same.model, EncoderApart)


def test_unless_told_a_small_model_gets_its_own_decoder_and_a_large_one_does_not(
        models_dir: Path, tmp_path: Path) -> None:
    tiny = resolve("tiny.en", models_dir).path
    assert decoder_threads_for(tiny, None) == 1
    assert isinstance(whisper_model(tiny, device="cpu", compute_type="int8", workers=1,
                                    encoder_threads=2, decoder_threads=None).model,
                      EncoderApart)
    large = tmp_path / "large"
    large.mkdir()
    with (large / "model.bin").open("wb") as sparse:  # its size, not its bytes, on disk
        sparse.truncate(SMALL_MODEL_BYTES + 1)
    assert decoder_threads_for(large, None) == 0
    assert decoder_threads_for(large, 2) == 2  # told: as told
    assert decoder_threads_for(tmp_path / "gone", None) == 0
