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

from schemas.payloads import CaptureResult, Language

from .calendar_words import MONTHS, join_split_months, spoken_date
from .common import build_result, check_language, check_transcript
from .date_absolute import Reading, absolute, day_number, month_name, numeric
from .date_relative import (
    Item,
    add_months,
    day_shift,
    relative_date,
    weekday_in,
)
from .numwords import Number, read_numbers
from .text import drop_fillers, find_phrases, phrase_table, prepare, split_corrections, tokenize

_ISO = re.compile(r"\b([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})\b")
_OTHER_DAY = 0.7  # another day of month said in the same breath: read the date back
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


def _day_alone(items: Sequence[Item], lang: Language) -> tuple[int, int] | None:
    """(day, months ahead) for "the 15th" (0) or "the 3rd of next month" (1)."""
    found = None
    for i, item in enumerate(items[1:], start=1):
        value = day_number(item)
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


def _read_segment(text: str, lang: Language, ref: dt.date) -> Reading | None:
    if iso := _ISO.search(text):
        year, month, day = (int(g) for g in iso.groups())
        return absolute(day, month, year, ref, 0.97)
    # Commas keep "March twenty, twenty twenty six" apart; "este" is "this", not a filler.
    tokens = drop_fillers(join_split_months(tokenize(text, keep=","), lang), lang,
                          keep=frozenset({"este"}))
    items = read_numbers(tokens, lang, ordinals=True, oh_zero=True)
    weekday = weekday_in(items, lang)
    reading = month_name(items, lang, ref) or numeric(text, lang, ref)
    if reading is None:
        reading = _with_loose_month(_relative_or_day(items, lang, ref), items, lang, ref)
    if reading is None and (shift := day_shift(items, lang)) is not None:
        return Reading("shift", None, 0.8, day=shift)
    if reading and reading.date and weekday is not None and reading.date.weekday() != weekday:
        reading = reading._replace(confidence=min(reading.confidence, 0.5))
    if reading and reading.day and _other_days(items, reading.day):
        reading = reading._replace(confidence=min(reading.confidence, _OTHER_DAY))
    return reading


def _with_loose_month(reading: Reading | None, items: Sequence[Item], lang: Language,
                      ref: dt.date) -> Reading | None:
    """A day alone beside one loose month name ("the 20th and August"): that month's."""
    months = {MONTHS[lang][i] for i in items if isinstance(i, str) and i in MONTHS[lang]}
    if reading is None or reading.kind != "day" or len(months) != 1:
        return reading
    return absolute(reading.day, months.pop(), None, ref, _OTHER_DAY)


def _other_days(items: Sequence[Item], day: int) -> bool:
    """Whether another day of month ("15th") was said beside the date read: "15th on May
    12th" is a mishearing or two dates, not one sure date."""
    return any(isinstance(i, Number) and i.ordinal and 1 <= i.value <= 31 and i.value != day
               for i in items)


def _relative_or_day(items: Sequence[Item], lang: Language, ref: dt.date) -> Reading | None:
    """Relative expressions, else a day alone. "Friday the 13th" is the 13th (more specific
    than the weekday), confirmed by the weekday when it matches."""
    hit = relative_date(items, lang, ref)
    alone = _day_alone(items, lang)
    if hit and not (hit.weekday and alone):
        return Reading("date", hit.date, hit.confidence)
    if alone is None:
        return None
    day, ahead = alone
    found = _next_day_of_month(day, ref, ahead)
    if ahead:
        return Reading("date", found, 0.9) if found else Reading("invalid")
    if hit and found and found.weekday() == hit.date.weekday():
        return Reading("day", found, 0.9, day=day)
    return Reading("day", found, 0.7, day=day)


def _resolve(readings: Sequence[Reading | None], ref: dt.date) -> tuple[dt.date, float] | None:
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
        found = absolute(last.day, months[-1].month, months[-1].year, ref, 0.85)
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
