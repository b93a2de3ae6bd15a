"""Absolute date forms: a month name with a day, numeric dates, and what a segment read.

The rules are :mod:`core.capture.dates`'s: a month name with a day before or after it
("March 3rd", "the third of March", "el tres de marzo de dos mil veintiséis", "3. März
2026"), its year in numerals or words ("twenty twenty six", "twenty oh six"); numeric
"3/4/2026" (month/day in English, day/month in es/fr/de). Without a year a date is the
next occurrence on or after the reference date.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import NamedTuple

from schemas.payloads import Language

from .calendar_words import MONTHS
from .date_relative import Item, nth_weekday
from .numwords import Number

_NUMERIC = re.compile(r"\b([0-9]{1,2})([/.-])([0-9]{1,2})(?:\2([0-9]{4}|[0-9]{2}))?\b")
_GLUE = frozenset(
    {",", "the", "of", "de", "del", "le", "el", "am", "den", "der", "dem", "on", "im"}
)
_YEAR_GLUE = frozenset({",", "of", "de", "del", "in", "en", "im"})


class Reading(NamedTuple):
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


def absolute(day: int, month: int, year: int | None, ref: dt.date, conf: float) -> Reading:
    if year is None:
        found = _on_or_after(day, month, ref) if 1 <= month <= 12 else None
        if found is None:
            return Reading("invalid")
        return Reading("date", found[0], min(conf, found[1]), month, None, day)
    try:
        return Reading("date", dt.date(year, month, day), conf, month, year, day)
    except ValueError:
        return Reading("invalid")


def day_number(item: Item | None) -> int | None:
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
    return day_number(items[j] if 0 <= j < len(items) else None), j


def month_name(items: Sequence[Item], lang: Language, ref: dt.date) -> Reading | None:
    found: Reading | None = None
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
            found = Reading("date", nth, 0.9) if nth else found
            continue
        year = _year_at(items, after_at + 1 if day == after else i + 1)
        found = absolute(day, month, year, ref, 0.95)
    return found


def numeric(text: str, lang: Language, ref: dt.date) -> Reading | None:
    found: Reading | None = None
    for first, sep, second, year_text in _NUMERIC.findall(text):
        if sep == "-" and not year_text:
            continue  # "3-4" is a range or part of a phone number, not a date
        day, month = (int(second), int(first)) if lang == "en" else (int(first), int(second))
        year = int(year_text) + (2000 if len(year_text) == 2 else 0) if year_text else None
        ambiguous = lang == "en" and day <= 12 and day != month
        reading = absolute(day, month, year, ref, 0.8 if ambiguous else 0.95)
        found = reading if reading.kind == "date" else found  # "10.30" is a time, not a date
    return found
