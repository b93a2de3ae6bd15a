"""Recognizer slips around "@" in spoken addresses (core/capture/email_slips.py): what
Whisper tiny.en/base wrote for synthesized callers in benchmarks/bench_spoken.py, read as
meant only where the rest pins it down, and always read back."""

from __future__ import annotations

import pytest

from core.capture import capture_email


@pytest.mark.parametrize(("transcript", "expected"), [
    ("paul5atoutlook.com", "paul5@outlook.com"),  # "at" glued into one word
    ("Sure, my email is tom.bakeratyahoo.com.", "tom.baker@yahoo.com"),
    ("No, it's grace.hallitgmail.com.", "grace.hall@gmail.com"),  # "at" heard as "it"
    ("Mary dot green that outlook dot com.", "mary.green@outlook.com"),  # "at" as "that"
    ("Sarah to it yahoo dot com.", "sarah2@yahoo.com"),  # "at" as "it", "two" as "to"
    ("Sarah to at yahoo dot com.", "sarah2@yahoo.com"),
    ("Alice for at hotmail dot com.", "alice4@hotmail.com"),  # "four" as "for"
    ("john add gmail dot com", "john@gmail.com"),
    ("j o h n dot s m i t h. Yeah, who dot com.", "john.smith@yahoo.com"),  # "at yahoo"
    ("No, it's Sarah to it. Yeah, who dot com.", "sarah2@yahoo.com"),  # both, and a full stop
    ("Sarah to it yeah who dot com", "sarah2@yahoo.com"),
    ("No, it's l i n d a dot g r e e n a yahoo dot com.", "linda.green@yahoo.com"),  # "a"
    ("laura three the gmail dot com", "laura3@gmail.com"),  # "at" as "the"
    # a hyphenated spelling with the symbol words in it
    ("No, it's N-A-D-I-A-DOT-W-I-L-S-O-N-AT-GMAIL-DOT-COM.", "nadia.wilson@gmail.com"),
])
def test_a_slip_around_at_is_read_and_read_back(transcript: str, expected: str) -> None:
    result = capture_email(transcript)
    assert result is not None and result.value == expected, transcript
    assert result.needs_confirmation, transcript


@pytest.mark.parametrize("transcript", [
    "flatiron.com",  # "at" inside a word, not before a provider
    "see you at the flatiron.com store",
    "send it to gmail dot com",  # no name before the "@" it stands for
])
def test_no_address_is_made_up_from_a_slip(transcript: str) -> None:
    assert capture_email(transcript) is None, transcript


@pytest.mark.parametrize(("transcript", "expected"), [
    ("bento at gmail dot com", "bento@gmail.com"),  # "to" inside a name stays
    ("it's for at gmail dot com", "for@gmail.com"),  # a bare "for" is no name before it
    ("mike-jones at outlook.com", "mike-jones@outlook.com"),  # a word chain keeps hyphens
    ("mary-k-lee at gmail.com", "mary-k-lee@gmail.com"),
])
def test_addresses_that_look_like_slips_stay_as_said(transcript: str, expected: str) -> None:
    result = capture_email(transcript)
    assert result is not None and result.value == expected, transcript


def test_a_word_before_a_provider_is_read_back_never_taken() -> None:
    """"that" before "gmail dot com" may be a slip or talk: either way it is read back."""
    result = capture_email("it is about that gmail dot com")
    assert result is not None and result.needs_confirmation


@pytest.mark.parametrize(("transcript", "expected"), [
    ("capital j o h n at gmail dot com", "john@gmail.com"),
    ("lower case j o h n at gmail dot com", "john@gmail.com"),  # was "casejohn"
    ("capital letter j capital o h n at gmail dot com", "john@gmail.com"),
    ("it is lowercase j o h n at gmail dot com", "john@gmail.com"),
    ("laura small at gmail dot com", "laurasmall@gmail.com"),  # a name, not a case word
    # Whisper's "lower" for "laura" is a word (it read as 3@gmail.com), and read back
    ("No, it's lower three to gmail.com.", "lower3@gmail.com"),
])
def test_case_words_are_dropped_only_before_a_spelled_letter(transcript: str,
                                                             expected: str) -> None:
    result = capture_email(transcript)
    assert result is not None and result.value == expected, transcript
