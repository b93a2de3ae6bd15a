"""What a real recognizer (Whisper) writes for what a caller says, and what must be taken
from it. The transcripts are Whisper's conventions seen in the round trip
(tests/test_roundtrip.py): digits grouped with hyphens or commas, a provider written as a
domain, capitalised names, full stops, spelled letters joined by hyphens or periods.
"""

from __future__ import annotations

import datetime as dt

import pytest

from core.capture import capture_confirmation, capture_date, capture_email, capture_phone

REF = dt.date(2026, 3, 1)  # a Sunday


@pytest.mark.parametrize(("transcript", "expected"), [
    ("My email is john.smith at gmail.com.", "john.smith@gmail.com"),
    ("John dot Smith at Gmail dot com.", "john.smith@gmail.com"),
    ("It's Sarah_Lee at Yahoo.com.", "sarah_lee@yahoo.com"),
    ("Mike-Jones at Outlook.com.", "mike-jones@outlook.com"),
    ("Bob plus news at Gmail.com", "bob+news@gmail.com"),
    ("Alex 1, 2, 3 at aol.com.", "alex123@aol.com"),
    ("It's Mary77 at gmail.com.", "mary77@gmail.com"),
    ("J-O-H-N at Yahoo.com.", "john@yahoo.com"),
    ("It's J, O, H, N at Gmail.com.", "john@gmail.com"),
    ("S-M-I-T-H at hotmail.com.", "smith@hotmail.com"),
    ("J-O-H-N dot S-M-I-T-H at gmail.com", "john.smith@gmail.com"),
    ("anna.k.at.web.de", "anna.k@web.de"),
    ("Laura at Yahoo.com. Sorry, Laura at Gmail.com.", "laura@gmail.com"),
    # periods joining spelled letters mark spelling, like hyphens
    ("J.O.H.N at yahoo.com", "john@yahoo.com"),
    ("J.O.H.N dot S.M.I.T.H at gmail.com", "john.smith@gmail.com"),
    # ... but an initial keeps its period
    ("j.d.salinger at yahoo.com", "j.d.salinger@yahoo.com"),
    ("r.patel at yahoo.com", "r.patel@yahoo.com"),
    # the name spelled, then said ("J-O-H-N, John") is one name
    ("My email is J-O-H-N, John, at gmail.com.", "john@gmail.com"),
    # a spoken "dot" written as a full stop between two names (bench_spoken.py, Piper)
    ("No, it's Lucy. Clark at Yahoo.com.", "lucy.clark@yahoo.com"),
    ("My email is Lucy. Clark at yahoo dot com", "lucy.clark@yahoo.com"),
    # ... but not after an answer word, nor with nothing said before it
    ("Yes. Clark at yahoo.com.", "clark@yahoo.com"),
    ("Thanks. Clark at yahoo.com.", "clark@yahoo.com"),
])
def test_email_as_whisper_writes_it(transcript: str, expected: str) -> None:
    result = capture_email(transcript)
    assert result is not None and result.value == expected


def test_a_full_stop_taken_for_a_dot_is_read_back() -> None:
    result = capture_email("No, it's Lucy. Clark at Yahoo.com.")
    assert result is not None and result.needs_confirmation


def test_spelled_email_written_with_periods_is_still_read_back() -> None:
    result = capture_email("J.O.H.N at yahoo.com")
    assert result is not None and result.needs_confirmation


@pytest.mark.parametrize(("transcript", "expected"), [
    ("My number is 212-555-0199.", "+12125550199"),
    ("2,125,550,199", "+12125550199"),
    ("4,155,550,123.", "+14155550123"),
    ("21,255,501.99", "+12125550199"),
    ("Plus 44 20 7946 0958.", "+442079460958"),
    ("Plus one, 415-555-2671.", "+14155552671"),
    ("650, double 5, 5, 1-2-3-4.", "+16505551234"),
    ("It's 212-555-0199, extension 45.", "+12125550199"),
    ("Too one too, five five five, oh one nine nine.", "+12125550199"),
    ("for one five, five five five, oh one two three", "+14155550123"),
    # "oh" in a comma-separated list of digit words
    ("two, one, two, five, five, five, oh, one, nine, nine", "+12125550199"),
    # the spoken "oh" written as the letter O among digits
    ("212-555-O199", "+12125550199"),
    ("Um, it's 718-555-O-1-9-9.", "+17185550199"),
])
def test_phone_as_whisper_writes_it(transcript: str, expected: str) -> None:
    result = capture_phone(transcript)
    assert result is not None and result.value == expected


def test_interjection_oh_before_a_comma_is_still_not_a_zero() -> None:
    result = capture_phone("Oh, it's four one five, five five five, zero one two three")
    assert result is not None and result.value == "+14155550123"


def test_letter_o_read_as_zero_is_not_taken_as_written_digits() -> None:
    written = capture_phone("212-555-0199")
    guessed = capture_phone("212-555-O199")
    assert written is not None and guessed is not None
    assert guessed.confidence < written.confidence


@pytest.mark.parametrize(("transcript", "expected"), [
    ("March 3rd.", "2026-03-03"),
    ("The 15th of April?", "2026-04-15"),
    ("June 21st, 2026.", "2026-06-21"),
    ("June 21st 20 26.", "2026-06-21"),
    ("Sept. 30th, 2026.", "2026-09-30"),
    ("In 3 days.", "2026-03-04"),
    ("Uh, how about Wednesday the 11th?", "2026-03-11"),
    ("March 10th. No wait, March 12th.", "2026-03-12"),
    ("Except Ember 5th.", "2026-09-05"),  # tiny.en on Piper's "September fifth"
])
def test_date_as_whisper_writes_it(transcript: str, expected: str) -> None:
    result = capture_date(transcript, reference_date=REF)
    assert result is not None and result.value == expected


def test_a_month_split_in_two_words_needs_both() -> None:
    assert capture_date("everything except ember", reference_date=REF) is None


@pytest.mark.parametrize(("transcript", "expected"), [
    ("Yes.", "yes"), ("Uh-huh.", "yes"), ("Mm-hmm.", "yes"), ("No. Wait, yes.", "yes"),
    ("Yes. Actually, no.", "no"), ("No, no. That's not it.", "no"), ("OK.", "yes"),
    ("Nope!", "no"), ("Uh, I don't know.", None), ("Yes, that's right?", None),
])
def test_confirmation_as_whisper_writes_it(transcript: str, expected: str | None) -> None:
    result = capture_confirmation(transcript)
    assert (result.value if result else None) == expected


@pytest.mark.parametrize("transcript", [
    "It's 415, fine, fine, fine, 0123.",
    "My work number in 415, fine fine fine, 0-1-2-3.",
])
def test_five_half_heard_as_fine_is_a_guess_to_read_back(transcript: str) -> None:
    result = capture_phone(transcript)
    assert result is not None and result.value == "+14155550123"
    assert result.needs_confirmation


@pytest.mark.parametrize("transcript", [
    "Bree 0 5 4 3 3 9 6 1 8.",  # tiny.en on Piper's "three zero five four three three …"
    "Pre 0 5 4 3 3 9 6 1 8.",
])
def test_three_half_heard_as_a_word_is_a_guess_to_read_back(transcript: str) -> None:
    result = capture_phone(transcript)
    assert result is not None and result.value == "+13054339618"
    assert result.needs_confirmation


def test_toll_free_is_no_three() -> None:
    result = capture_phone("It's a toll free number, 1 800 555 0199.")
    assert result is not None and result.value == "+18005550199"


def test_fine_as_a_word_is_not_a_digit() -> None:
    result = capture_phone("That's fine, my number is 415-555-0123.")
    assert result is not None and result.value == "+14155550123"
    assert not result.needs_confirmation


def test_misheard_domain_words_are_kept_and_read_back() -> None:
    """Whisper wrote "aol" as "a well": the words are kept (not "a.com") and read back."""
    result = capture_email("Alex 123 at a well dot com.")
    assert result is not None and result.value == "alex123@awell.com"
    assert result.needs_confirmation


def test_a_pause_filler_right_after_at_is_still_dropped() -> None:
    result = capture_email("john at, like, gmail dot com")
    assert result is not None and result.value == "john@gmail.com"
    assert not result.needs_confirmation


def test_domain_said_as_two_words_is_read_back() -> None:
    result = capture_email("jane at proton mail dot com.")
    assert result is not None and result.value == "jane@protonmail.com"
    assert result.needs_confirmation


def test_a_correction_that_cannot_be_read_makes_the_address_read_back() -> None:
    """Whisper's "laura at yahoo dot com. Sorry, laura at gmail dot com": the caller
    corrected the address, we cannot read the correction, so what came before is unsure."""
    result = capture_email("or at yahoo dot com sorry for a gmail dot com")
    assert result is not None and result.needs_confirmation


def test_chatter_after_an_address_is_not_a_correction() -> None:
    result = capture_email("john at gmail dot com. Thanks, sorry about the noise.")
    assert result is not None and result.value == "john@gmail.com"
    assert not result.needs_confirmation


@pytest.mark.parametrize("transcript", [
    "the email a support at example.org.",  # "is" heard as "a"
    "r patel at gmail dot com",  # r.patel or rpatel?
])
def test_a_letter_joined_to_a_word_is_read_back(transcript: str) -> None:
    result = capture_email(transcript)
    assert result is not None and result.needs_confirmation


def test_reach_me_at_is_a_preamble_not_a_local_part() -> None:
    """Whisper wrote "emily at hotmail dot com" as one word: no address, not "me@..."."""
    assert capture_email("You can reach me at EmiliaTalkmail.com.") is None


@pytest.mark.parametrize("transcript", [
    "15th on May 12th",  # Whisper on espeak-ng's "the fifteenth of April"
    "March 3rd or the 4th",
])
def test_two_days_of_month_in_one_breath_are_read_back(transcript: str) -> None:
    result = capture_date(transcript, reference_date=REF)
    assert result is not None and result.needs_confirmation


@pytest.mark.parametrize(("transcript", "expected"), [
    # Whisper tiny.en on espeak-ng's "the twentieth of August" (bench_spoken.py)
    ("No, it's the 20th and August.", "2026-08-20"),
    ("Sure, let's say the 22nd and August. Sorry, I mean the 20th and August.", "2026-08-20"),
    ("the 5th in May", "2026-05-05"),
])
def test_a_day_beside_a_loose_month_is_that_months_and_read_back(transcript: str,
                                                                 expected: str) -> None:
    result = capture_date(transcript, reference_date=REF)
    assert result is not None and result.value == expected, transcript
    assert result.needs_confirmation


def test_an_ordinal_weekday_is_not_another_day() -> None:
    result = capture_date("the second Tuesday of April", reference_date=REF)
    assert result is not None and not result.needs_confirmation
