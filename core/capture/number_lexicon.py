"""Number words per language (folded), tagged with how they combine.

Kinds: ``unit`` 0–9, ``whole`` a complete 10–19 (and Spanish "veintiséis"-style words),
``tens`` 20–90, ``hundreds`` a complete Spanish hundred ("ochocientos"), ``hundred`` and
``thousand`` multipliers, ``and`` connectors ("y", "et", "und"), ``repeat`` ("double").
Ordinal forms carry ``ordinal=True`` and are only read when dates ask for them.
"""

from __future__ import annotations

from schemas.payloads import Language

Entry = tuple[str, int, bool]


def _words(
    kind: str, words: str, start: int, step: int = 1, ordinal: bool = False
) -> dict[str, Entry]:
    return {word: (kind, start + i * step, ordinal) for i, word in enumerate(words.split())}


def _single(kind: str, value: int, words: str, ordinal: bool = False) -> dict[str, Entry]:
    return {word: (kind, value, ordinal) for word in words.split()}


LEXICON: dict[Language, dict[str, Entry]] = {
    "en": {
        **_words("unit", "zero one two three four five six seven eight nine", 0),
        **_words("whole", "ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
                 "eighteen nineteen", 10),
        **_words("tens", "twenty thirty forty fifty sixty seventy eighty ninety", 20, 10),
        **_single("tens", 40, "fourty"),
        **_words("unit", "first second third fourth fifth sixth seventh eighth ninth", 1,
                 ordinal=True),
        **_words("whole", "tenth eleventh twelfth thirteenth fourteenth fifteenth sixteenth "
                 "seventeenth eighteenth nineteenth", 10, ordinal=True),
        **_words("tens", "twentieth thirtieth", 20, 10, ordinal=True),
        **_single("hundred", 100, "hundred"), **_single("thousand", 1000, "thousand"),
        **_single("and", 0, "and"), **_single("repeat", 2, "double"),
        **_single("repeat", 3, "triple"),
    },
    "es": {
        **_words("unit", "cero uno dos tres cuatro cinco seis siete ocho nueve", 0),
        **_single("unit", 1, "un una"),
        **_words("whole", "diez once doce trece catorce quince dieciseis diecisiete dieciocho "
                 "diecinueve", 10),
        **_words("whole", "veintiuno veintidos veintitres veinticuatro veinticinco veintiseis "
                 "veintisiete veintiocho veintinueve", 21),
        **_single("whole", 21, "veintiun veintiuna"),
        **_words("tens", "veinte treinta cuarenta cincuenta sesenta setenta ochenta noventa",
                 20, 10),
        **_single("hundreds", 100, "cien ciento"),
        **_words("hundreds", "doscientos trescientos cuatrocientos quinientos seiscientos "
                 "setecientos ochocientos novecientos", 200, 100),
        **_words("hundreds", "doscientas trescientas cuatrocientas quinientas seiscientas "
                 "setecientas ochocientas novecientas", 200, 100),
        **_single("thousand", 1000, "mil"), **_single("and", 0, "y"),
        **_single("repeat", 2, "doble"), **_single("repeat", 3, "triple"),
        **_single("unit", 1, "primero primer primera", ordinal=True),
        **_words("unit", "segundo tercero cuarto quinto", 2, ordinal=True),
        **_words("unit", "segunda tercera cuarta quinta", 2, ordinal=True),
        **_single("unit", 3, "tercer", ordinal=True),
    },
    "fr": {
        **_words("unit", "zero un deux trois quatre cinq six sept huit neuf", 0),
        **_single("unit", 1, "une"),
        **_words("whole", "dix onze douze treize quatorze quinze seize", 10),
        **_words("tens", "vingt trente quarante cinquante soixante septante huitante nonante",
                 20, 10),
        **_single("tens", 20, "vingts"), **_single("tens", 80, "octante"),
        **_single("hundred", 100, "cent cents"), **_single("thousand", 1000, "mille mil"),
        **_single("and", 0, "et"), **_single("repeat", 2, "double"),
        **_single("repeat", 3, "triple"),
        **_single("unit", 1, "premier premiere", ordinal=True),
        **_words("unit", "deuxieme troisieme quatrieme cinquieme", 2, ordinal=True),
        **_single("unit", 2, "second seconde", ordinal=True),
    },
    "de": {
        **_words("unit", "null eins zwei drei vier funf sechs sieben acht neun", 0),
        **_single("unit", 1, "ein eine einer einem einen"), **_single("unit", 2, "zwo"),
        **_single("unit", 5, "fuenf"),
        **_words("whole", "zehn elf zwolf dreizehn vierzehn funfzehn sechzehn siebzehn "
                 "achtzehn neunzehn", 10),
        **_single("whole", 12, "zwoelf"), **_single("whole", 15, "fuenfzehn"),
        **_words("tens", "zwanzig dreissig vierzig funfzig sechzig siebzig achtzig neunzig",
                 20, 10),
        **_single("tens", 50, "fuenfzig"),
        **_single("hundred", 100, "hundert"), **_single("thousand", 1000, "tausend"),
        **_single("and", 0, "und"), **_single("repeat", 2, "doppel doppelt"),
    },
}
