"""Property: no transcript content makes a primitive raise, and every answer is well formed."""

from __future__ import annotations

import datetime as dt
import re

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st

from core.capture import capture_confirmation, capture_date, capture_email, capture_phone
from core.capture.common import CONFIRM_BELOW, LANGUAGES
from schemas.payloads import CaptureResult, Language

# Words the parsers react to, so random sentences reach the deep paths (compounds,
# corrections, symbols, months...), not just the "nothing here" exit.
VOCABULARY = str.split(
    "at dot underscore dash plus arroba punto arobase point punkt tiret bas guion bajo "
    "gmail com de fr co uk j o h n a b oh double triple zero one two five eight ten twenty "
    "hundred thousand cinco y veinte cien mil soixante dix quatre vingt et cent vierund "
    "zwanzig dreißig hundert tausend fünfundfünfzig no non nein wait sorry actually perdón "
    "pardon ich meine yes yeah correct not right wrong sí claro oui ja stimmt nicht maybe "
    "? , . ! - / @ + 3rd 1er 21st the of el le am march mars marzo märz february 29 30 31 "
    "monday friday viernes vendredi freitag next this last tomorrow mañana demain morgen in "
    "days weeks months 2026 12/25 3.4. 2026-02-30 9999 99999999999999999999 ﬁ ß Ⅻ ٣ 𝟘"
)
sentences = st.lists(st.sampled_from(VOCABULARY), max_size=40).map(" ".join)
transcripts = st.one_of(st.text(max_size=300), sentences)
languages = st.sampled_from(LANGUAGES)
E164 = re.compile(r"\+[1-9][0-9]{4,14}")


def _well_formed(result: CaptureResult | None) -> None:
    if result is None:
        return
    assert 0.0 <= result.confidence <= 1.0
    assert result.needs_confirmation == (result.confidence < CONFIRM_BELOW)
    assert result.readback.strip()


@settings(max_examples=300, deadline=None)
@given(transcripts, languages)
def test_email_never_raises(transcript: str, language: Language) -> None:
    result = capture_email(transcript, language)
    _well_formed(result)
    if result:
        local, _, domain = result.value.partition("@")
        assert local and "." in domain and result.value == result.value.lower()


@settings(max_examples=300, deadline=None)
@given(transcripts, languages, st.sampled_from(sorted(phonenumbers.SUPPORTED_REGIONS)))
def test_phone_never_raises(transcript: str, language: Language, region: str) -> None:
    result = capture_phone(transcript, language, region)
    _well_formed(result)
    if result:
        assert E164.fullmatch(result.value)


@settings(max_examples=300, deadline=None)
@given(transcripts, languages)
def test_confirmation_never_raises(transcript: str, language: Language) -> None:
    result = capture_confirmation(transcript, language)
    _well_formed(result)
    if result:
        assert result.value in ("yes", "no")


@settings(max_examples=300, deadline=None)
@given(transcripts, languages, st.dates(dt.date(1900, 1, 1), dt.date(2999, 12, 31)))
def test_date_never_raises(transcript: str, language: Language, reference: dt.date) -> None:
    result = capture_date(transcript, language, reference)
    _well_formed(result)
    if result:
        dt.date.fromisoformat(result.value)
