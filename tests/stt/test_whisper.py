"""The transcriber on the real tiny.en model: text, words, confidence, silence, unload."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pytest

from core.audio import Pcm
from core.capture import capture_email
from core.errors import InvalidParams
from core.stt.models import Resolved
from core.stt.settings import SttSettings
from core.stt.whisper import Transcriber, check_language, overall_confidence, segment_confidence
from schemas.audio import Segment
from tests.stt.conftest import heard_email, speak


def test_segment_confidence_is_token_probability_times_speech_probability() -> None:
    assert segment_confidence(math.log(0.8), 0.25) == pytest.approx(0.6)
    assert segment_confidence(0.0, 0.0) == 1.0
    assert segment_confidence(-math.inf, 0.0) == 0.0
    assert segment_confidence(0.3, 1.2) == 0.0  # out-of-range inputs stay in [0, 1]


def test_overall_confidence_is_the_duration_weighted_mean() -> None:
    def seg(start: float, end: float, confidence: float) -> Segment:
        return Segment(start=start, end=end, text="x", confidence=confidence)

    assert overall_confidence([seg(0, 1, 0.9), seg(1, 4, 0.5)]) == pytest.approx(0.6)
    assert overall_confidence([seg(2, 2, 0.4), seg(3, 3, 0.8)]) == pytest.approx(0.6)
    assert overall_confidence([]) == 0.0


def test_speech_becomes_text_with_monotonic_word_times(tiny: Transcriber) -> None:
    pcm = speak("My email is john dot smith at gmail dot com.")
    result = tiny.transcribe(pcm, word_timestamps=True)
    assert heard_email(result.text) == "john.smith@gmail.com", result.text
    assert (result.language, result.model) == ("en", "tiny.en")
    assert 0 < result.confidence <= 1 and result.real_time_factor > 0
    assert result.duration_s == pytest.approx(pcm.duration_s, abs=0.01)
    assert (result.usage.engine, result.usage.voice) == ("faster-whisper", "tiny.en")
    words = [w for s in result.segments for w in s.words]
    assert len(words) >= 5  # "john.smith" and "gmail.com" may each be one word
    times = [t for w in words for t in (w.start, w.end)]
    assert times == sorted(times) and times[-1] <= result.duration_s + 0.05


@pytest.mark.parametrize("vad_filter", [True, False])
def test_silence_is_empty_text_with_confidence_zero(tiny: Transcriber, vad_filter: bool) -> None:
    silence = Pcm(np.zeros(16000 * 2, dtype=np.float32), 16000)
    result = tiny.transcribe(silence, vad_filter=vad_filter)
    assert (result.text, result.confidence, result.segments) == ("", 0.0, ())


def test_the_model_loads_once_for_concurrent_calls_and_unloads_when_idle() -> None:
    loads: list[int] = []
    unloaded = threading.Event()

    class Model:
        pass

    def loader(settings: SttSettings) -> tuple[object, Resolved]:
        loads.append(1)
        return Model(), Resolved("fake", settings.models_dir(), "directory")

    transcriber = Transcriber(SttSettings(idle_unload_s=0.05), loader=loader)
    threads = [threading.Thread(target=transcriber.load) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert loads == [1]
    transcriber._release()  # the four loads' uses ended: the idle timer starts
    for _ in range(3):
        transcriber._release()
    while transcriber.loaded:
        unloaded.wait(0.01)
    transcriber.load()
    assert loads == [1, 1]
    transcriber.unload()


def test_the_email_hint_makes_base_write_what_capture_email_reads(base: Transcriber) -> None:
    """With the email hint and no language, base detects English first and, prompted in
    English, keeps the spoken symbol words. (Piper never speaks a sentence twice the same:
    without a hint base wrote "john.smithagemail.com" once here, and the address another
    time; how much hints help is measured on the round-trip corpus, not asserted here.)"""
    pcm = speak("My email is john dot smith at gmail dot com.")
    hinted = base.transcribe(pcm, hint="email")
    assert hinted.language == "en"  # detected first, then the English prompt
    captured = capture_email(hinted.text, "en")
    assert captured is not None and captured.value == "john.smith@gmail.com", hinted.text


def test_segments_that_write_the_prompt_back_are_dropped() -> None:
    """Whisper writes its prompt back on speech it cannot make out: no date from it."""
    @dataclass
    class Found:
        text: str
        start: float = 0.0
        end: float = 1.0
        avg_logprob: float = -0.2
        no_speech_prob: float = 0.1
        words: tuple[()] = ()

    class Model:
        def transcribe(self, samples: object, **options: object) -> tuple[object, object]:
            said = [Found(" The appointment is on March 14, 2026."), Found(" September 2nd."),
                    Found(" My email is john dot smith at gmail dot com.")]
            return iter(said), SimpleNamespace(language="en", language_probability=1.0)

    def loader(settings: SttSettings) -> tuple[object, Resolved]:
        return Model(), Resolved("fake", settings.models_dir(), "directory")

    transcriber = Transcriber(SttSettings(), loader=loader)
    silence = Pcm(np.zeros(16000, dtype=np.float32), 16000)
    dated = transcriber.transcribe(silence, language="en", hint="date").text
    assert "appointment" not in dated and "September 2nd." in dated
    assert "appointment" in transcriber.transcribe(silence, language="en").text  # no prompt
    # an address that is the email example's is somebody's: kept
    emailed = transcriber.transcribe(silence, language="en", hint="email").text
    assert "john dot smith at gmail dot com" in emailed


def test_only_languages_whisper_knows_are_taken() -> None:
    for known in ("", "en", "es", "fr", "de", "yue", "haw"):
        check_language(known)
    for unknown in ("xx", "eng", "zz"):
        with pytest.raises(InvalidParams, match=f"'{unknown}': not a language Whisper knows"):
            check_language(unknown)


def test_an_english_only_model_still_hears_english_with_another_known_code(
        tiny: Transcriber) -> None:
    # faster-whisper's rule for .en models: the code is a hint they cannot follow
    heard = tiny.transcribe(speak("Thank you for calling."), language="es")
    assert (heard.language, "thank you" in heard.text.lower()) == ("en", True), heard.text

