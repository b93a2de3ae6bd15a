"""Objective hints become a prompt in the spoken language; free text passes, bounded."""

from __future__ import annotations

import pytest

from core.stt import hints


@pytest.mark.parametrize("language", hints.LANGUAGES)
@pytest.mark.parametrize("objective", hints.OBJECTIVES)
def test_every_objective_has_a_prompt_in_every_language(objective: str, language: str) -> None:
    prompt = hints.initial_prompt(objective, language)
    assert prompt and len(prompt) <= hints.MAX_PROMPT_CHARS
    assert hints.is_objective(objective.upper())


@pytest.mark.parametrize(("language", "words"), [
    ("en", ("dot", "at", "j o h n")), ("es", ("punto", "arroba")),
    ("fr", ("point", "arobase")), ("de", ("punkt", " at "))])
def test_the_email_prompt_writes_the_symbol_words_and_spelled_letters_capture_reads(
        language: str, words: tuple[str, ...]) -> None:
    prompt = hints.initial_prompt("email", language)
    assert prompt is not None
    for word in words:
        assert word in prompt.lower()
    assert "@" not in prompt  # never a formatted address: Whisper would copy the style


def test_phone_prompt_writes_digit_groups() -> None:
    assert "212 555 0199" in (hints.initial_prompt("phone", "en") or "")


def test_a_language_without_prompts_gets_the_english_one() -> None:
    assert hints.initial_prompt("date", "it") == hints.initial_prompt("date", "en")


def test_free_text_passes_through_on_one_line_and_bounded() -> None:
    assert hints.initial_prompt("  Names: Siobhan\nNguyen ", "en") == "Names: Siobhan Nguyen"
    assert len(hints.initial_prompt("x " * 400, "en") or "") == hints.MAX_PROMPT_CHARS
    assert hints.initial_prompt("   ", "en") is None
    assert not hints.is_objective("email me later")


def test_a_prompt_sentence_written_back_is_an_echo() -> None:
    prompt = hints.initial_prompt("date", "en")
    # Whisper tiny.en on espeak-ng's "September the second" (bench_spoken.py)
    assert hints.echoes_prompt("The appointment is on March 14, 2026.", prompt)
    assert hints.echoes_prompt(" the appointment is on march 14 2026", prompt)


def test_speech_is_no_echo_even_in_the_prompts_words() -> None:
    assert not hints.echoes_prompt("March 14, 2026.", hints.initial_prompt("date", "en"))
    assert not hints.echoes_prompt("The appointment is on March 15, 2026.",
                                   hints.initial_prompt("date", "en"))
    # a short sentence is what callers say: "Yes, that's correct." stays
    assert not hints.echoes_prompt("Yes, that's correct.",
                                   hints.initial_prompt("confirmation", "en"))
    assert not hints.echoes_prompt("anything at all said here", None)


def test_only_fictional_examples_are_checked_for_echoes() -> None:
    """A caller whose address is the email example's, or who says the free-text hint,
    keeps their words; the phone and date examples are no one's."""
    assert hints.echo_checked_prompt("email", "en") is None
    assert hints.echo_checked_prompt("the blue widget model number seven", "en") is None
    assert hints.echo_checked_prompt("Date", "en") == hints.initial_prompt("date", "en")
    assert hints.echo_checked_prompt("phone", "fr") == hints.initial_prompt("phone", "fr")
