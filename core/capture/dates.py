"""capture_date: a calendar date from a transcript, as ISO ``YYYY-MM-DD``.

Rules
-----
* ``reference_date`` (default: today in UTC) anchors relative expressions; see
  :mod:`core.capture.date_relative` for "tomorrow", "in two weeks", "next Friday"...
* Absolute forms: "2026-03-03"; a month name with a day before or after it ("March 3rd",
  "the third of March", "March third twenty twenty six", "el tres de marzo de dos mil
  veintiséis", "le 1er mars", "am dritten März", "3. März 2026"); numeric "3/4/2026"
  (month/day in English, day/month in es/fr/de; "3.4." too). Years may be numerals,
  "twenty twenty six", "two thousand twenty six", "nineteen ninety nine".
* Without a year, the date is the next occurrence on or after ``reference_date``.
* A day alone needs an article: "the 15th", "el quince", "le 15", "am fünfzehnten". With
  one month name in its segment that no day is attached to ("the 20th and August", as
  Whisper wrote "the twentieth of August") it is that month's, read back; else it is
  the next such day of a month ("the 3rd of next month": of the next month); after a
  self-correction it keeps the month said before ("March 3rd, no, the 4th" is March 4).
* "The day after"/"le lendemain"/"am Tag danach" after a correction shifts the date said
  before ("tomorrow, no, the day after"); alone it is no match.
* Precedence inside one segment: ISO > month name > numeric > relative expressions >
  day alone, except that a day alone beats a weekday said with it ("Friday the 13th").
  Across self-corrections, the last segment with a date wins.
* An impossible date ("February 30th") is no match, even if an earlier segment had a date:
  the caller's last word was a date we cannot use.

Confidence: 0.97 ISO; 0.95 with an explicit year (0.8 for numeric English dates whose
month/day order is ambiguous); 0.9 without a year when it falls in the reference year,
0.8 when it rolls over to the next year; relative expressions 0.9–0.95, "next/last
<weekday>" 0.75; "the day after" a corrected date 0.8; a day alone 0.7 (0.9 with a
matching weekday, 0.75 when it inherits a corrected month); −0.1 after a
self-correction; at most 0.5 when a weekday said alongside does not match the date, 0.7
when another day of month is said alongside ("15th on May 12th").
needs_confirmation when confidence < 0.85.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import NamedTuple

from schemas.payloads import CaptureResult, Language

from .calendar_words import MONTHS, join_split_months, spoken_date
from .common import build_result, check_language, check_transcript
from .date_relative import (
    Item,
    add_months,
    day_shift,
    nth_weekday,
    relative_date,
    weekday_in,
)
from .numwords import Number, read_numbers
from .text import drop_fillers, find_phrases, phrase_table, prepare, split_corrections, tokenize

_ISO = re.compile(r"\b([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})\b")
_NUMERIC = re.compile(r"\b([0-9]{1,2})([/.-])([0-9]{1,2})(?:\2([0-9]{4}|[0-9]{2}))?\b")
_GLUE = frozenset(
    {",", "the", "of", "de", "del", "le", "el", "am", "den", "der", "dem", "on", "im"}
)
_OTHER_DAY = 0.7  # another day of month said in the same breath: read the date back
_YEAR_GLUE = frozenset({",", "of", "de", "del", "in", "en", "im"})
_NEXT_MONTH = {
    lang: phrase_table(dict.fromkeys(phrases, 1))
    for lang, phrases in {
        "en": ("of next month", "next month"),
        "es": ("del mes que viene", "del proximo mes", "del mes proximo"),
        "fr": ("du mois prochain",),
        "de": ("nachsten monats", "im nachsten monat", "des nachsten monats"),
    }.items()
}
_DAY_ARTICLES: dict[Language, frozenset[str]] = {
    "en": frozenset({"the"}),
    "es": frozenset({"el", "dia"}),
    "fr": frozenset({"le"}),
    "de": frozenset({"am", "den", "der", "zum", "ab"}),
}


class _Reading(NamedTuple):
    """What one segment says: a date, a day of month alone, or an impossible date."""

    kind: str  # "date" | "day" | "shift" | "invalid"
    date: dt.date | None = None
    confidence: float = 0.0
    month: int = 0
    year: int | None = None
    day: int = 0


def _on_or_after(day: int, month: int, ref: dt.date) -> tuple[dt.date, float] | None:
    for year in range(ref.year, ref.year + 9):  # 9 years always include a Feb 29
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            continue
        if candidate >= ref:
            return candidate, 0.9 if year == ref.year else 0.8
    return None


def _absolute(day: int, month: int, year: int | None, ref: dt.date, conf: float) -> _Reading:
    if year is None:
        found = _on_or_after(day, month, ref) if 1 <= month <= 12 else None
        if found is None:
            return _Reading("invalid")
        return _Reading("date", found[0], min(conf, found[1]), month, None, day)
    try:
        return _Reading("date", dt.date(year, month, day), conf, month, year, day)
    except ValueError:
        return _Reading("invalid")


def _day_number(item: Item | None) -> int | None:
    if isinstance(item, Number) and len(item.digits) <= 2 and 1 <= item.value <= 31:
        return item.value
    return None


def _year_at(items: Sequence[Item], i: int) -> int | None:
    while i < len(items) and items[i] in _YEAR_GLUE:
        i += 1
    head = items[i] if i < len(items) else None
    if not isinstance(head, Number) or head.ordinal:
        return None
    if len(head.digits) == 4 and 1900 <= head.value <= 2199:
        return head.value
    tail = items[i + 1 : i + 3]
    if not 19 <= head.value <= 21 or not tail or not isinstance(tail[0], Number):
        return None
    if 10 <= tail[0].value <= 99:  # "twenty twenty six", "nineteen ninety nine"
        return head.value * 100 + tail[0].value
    if tail[0].digits == "0" and len(tail) == 2 and isinstance(tail[1], Number):
        return head.value * 100 + tail[1].value if tail[1].value <= 9 else None  # "twenty oh six"
    return None


def _near(items: Sequence[Item], i: int, step: int) -> tuple[int | None, int]:
    """The day number next to position ``i`` in direction ``step`` (skipping articles)."""
    j = i + step
    while 0 <= j < len(items) and items[j] in _GLUE and abs(j - i) < 3:
        j += step
    return _day_number(items[j] if 0 <= j < len(items) else None), j


def _month_name(items: Sequence[Item], lang: Language, ref: dt.date) -> _Reading | None:
    found: _Reading | None = None
    for i, item in enumerate(items):
        month = MONTHS[lang].get(item) if isinstance(item, str) else None
        if month is None:
            continue
        after, after_at = _near(items, i, 1)
        before, _ = _near(items, i, -1)
        linked = i > 0 and items[i - 1] in ("of", "de", "del")  # "the fifth of May 2026"
        day = (after or before) if lang == "en" and not linked else (before or after)
        if day is None:
            nth = nth_weekday(items, lang, i, month, ref)
            found = _Reading("date", nth, 0.9) if nth else found
            continue
        year = _year_at(items, after_at + 1 if day == after else i + 1)
        found = _absolute(day, month, year, ref, 0.95)
    return found


def _numeric(text: str, lang: Language, ref: dt.date) -> _Reading | None:
    found: _Reading | None = None
    for first, sep, second, year_text in _NUMERIC.findall(text):
        if sep == "-" and not year_text:
            continue  # "3-4" is a range or part of a phone number, not a date
        day, month = (int(second), int(first)) if lang == "en" else (int(first), int(second))
        year = int(year_text) + (2000 if len(year_text) == 2 else 0) if year_text else None
        ambiguous = lang == "en" and day <= 12 and day != month
        reading = _absolute(day, month, year, ref, 0.8 if ambiguous else 0.95)
        found = reading if reading.kind == "date" else found  # "10.30" is a time, not a date
    return found


def _day_alone(items: Sequence[Item], lang: Language) -> tuple[int, int] | None:
    """(day, months ahead) for "the 15th" (0) or "the 3rd of next month" (1)."""
    found = None
    for i, item in enumerate(items[1:], start=1):
        value = _day_number(item)
        ordinal_ok = isinstance(item, Number) and (item.ordinal or lang in ("es", "fr"))
        if value and items[i - 1] in _DAY_ARTICLES[lang] and ordinal_ok:
            words = [w if isinstance(w, str) else "" for w in items[i + 1 : i + 5]]
            ahead = any(start == 0 for start, _, _ in find_phrases(words, _NEXT_MONTH[lang]))
            found = value, int(ahead)
    return found


def _next_day_of_month(day: int, ref: dt.date, ahead: int) -> dt.date | None:
    if ahead:
        try:
            return add_months(ref.replace(day=1), ahead).replace(day=day)
        except ValueError:
            return None
    for months in range(13):
        start = add_months(ref.replace(day=1), months)
        try:
            candidate = start.replace(day=day)
        except ValueError:
            continue
        if candidate >= ref:
            return candidate
    return None


def _read_segment(text: str, lang: Language, ref: dt.date) -> _Reading | None:
    if iso := _ISO.search(text):
        year, month, day = (int(g) for g in iso.groups())
        return _absolute(day, month, year, ref, 0.97)
    # Commas keep "March twenty, twenty twenty six" apart; "este" is "this", not a filler.
    tokens = drop_fillers(join_split_months(tokenize(text, keep=","), lang), lang,
                          keep=frozenset({"este"}))
    items = read_numbers(tokens, lang, ordinals=True, oh_zero=True)
    weekday = weekday_in(items, lang)
    reading = _month_name(items, lang, ref) or _numeric(text, lang, ref)
    if reading is None:
        reading = _with_loose_month(_relative_or_day(items, lang, ref), items, lang, ref)
    if reading is None and (shift := day_shift(items, lang)) is not None:
        return _Reading("shift", None, 0.8, day=shift)
    if reading and reading.date and weekday is not None and reading.date.weekday() != weekday:
        reading = reading._replace(confidence=min(reading.confidence, 0.5))
    if reading and reading.day and _other_days(items, reading.day):
        reading = reading._replace(confidence=min(reading.confidence, _OTHER_DAY))
    return reading


def _with_loose_month(reading: _Reading | None, items: Sequence[Item], lang: Language,
                      ref: dt.date) -> _Reading | None:
    """A day alone beside one loose month name ("the 20th and August"): that month's."""
    months = {MONTHS[lang][i] for i in items if isinstance(i, str) and i in MONTHS[lang]}
    if reading is None or reading.kind != "day" or len(months) != 1:
        return reading
    return _absolute(reading.day, months.pop(), None, ref, _OTHER_DAY)


def _other_days(items: Sequence[Item], day: int) -> bool:
    """Whether another day of month ("15th") was said beside the date read: "15th on May
    12th" is a mishearing or two dates, not one sure date."""
    return any(isinstance(i, Number) and i.ordinal and 1 <= i.value <= 31 and i.value != day
               for i in items)


def _relative_or_day(items: Sequence[Item], lang: Language, ref: dt.date) -> _Reading | None:
    """Relative expressions, else a day alone. "Friday the 13th" is the 13th (more specific
    than the weekday), confirmed by the weekday when it matches."""
    hit = relative_date(items, lang, ref)
    alone = _day_alone(items, lang)
    if hit and not (hit.weekday and alone):
        return _Reading("date", hit.date, hit.confidence)
    if alone is None:
        return None
    day, ahead = alone
    found = _next_day_of_month(day, ref, ahead)
    if ahead:
        return _Reading("date", found, 0.9) if found else _Reading("invalid")
    if hit and found and found.weekday() == hit.date.weekday():
        return _Reading("day", found, 0.9, day=day)
    return _Reading("day", found, 0.7, day=day)


def _resolve(readings: Sequence[_Reading | None], ref: dt.date) -> tuple[dt.date, float] | None:
    said = [r for r in readings if r is not None]
    if not said or said[-1].kind == "invalid":
        return None
    last, earlier = said[-1], said[:-1]
    penalty = 0.1 if earlier else 0.0
    dated = [r.date for r in earlier if r.date]
    if last.kind == "shift" and dated:  # "tomorrow, no, the day after"
        last = last._replace(date=dated[-1] + dt.timedelta(days=last.day), confidence=0.9)
    months = [r for r in earlier if r.month]
    if last.kind == "day" and months:
        found = _absolute(last.day, months[-1].month, months[-1].year, ref, 0.85)
        last = found if found.kind == "date" else last
    if last.date is None:
        return None
    return last.date, last.confidence - penalty


def _check_reference(reference_date: object) -> dt.date:
    if reference_date is None:
        return dt.datetime.now(dt.UTC).date()
    if isinstance(reference_date, dt.datetime):
        reference_date = reference_date.date()
    if not isinstance(reference_date, dt.date):
        kind = type(reference_date).__name__
        raise ValueError(f"reference_date must be a datetime.date, not {kind}")
    if not 2 <= reference_date.year <= 9980:  # keeps "in 10 years" etc. inside date's range
        raise ValueError(f"reference_date {reference_date} is outside years 2-9980")
    return reference_date


def capture_date(
    transcript: str, language: Language = "en", reference_date: dt.date | None = None
) -> CaptureResult | None:
    """The date in ``transcript`` (ISO), resolved against ``reference_date``; None if none."""
    lang = check_language(language)
    text = prepare(check_transcript(transcript), lang)
    ref = _check_reference(reference_date)
    segments = split_corrections(text, lang, bare_no="always")
    found = _resolve([_read_segment(s, lang, ref) for s in segments], ref)
    if found is None:
        return None
    return build_result(found[0].isoformat(), found[1], spoken_date(found[0], lang))
