"""Relative date expressions: "tomorrow", "in two weeks", "next Friday", and their es/fr/de forms.

Rules (``ref`` is the reference date)
-------------------------------------
* today/tomorrow/day after tomorrow/yesterday/day before yesterday and their translations
  (hoy, mañana, pasado mañana, ayer; aujourd'hui, demain, après-demain, hier; heute,
  morgen, übermorgen, gestern...). "la mañana"/"esta mañana" and "guten/heute Morgen"
  mean the morning, not tomorrow.
* "in N days/weeks/months" (en "in", "from now", "later"; es "en", "dentro de"; fr "dans";
  de "in"). French "dans huit jours"/"dans quinze jours" are the idioms for one/two weeks.
  Months keep the day of month, clamped to the month's length.
* Weekdays: a bare or "on" weekday ("Friday", "el viernes", "vendredi", "am Freitag") is
  the first one strictly after ``ref``; "this" (este, ce, diesen) is the first on or after
  ``ref``; "next" (próximo/que viene, prochain, nächsten/kommenden) is the first strictly
  after ``ref`` too, but at lower confidence because people split on whether "next Friday"
  said on a Monday means 4 or 11 days ahead, so the agent should read the date back;
  "last" (pasado, dernier, letzten) is the most recent one strictly before ``ref``;
  "übernächsten" is a week after "nächsten".
* "the second Tuesday of April" (el segundo martes de abril, le deuxième mardi d'avril, am
  zweiten Dienstag im April), "the last Friday of March": in the next such month on or
  after ``ref``.
* When several expressions occur, the last one spoken wins.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

from schemas.payloads import Language

from .calendar_words import WEEKDAYS
from .numwords import Number
from .text import find_phrases, phrase_table

Item = Number | str


class Hit(NamedTuple):
    """A date found in the transcript, with where it ended (for "last one wins")."""

    position: int
    date: dt.date
    confidence: float
    weekday: bool = False
    """Whether it came from a weekday name (a day of month said with it is more specific)."""


_RELATIVE = {
    lang: phrase_table(entries)
    for lang, entries in {
        "en": {"today": 0, "tonight": 0, "tomorrow": 1, "day after tomorrow": 2,
               "yesterday": -1, "day before yesterday": -2},
        "es": {"hoy": 0, "manana": 1, "pasado manana": 2, "ayer": -1, "anteayer": -2,
               "antier": -2, "antes de ayer": -2},
        "fr": {"aujourd hui": 0, "ce soir": 0, "demain": 1, "apres demain": 2, "hier": -1,
               "avant hier": -2},
        "de": {"heute": 0, "morgen": 1, "ubermorgen": 2, "gestern": -1, "vorgestern": -2},
    }.items()
}
_MORNING_CONTEXT = {"manana": {"la", "esta", "por"}, "morgen": {"guten", "am", "heute", "jeden"}}
_UNITS: dict[Language, dict[str, tuple[int, int]]] = {  # word -> (days, months)
    "en": {"day": (1, 0), "days": (1, 0), "week": (7, 0), "weeks": (7, 0),
           "fortnight": (14, 0), "month": (0, 1), "months": (0, 1)},
    "es": {"dia": (1, 0), "dias": (1, 0), "semana": (7, 0), "semanas": (7, 0),
           "mes": (0, 1), "meses": (0, 1)},
    "fr": {"jour": (1, 0), "jours": (1, 0), "semaine": (7, 0), "semaines": (7, 0),
           "mois": (0, 1)},
    "de": {"tag": (1, 0), "tage": (1, 0), "tagen": (1, 0), "woche": (7, 0), "wochen": (7, 0),
           "monat": (0, 1), "monate": (0, 1), "monaten": (0, 1)},
}
_IN_BEFORE = {"en": {"in"}, "es": {"en", "dentro"}, "fr": {"dans", "ici"}, "de": {"in"}}
_IN_AFTER = {"en": {"from", "later"}, "es": {"despues"}, "fr": {"plus"}, "de": {"spater"}}
_ARTICLE_ONE = {"a", "an"}
_FROM = {"now": 0, "today": 0, "tomorrow": 1}
_FRENCH_WEEKS = {8: 7, 15: 14}  # "dans huit jours" is a week, "dans quinze jours" two

_NEXT, _THIS, _LAST, _AFTER_NEXT = "next", "this", "last", "after next"
_BEFORE_WEEKDAY: dict[Language, dict[str, str]] = {
    "en": {"next": _NEXT, "coming": _NEXT, "this": _THIS, "last": _LAST, "past": _LAST},
    "es": {"proximo": _NEXT, "proxima": _NEXT, "este": _THIS, "esta": _THIS},
    "fr": {"ce": _THIS, "cette": _THIS},
    "de": {"nachsten": _NEXT, "nachster": _NEXT, "nachste": _NEXT, "kommenden": _NEXT,
           "kommender": _NEXT, "ubernachsten": _AFTER_NEXT, "ubernachster": _AFTER_NEXT,
           "diesen": _THIS, "dieser": _THIS, "diese": _THIS,
           "letzten": _LAST, "letzter": _LAST, "vergangenen": _LAST},
}
_AFTER_WEEKDAY: dict[Language, dict[str, str]] = {
    "en": {},
    "es": {"proximo": _NEXT, "que": _NEXT, "pasado": _LAST},
    "fr": {"prochain": _NEXT, "dernier": _LAST},
    "de": {},
}
_WEEKDAY_CONFIDENCE = {_NEXT: 0.75, _THIS: 0.9, _LAST: 0.75, _AFTER_NEXT: 0.75, "": 0.9}
_MAX_DAYS = 3660  # ten years: beyond that it is not a date anyone books over the phone


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months``, clamped to the last day of the target month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def _relative_words(items: Sequence[Item], lang: Language, ref: dt.date) -> list[Hit]:
    words = [i if isinstance(i, str) else "" for i in items]
    hits: list[Hit] = []
    for start, end, offset in find_phrases(words, _RELATIVE[lang]):
        guard = _MORNING_CONTEXT.get(words[start], set())
        if end - start == 1 and start > 0 and words[start - 1] in guard:
            continue  # "por la mañana", "heute Morgen": the morning, not tomorrow
        hits.append(Hit(end, ref + dt.timedelta(days=offset), 0.95))
    return hits


def _quantity(items: Sequence[Item], i: int) -> int | None:
    item = items[i] if 0 <= i < len(items) else None
    if isinstance(item, Number) and not item.ordinal:
        return item.value
    return 1 if item in _ARTICLE_ONE else None


def _in_units(items: Sequence[Item], lang: Language, ref: dt.date) -> list[Hit]:
    hits: list[Hit] = []
    for i, item in enumerate(items):
        unit = _UNITS[lang].get(item) if isinstance(item, str) else None
        count = _quantity(items, i - 1) if unit else None
        if unit is None or count is None:
            continue
        before = items[i - 2] if i >= 2 else ""
        if before == "de" and i >= 3:  # "dentro de tres días"
            before = items[i - 3]
        after = items[i + 1] if i + 1 < len(items) else ""
        if before not in _IN_BEFORE[lang] and after not in _IN_AFTER[lang]:
            continue
        if lang == "fr" and unit[0] == 1 and before == "dans":
            count = _FRENCH_WEEKS.get(count, count)
        days, months = unit[0] * count, unit[1] * count
        if days > _MAX_DAYS or months > _MAX_DAYS // 30:
            continue
        end, base = i + 1, ref
        if after == "from" and i + 2 < len(items):  # "a week from today/tomorrow"
            end, base = i + 3, ref + dt.timedelta(days=_FROM.get(str(items[i + 2]), 0))
        hits.append(Hit(end, add_months(base + dt.timedelta(days=days), months), 0.9))
    return hits


def _weekday_mode(items: Sequence[Item], i: int, lang: Language) -> str:
    prev = items[i - 1] if i >= 1 else ""
    if prev == "coming" and i >= 2 and items[i - 2] == "this":
        return _THIS  # "this coming Friday"
    if isinstance(prev, str) and prev in _BEFORE_WEEKDAY[lang]:
        return _BEFORE_WEEKDAY[lang][prev]
    nxt = items[i + 1] if i + 1 < len(items) else ""
    return _AFTER_WEEKDAY[lang].get(nxt, "") if isinstance(nxt, str) else ""


def weekday_in(items: Sequence[Item], lang: Language) -> int | None:
    """The last weekday named in ``items`` (0 = Monday), if any."""
    found = [WEEKDAYS[lang][i] for i in items if isinstance(i, str) and i in WEEKDAYS[lang]]
    return found[-1] if found else None


def _weekdays(items: Sequence[Item], lang: Language, ref: dt.date) -> list[Hit]:
    hits: list[Hit] = []
    for i, item in enumerate(items):
        if not isinstance(item, str) or item not in WEEKDAYS[lang]:
            continue
        mode = _weekday_mode(items, i, lang)
        ahead = (WEEKDAYS[lang][item] - ref.weekday()) % 7
        if mode == _LAST:
            delta = -((ref.weekday() - WEEKDAYS[lang][item]) % 7 or 7)
        else:
            delta = ahead if mode == _THIS else (ahead or 7) + (7 if mode == _AFTER_NEXT else 0)
        hits.append(Hit(i + 1, ref + dt.timedelta(days=delta), _WEEKDAY_CONFIDENCE[mode], True))
    return hits


_MONTH_LINKS = frozenset({"of", "in", "de", "d", "du", "im", "en"})
_LAST_WORDS = frozenset({"last", "ultimo", "dernier", "letzten"})


def nth_weekday(
    items: Sequence[Item], lang: Language, month_at: int, month: int, ref: dt.date
) -> dt.date | None:
    """The date of "the second Tuesday of April" (``items[month_at]`` is the month), on or
    after ``ref``."""
    if month_at < 3 or items[month_at - 1] not in _MONTH_LINKS:
        return None
    rank, weekday = items[month_at - 3], items[month_at - 2]
    day_names = WEEKDAYS[lang]
    if not isinstance(weekday, str) or weekday not in day_names:
        return None
    if rank in _LAST_WORDS:
        nth = -1
    elif isinstance(rank, Number) and rank.ordinal and 1 <= rank.value <= 5:
        nth = rank.value
    else:
        return None
    for year in range(ref.year, ref.year + 2):
        days = [d for d in range(1, calendar.monthrange(year, month)[1] + 1)
                if dt.date(year, month, d).weekday() == day_names[weekday]]
        if nth > len(days):
            return None
        found = dt.date(year, month, days[nth - 1 if nth > 0 else -1])
        if found >= ref:
            return found
    return None


_SHIFTS = {
    lang: phrase_table(entries)
    for lang, entries in {
        "en": {"the day after": 1, "the day before": -1, "a day later": 1, "a day earlier": -1},
        "es": {"el dia despues": 1, "el dia siguiente": 1, "al dia siguiente": 1,
               "el dia antes": -1, "un dia despues": 1, "un dia antes": -1},
        "fr": {"le lendemain": 1, "le jour d apres": 1, "la veille": -1, "le jour d avant": -1},
        "de": {"am tag danach": 1, "am tag darauf": 1, "tags darauf": 1, "am tag davor": -1,
               "einen tag spater": 1, "einen tag fruher": -1},
    }.items()
}


def day_shift(items: Sequence[Item], lang: Language) -> int | None:
    """Days that "the day after"/"le lendemain" shift a date said before by, if any."""
    words = [i if isinstance(i, str) else "" for i in items]
    hits = find_phrases(words, _SHIFTS[lang])
    return hits[-1][2] if hits else None


def relative_date(items: Sequence[Item], lang: Language, ref: dt.date) -> Hit | None:
    """The last relative expression in ``items``, resolved against ``ref``."""
    # On a tie ("a week from today" ends on "today") the first listed, the span, wins.
    hits = _in_units(items, lang, ref) + _relative_words(items, lang, ref)
    hits += _weekdays(items, lang, ref)
    return max(hits, key=lambda h: h.position, default=None)
