"""A pass its caller gave up on stops between the real model's stages (tiny.en): before
its decoder, before its word alignment; a pass nobody gave up on is unchanged."""

from __future__ import annotations

import pytest

from core.audio import Pcm
from core.stt.abandon import PassAbandoned
from core.stt.whisper import Transcriber
from tests.stt.conftest import speak


@pytest.fixture(scope="module")
def speech() -> Pcm:
    return speak("Yes, that is correct.")


class GivesUp:
    """An ``abandon`` that answers False until its ``at``-th question (1 = the first)."""

    def __init__(self, at: int | None) -> None:
        self.at, self.asked = at, 0

    def __call__(self) -> bool:
        self.asked += 1
        return self.asked == self.at


def test_the_model_is_asked_before_the_pass_and_before_each_stage(
        tiny: Transcriber, speech: Pcm) -> None:
    timed, untimed = GivesUp(None), GivesUp(None)
    assert tiny.transcribe(speech, word_timestamps=True, abandon=timed).text
    assert tiny.transcribe(speech, abandon=untimed).text
    assert (timed.asked, untimed.asked) == (3, 2)  # + the decoder's, + the alignment's


@pytest.mark.parametrize("at", [1, 2, 3], ids=["before-the-encoder", "before-the-decoder",
                                                "before-the-word-alignment"])
def test_a_pass_given_up_stops_at_the_next_stage(tiny: Transcriber, speech: Pcm,
                                                 at: int) -> None:
    gives_up = GivesUp(at)
    with pytest.raises(PassAbandoned):
        tiny.transcribe(speech, word_timestamps=True, abandon=gives_up)
    assert gives_up.asked == at  # and nothing after it


def test_a_pass_nobody_gave_up_on_is_the_same_transcript(tiny: Transcriber,
                                                         speech: Pcm) -> None:
    plain = tiny.transcribe(speech, word_timestamps=True, beam_size=1)
    asked = tiny.transcribe(speech, word_timestamps=True, beam_size=1, abandon=lambda: False)
    assert asked.text == plain.text
    assert asked.segments == plain.segments
