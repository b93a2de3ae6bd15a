"""Confidence, needs_confirmation and readback rules, and argument checking."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

import pytest

from core.capture import capture_confirmation, capture_date, capture_email, capture_phone
from schemas.payloads import CaptureResult, Language

REF = dt.date(2026, 3, 1)  # a Sunday


def _get(result: CaptureResult | None) -> CaptureResult:
    assert result is not None
    return result


# ---------------------------------------------------------------------------- email


@pytest.mark.parametrize(
    ("language", "transcript", "readback"),
    [
        ("en", "ana dot lee at gmail dot com", "ana dot lee at gmail dot com"),
        ("es", "ana punto lee arroba gmail punto com", "ana punto lee arroba gmail punto com"),
        ("fr", "ana point lee arobase gmail point com", "ana point lee arobase gmail point com"),
        ("de", "ana punkt lee at gmail punkt com", "ana Punkt lee at gmail Punkt com"),
    ],
)
def test_email_readback_speaks_symbols_in_the_language(
    language: Language, transcript: str, readback: str
) -> None:
    assert _get(capture_email(transcript, language)).readback == readback


def test_email_readback_spells_what_was_spelled_and_short_labels() -> None:
    result = _get(capture_email("it's j o h n 42 at yahoo dot co dot uk"))
    assert result.readback == "j o h n 4 2 at yahoo dot co dot u k"


def test_formatted_email_is_trusted_more_than_spoken_or_spelled() -> None:
    formatted = _get(capture_email("john.smith@gmail.com"))
    spoken = _get(capture_email("john dot smith at gmail dot com"))
    spelled = _get(capture_email("j o h n dot s m i t h at gmail dot com"))
    assert formatted.confidence > spoken.confidence > spelled.confidence
    assert not formatted.needs_confirmation and not spoken.needs_confirmation
    assert spelled.needs_confirmation  # every spelled address is read back


def test_email_guesses_are_read_back() -> None:
    for transcript in ("john at gmail", "john smith at gmail dot com", "john at acme dot zz"):
        assert _get(capture_email(transcript)).needs_confirmation, transcript


def test_self_corrected_email_costs_confidence() -> None:
    plain = _get(capture_email("jane at gmail dot com"))
    corrected = _get(capture_email("john at gmail dot com, no wait, jane at gmail dot com"))
    assert corrected.value == plain.value
    assert corrected.confidence < plain.confidence


def test_german_umlauts_are_transliterated_and_read_back() -> None:
    result = _get(capture_email("jürgen at web punkt de", "de"))
    assert result.value == "juergen@web.de"
    assert result.needs_confirmation  # "jurgen" is possible too


# ---------------------------------------------------------------------------- phone


def test_phone_readback_groups_single_digits_the_national_way() -> None:
    assert _get(capture_phone("four one five five five five zero one two three")).readback == (
        "4 1 5, 5 5 5, 0 1 2 3"
    )
    assert _get(capture_phone("06 12 34 56 78", "fr", "FR")).readback == "0 6, 1 2, 3 4, 5 6, 7 8"


@pytest.mark.parametrize(
    ("language", "plus"), [("en", "plus"), ("es", "más"), ("fr", "plus"), ("de", "plus")]
)
def test_foreign_phone_is_read_back_with_its_country_code(language: Language, plus: str) -> None:
    result = _get(capture_phone("+44 20 7946 0958", language, "US"))
    assert result.value == "+442079460958"
    assert result.readback == f"{plus} 4 4, 2 0, 7 9 4 6, 0 9 5 8"


def test_long_digit_groups_are_chunked_for_the_ear() -> None:
    result = _get(capture_phone("0151 12345678", "de", "DE"))
    assert all(len(group.split()) <= 4 for group in result.readback.split(", "))


def test_phone_confidence_orders_valid_guessed_possible() -> None:
    written = _get(capture_phone("(415) 555-0123"))
    spoken = _get(capture_phone("four one five five five five zero one two three"))
    guessed_country = _get(capture_phone("44 20 7946 0958"))
    only_possible = _get(capture_phone("555 123 4567"))  # 555 is not an assigned area code
    assert written.confidence > spoken.confidence > guessed_country.confidence
    assert guessed_country.confidence > only_possible.confidence
    assert not spoken.needs_confirmation
    assert guessed_country.needs_confirmation and only_possible.needs_confirmation


def test_phone_tail_correction_is_read_back() -> None:
    result = _get(capture_phone("415 555 0123, sorry, 0124"))
    assert result.value == "+14155550124"
    assert result.needs_confirmation


def test_plus_number_parses_in_any_region() -> None:
    spoken = "plus four four two zero seven nine four six zero nine five eight"
    for region in ("US", "FR", "DE", "JP"):
        assert _get(capture_phone(spoken, "en", region)).value == "+442079460958"


def test_region_is_case_insensitive() -> None:
    assert _get(capture_phone("06 12 34 56 78", "fr", "fr")).value == "+33612345678"


@pytest.mark.parametrize("region", ["ZZ", "", "USA", "U1"])
def test_unknown_region_is_a_value_error(region: str) -> None:
    with pytest.raises(ValueError, match="default_region"):
        capture_phone("415 555 0123", "en", region)


def test_non_string_region_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="default_region"):
        capture_phone("415 555 0123", "en", 1)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- confirmation


@pytest.mark.parametrize(
    ("language", "transcript", "readback"),
    [("en", "yes", "yes"), ("es", "sí", "sí"), ("fr", "oui", "oui"), ("de", "ja", "ja"),
     ("en", "no", "no"), ("es", "no", "no"), ("fr", "non", "non"), ("de", "nein", "nein")],
)
def test_confirmation_readback(language: Language, transcript: str, readback: str) -> None:
    assert _get(capture_confirmation(transcript, language)).readback == readback


def test_conflicting_signals_are_kept_but_re_asked() -> None:
    cases = (("no, that's right", "yes"), ("yeah no", "no"), ("no, correct", "yes"))
    for transcript, value in cases:
        result = _get(capture_confirmation(transcript))
        assert (result.value, result.needs_confirmation) == (value, True), transcript


def test_hedged_answers_need_confirmation_and_clear_ones_do_not() -> None:
    assert _get(capture_confirmation("I think so")).needs_confirmation
    assert not _get(capture_confirmation("yes, that's correct")).needs_confirmation
    assert not _get(capture_confirmation("nope")).needs_confirmation


@pytest.mark.parametrize(
    ("language", "transcript"),
    [("en", "no, it's jane at example dot com"), ("en", "no it is jane at example dot com"),
     ("en", "nope, its jane at example dot com"),
     ("en", "no, it's actually jane at example dot com"),
     ("de", "nein, es ist jane at example punkt com"),
     ("fr", "non, c'est jane arobase example point com"),
     ("es", "no, es jane arroba example punto com"),
     ("en", "no, the correct address is jane at example dot com"),
     ("en", "no, the right one is jane at example dot com"),
     ("de", "nein, richtig ist jane at example punkt com"),
     ("fr", "non, c'est juste jane arobase example point com"),
     ("es", "no, eso es jane arroba example punto com")],
)
def test_a_leading_no_followed_by_a_correction_is_a_no(language: Language,
                                                       transcript: str) -> None:
    result = _get(capture_confirmation(transcript, language))
    assert (result.value, result.needs_confirmation) == ("no", False), transcript


def test_a_yes_that_ends_its_clause_still_outranks_a_leading_no() -> None:
    for transcript in ("no, that's right", "no that's correct thank you",
                       "no, that's exactly right"):
        result = _get(capture_confirmation(transcript))
        assert (result.value, result.needs_confirmation) == ("yes", True), transcript


@pytest.mark.parametrize(
    "transcript",
    [  # Whisper tiny.en on "no, it's sarah two at yahoo dot com" and a spelled address:
     "No, it's Sarah to it. Yeah, you dot com.",
     "No, it's dia n i e l dot h i l l. Yeah, who dot com.",
     "um, no, it's jane. yes, jane at example dot com"],
)
def test_a_leading_no_then_a_value_is_a_no_whatever_sounds_like_yes_later(
        transcript: str) -> None:
    result = _get(capture_confirmation(transcript))
    assert (result.value, result.needs_confirmation) == ("no", False), transcript


def test_a_yes_after_a_no_and_only_glue_words_still_answers() -> None:
    for transcript in ("no, it's fine", "no, that's right, thank you", "nope, all good"):
        result = _get(capture_confirmation(transcript))
        assert (result.value, result.needs_confirmation) == ("yes", True), transcript


def test_right_now_is_no_answer() -> None:
    # Whisper tiny.en on "no, it's mark dot brown at yahoo dot com" (the "no" lost)
    assert capture_confirmation("It's smart.com, right now at www.who.com.") is None
    assert capture_confirmation("call me right away") is None
    assert _get(capture_confirmation("yes, right now")).value == "yes"
    assert _get(capture_confirmation("right")).value == "yes"


def test_it_is_answers_only_when_it_ends_its_clause() -> None:
    assert _get(capture_confirmation("yes it is")).value == "yes"
    assert _get(capture_confirmation("it is.")).value == "yes"
    assert _get(capture_confirmation("it's not john, it's jane")).value == "no"
    assert capture_confirmation("it's jane at example dot com") is None  # a value, no answer


def test_bare_no_is_an_answer_not_a_correction() -> None:
    assert _get(capture_confirmation("no")).value == "no"
    assert _get(capture_confirmation("no, no, no")).value == "no"


# ---------------------------------------------------------------------------- date


@pytest.mark.parametrize(
    ("language", "readback"),
    [
        ("en", "Tuesday, March 3, 2026"),
        ("es", "martes 3 de marzo de 2026"),
        ("fr", "mardi 3 mars 2026"),
        ("de", "Dienstag, 3. März 2026"),
    ],
)
def test_date_readback_is_localized(language: Language, readback: str) -> None:
    assert _get(capture_date("2026-03-03", language, REF)).readback == readback


def test_french_says_premier_for_the_first() -> None:
    assert _get(capture_date("2026-04-01", "fr", REF)).readback == "mercredi 1er avril 2026"


def test_guessed_year_costs_confidence() -> None:
    explicit = _get(capture_date("March 3rd 2026", "en", REF))
    same_year = _get(capture_date("March 3rd", "en", REF))
    rolled_over = _get(capture_date("February 3rd", "en", REF))
    assert rolled_over.value == "2027-02-03"
    assert explicit.confidence > same_year.confidence > rolled_over.confidence
    assert not same_year.needs_confirmation and rolled_over.needs_confirmation


def test_ambiguous_next_weekday_and_weekday_mismatch_are_read_back() -> None:
    assert _get(capture_date("next Friday", "en", REF)).needs_confirmation
    mismatch = _get(capture_date("Monday March 3rd", "en", REF))  # March 3, 2026 is a Tuesday
    assert mismatch.value == "2026-03-03" and mismatch.confidence <= 0.5


def test_impossible_last_date_is_no_match_even_after_a_good_one() -> None:
    assert capture_date("March 2nd, no, February 30th", "en", REF) is None


def test_default_reference_is_today_in_utc() -> None:
    today = dt.datetime.now(dt.UTC).date()
    result = _get(capture_date("tomorrow"))
    assert result.value in {(today + dt.timedelta(days=d)).isoformat() for d in (1, 2)}


def test_datetime_reference_is_accepted() -> None:
    moment = dt.datetime(2026, 3, 1, 23, 59, tzinfo=dt.UTC)
    assert _get(capture_date("tomorrow", "en", moment)).value == "2026-03-02"


@pytest.mark.parametrize("reference", ["2026-03-01", 20260301, dt.date(9999, 12, 31)])
def test_bad_reference_date_is_a_value_error(reference: object) -> None:
    with pytest.raises(ValueError, match="reference_date"):
        capture_date("tomorrow", "en", reference)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- all primitives

Primitive = Callable[[str, Language], CaptureResult | None]
PRIMITIVES: list[Primitive] = [
    capture_email,
    capture_phone,
    capture_confirmation,
    lambda transcript, language: capture_date(transcript, language, REF),
]


@pytest.mark.parametrize("primitive", PRIMITIVES)
def test_unknown_language_is_a_value_error(primitive: Primitive) -> None:
    with pytest.raises(ValueError, match="language"):
        primitive("yes", "it")  # type: ignore[arg-type]


@pytest.mark.parametrize("primitive", PRIMITIVES)
def test_non_string_transcript_is_a_value_error(primitive: Primitive) -> None:
    with pytest.raises(ValueError, match="transcript"):
        primitive(None, "en")  # type: ignore[arg-type]


@pytest.mark.parametrize("primitive", PRIMITIVES)
def test_empty_transcript_is_no_match(primitive: Primitive) -> None:
    assert primitive("", "en") is None
    assert primitive("   \n\t ", "en") is None


@pytest.mark.parametrize(
    ("primitive", "tail", "value"),
    [
        (PRIMITIVES[0], "john at gmail dot com", "john@gmail.com"),
        (PRIMITIVES[1], "four one five five five five zero one two three", "+14155550123"),
        (PRIMITIVES[2], "yes", "yes"),
        (PRIMITIVES[3], "tomorrow", "2026-03-02"),
    ],
)
def test_huge_transcript_is_fast_and_its_tail_wins(
    primitive: Primitive, tail: str, value: str
) -> None:
    transcript = "blah one two, no wait, um the 3rd. " * 20_000 + tail
    start = time.perf_counter()
    result = primitive(transcript, "en")
    assert time.perf_counter() - start < 1.0
    assert _get(result).value == value
