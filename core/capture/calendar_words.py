"""Month and weekday names per language: folded forms for parsing, spelled forms for readback.

Our own tables, so readback never depends on the host's locale settings.
"""

from __future__ import annotations

import datetime as dt

from schemas.payloads import Language

from .text import fold

_MONTH_NAMES: dict[Language, tuple[str, ...]] = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
           "septiembre", "octubre", "noviembre", "diciembre"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"),
    "de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
           "September", "Oktober", "November", "Dezember"),
}
_WEEKDAY_NAMES: dict[Language, tuple[str, ...]] = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
}
_MONTH_ALIASES: dict[Language, dict[str, int]] = {
    "en": {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
           "sept": 9, "oct": 10, "nov": 11, "dec": 12},
    "es": {"setiembre": 9},
    "fr": {"fev": 2, "sept": 9},
    "de": {"janner": 1, "maerz": 3},
}
_WEEKDAY_ALIASES: dict[Language, dict[str, int]] = {
    "en": {}, "es": {}, "fr": {}, "de": {"sonnabend": 5},
}

MONTHS: dict[Language, dict[str, int]] = {
    lang: {fold(name): i + 1 for i, name in enumerate(names)} | _MONTH_ALIASES[lang]
    for lang, names in _MONTH_NAMES.items()
}
WEEKDAYS: dict[Language, dict[str, int]] = {
    lang: {fold(name): i for i, name in enumerate(names)} | _WEEKDAY_ALIASES[lang]
    for lang, names in _WEEKDAY_NAMES.items()
}


_SPLIT_MONTHS: dict[Language, dict[tuple[str, str], str]] = {
    "en": {("except", "ember"): "september", ("sept", "ember"): "september",
           ("set", "ember"): "september"},
}
"""A month name a recognizer wrote as two words (Whisper tiny.en: "Except Ember 5th")."""


def join_split_months(tokens: list[str], lang: Language) -> list[str]:
    """``tokens`` with a month name written as two words (:data:`_SPLIT_MONTHS`) joined."""
    splits = _SPLIT_MONTHS.get(lang)
    if not splits:
        return tokens
    joined: list[str] = []
    for token in tokens:
        month = splits.get((joined[-1], token)) if joined else None
        if month is not None:
            joined[-1] = month
        else:
            joined.append(token)
    return joined


def spoken_date(day: dt.date, language: Language) -> str:
    """The date as a TTS engine should say it: "Tuesday, March 3, 2026", "mardi 3 mars 2026"."""
    weekday = _WEEKDAY_NAMES[language][day.weekday()]
    month = _MONTH_NAMES[language][day.month - 1]
    if language == "en":
        return f"{weekday}, {month} {day.day}, {day.year}"
    if language == "es":
        return f"{weekday} {day.day} de {month} de {day.year}"
    if language == "fr":
        number = "1er" if day.day == 1 else str(day.day)  # French says "le premier", not "un"
        return f"{weekday} {number} {month} {day.year}"
    return f"{weekday}, {day.day}. {month} {day.year}"
