"""capture_phone: a phone number from a transcript, in E.164.

Rules
-----
* Digits come from numerals ("(415) 555-0123") and number words in the request language
  ("five five five", "cinquante-six", "vierunddreißig"), with "oh" for zero (also the
  letter "O" STT writes among digits: "555-O199") and the digit homophones STT writes
  ("for one five") in English,
  "double"/"triple" repeats and compounds ("eight hundred", "ochocientos"); see
  :mod:`core.capture.numwords`.
* "plus" (es "más") before the digits marks a country code: such a number parses in any
  region. Otherwise it is read in ``default_region`` (whose international prefix, e.g. "00"
  or "011", libphonenumber understands). A number of 10+ digits that is not valid there but
  valid once a "+" is put in front is taken as a country code said without "plus", at lower
  confidence.
* Words that are neither digits, fillers nor glue ("and", "dash") split the digits into
  runs. The last run that is a valid number wins; failing that, all runs joined. Anything
  after "extension"/"extensión"/"poste"/"Durchwahl" is ignored.
* Self-corrections: the last segment with a number wins. A shorter last segment
  ("... sorry, zero one two four") replaces the tail of the number said before.
* Validation uses libphonenumber's numbering plans: a *valid* number is accepted; a number
  that is only *possible* (right length, unassigned range like the 555 area code) is
  accepted at low confidence; anything else is no match.

Confidence: 0.95 written with digits, 0.9 spoken; 0.75 when a word only sounding like a
digit was read as one ("fine" for "five"), runs had to be joined across unknown words or a
tail was replaced by a correction; 0.7 for a guessed country code; 0.5 when only possible;
−0.1 after a self-correction. needs_confirmation when < 0.85.

Readback: digits one by one, separated by spaces, groups separated by commas, grouped the
way the number is written in its country: "4 1 5, 5 5 5, 0 1 2 3" in its own region,
"plus 4 4, 2 0, 7 9 4 6, 0 9 5 8" outside ``default_region``. Single digits make every TTS
engine read digit by digit (never "four hundred fifteen"), and the commas give the pauses
a caller needs to check the number chunk by chunk.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from itertools import pairwise
from typing import NamedTuple

import phonenumbers

from schemas.payloads import CaptureResult, Language

from .common import build_result, check_language, check_transcript
from .numwords import GUESSED_DIGITS, Number, read_numbers
from .text import drop_fillers, prepare, split_corrections, tokenize

_PLUS_WORDS = frozenset({"plus", "mas"})
_SPOKEN_PLUS: dict[Language, str] = {"en": "plus", "es": "más", "fr": "plus", "de": "plus"}
_GLUE = frozenset({  # words said between digit groups that do not end the number
    ",", ".", "and", "y", "et", "und", "dash", "hyphen", "guion", "tiret", "strich", "bindestrich",
    "minus", "then", "luego", "puis", "dann",
})
_DIGITS_WITH_O = re.compile(r"[0-9o]*[0-9][0-9o]*", re.ASCII)
_EXTENSION = frozenset({"extension", "ext", "extensio", "anexo", "poste", "durchwahl"})
_MIN_TAIL = 2  # a lone digit after "sorry" is more likely chatter ("one moment") than a fix
# A country code said without "plus" only makes sense with a whole national number after it.
_MIN_GUESSED_INTERNATIONAL = 10
_GUESSED = 0.75  # digits read from words that only sound like them ("fine" for "five")
_POSSIBLE = 0.5  # confidence cap for numbers that are only possible, not valid
_MAX_DIGITS = 17  # as spoken: E.164's 15 digits plus room for a trunk or "00" prefix
_E164_MAX = 16  # "+" and at most 15 digits


class _Phone(NamedTuple):
    number: phonenumbers.PhoneNumber
    digits: str
    """What was said, e.g. "+442079460958" or "4155550123" (for tail corrections)."""
    confidence: float


def _check_region(default_region: object) -> str:
    region = default_region.upper() if isinstance(default_region, str) else ""
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(
            f"unknown default_region {default_region!r}: expected a two-letter region "
            "code such as 'US' or 'FR'"
        )
    return region


def _runs(segment: str, lang: Language) -> tuple[list[str], float]:
    """Digit runs of the segment (a leading "+" kept), and the confidence they allow:
    written digits, spoken digits, or digits guessed from words ("fine" for "five")."""
    # Commas and periods STT writes between digit groups keep "twenty, seven" from becoming
    # 27, and "three... oh wait" from reading the interjection as a zero.
    tokens = drop_fillers(tokenize(segment, keep="+,."), lang)
    for i, token in enumerate(tokens):
        if token in _EXTENSION:
            tokens = tokens[:i]
            break
    written = "".join(t for t in tokens if t.isascii() and t.isdigit())
    if lang == "en":  # "555-O199": STT wrote the spoken "oh" as the letter, inside digits
        tokens = [t.replace("o", "0") if _DIGITS_WITH_O.fullmatch(t) else t for t in tokens]
    items = read_numbers(tokens, lang, oh_zero=True, homophones=True)
    runs: list[str] = [""]
    for i, item in enumerate(items):
        nxt = items[i + 1] if i + 1 < len(items) else None
        if isinstance(item, Number):
            runs[-1] += item.digits
        elif (item == "+" or item in _PLUS_WORDS) and isinstance(nxt, Number):
            runs.append("+")
        elif item not in _GLUE and runs[-1]:
            runs.append("")
    runs = [r for r in runs if r.strip("+")]
    if _guessed(tokens, items):
        return runs, _GUESSED
    return runs, 0.9 if "".join(runs).replace("+", "") != written else 0.95


def _guessed(tokens: Sequence[str], items: Sequence[Number | str]) -> bool:
    """Whether a word like "fine" was read as a digit (it is left out of ``items`` then)."""
    def count(words: Iterable[object]) -> int:
        return sum(1 for w in words if isinstance(w, str) and w in GUESSED_DIGITS)

    return count(tokens) > count(items)


def _parse(digits: str, region: str) -> tuple[phonenumbers.PhoneNumber, bool] | None:
    """The number and whether it is valid (else only possible); None if neither."""
    bare = digits.lstrip("+")
    if not 3 <= len(bare) <= _MAX_DIGITS:
        return None
    try:
        number = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if len(e164) > _E164_MAX:  # libphonenumber calls some longer strings "possible"
        return None
    if phonenumbers.is_valid_number(number):
        return number, True
    reason = phonenumbers.is_possible_number_with_reason(number)
    return (number, False) if reason == phonenumbers.ValidationResult.IS_POSSIBLE else None


def _evaluate(digits: str, region: str, confidence: float) -> _Phone | None:
    """Read ``digits`` in ``region``, falling back to a "+" the caller did not say."""
    readings = [(digits, confidence)]
    if not digits.startswith("+") and len(digits) >= _MIN_GUESSED_INTERNATIONAL:
        readings.append(("+" + digits, 0.7))
    possible: _Phone | None = None
    for candidate, score in readings:
        parsed = _parse(candidate, region)
        if parsed and parsed[1]:
            return _Phone(parsed[0], digits, score)
        if parsed and possible is None:
            possible = _Phone(parsed[0], digits, min(score, _POSSIBLE))
    return possible


def _best(runs: Sequence[str], region: str, confidence: float) -> _Phone | None:
    """The last run that is a valid number, else all runs joined, else a possible one."""
    candidates = [(run, confidence) for run in reversed(runs)]
    if len(runs) > 1:
        joined = runs[0] + "".join(r.lstrip("+") for r in runs[1:])
        candidates.append((joined, min(confidence, 0.75)))
    found = [p for p in (_evaluate(d, region, c) for d, c in candidates) if p is not None]
    return max(found, key=lambda p: p.confidence, default=None)


def _with_tail(previous: _Phone, tail: str, region: str) -> _Phone | None:
    """Replace the end of a number by the digits of a correction ("... sorry, 0124")."""
    if len(tail) >= len(previous.digits.lstrip("+")):
        return None
    found = _evaluate(previous.digits[: -len(tail)] + tail, region, 0.75)
    return found._replace(confidence=min(found.confidence, 0.75)) if found else None


def _chunks(group: str) -> list[str]:
    """Split groups longer than 4 digits into near-equal chunks: 7 → 4 + 3, 9 → 3 + 3 + 3."""
    count = -(-len(group) // 4)
    size, extra = divmod(len(group), count)
    bounds = [0]
    for i in range(count):
        bounds.append(bounds[-1] + size + (1 if i < extra else 0))
    return [group[a:b] for a, b in pairwise(bounds)]


def _readback(number: phonenumbers.PhoneNumber, region: str, lang: Language) -> str:
    home = number.country_code == phonenumbers.country_code_for_region(region)
    formats = phonenumbers.PhoneNumberFormat
    style = formats.NATIONAL if home else formats.INTERNATIONAL
    text = phonenumbers.format_number(number, style)
    groups = [" ".join(chunk) for g in re.findall(r"[0-9]+", text) for chunk in _chunks(g)]
    prefix = "" if home else _SPOKEN_PLUS[lang] + " "
    return prefix + ", ".join(groups)


def capture_phone(
    transcript: str, language: Language = "en", default_region: str = "US"
) -> CaptureResult | None:
    """The phone number in ``transcript`` (E.164), read in ``default_region``; None if none."""
    lang = check_language(language)
    region = _check_region(default_region)
    text = prepare(check_transcript(transcript), lang)
    found: _Phone | None = None
    corrected = False
    for segment in split_corrections(text, lang, bare_no="always"):
        runs, confidence = _runs(segment, lang)
        if not runs:
            continue
        current = _best(runs, region, confidence)
        partial = current is None or current.confidence <= _POSSIBLE  # not a number by itself
        if found is not None and partial and len(runs) == 1 and len(runs[0]) >= _MIN_TAIL:
            current = _with_tail(found, runs[0], region) or current
        if current is not None:
            corrected, found = found is not None, current
    if found is None:
        return None
    value = phonenumbers.format_number(found.number, phonenumbers.PhoneNumberFormat.E164)
    confidence = found.confidence - (0.1 if corrected else 0.0)
    return build_result(value, confidence, _readback(found.number, region, lang))
