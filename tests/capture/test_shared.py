"""The shared normalisation: folding, fillers, correction segments and number words."""

from __future__ import annotations

import pytest

from core.capture.numwords import Number, read_numbers
from core.capture.text import drop_fillers, fold, prepare, split_corrections, tokenize
from schemas.payloads import Language


def _values(text: str, lang: Language, **flags: bool) -> list[int | str]:
    items = read_numbers(tokenize(prepare(text, lang)), lang, **flags)
    return [i.value if isinstance(i, Number) else i for i in items]


@pytest.mark.parametrize(
    ("text", "folded"),
    [("Mañana", "manana"), ("Straße", "strasse"), ("FÜNF", "funf"), ("ﬁve", "five"),
     ("l’adresse", "l'adresse"), ("a\x00b", "a b")],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_english_contractions_are_expanded_with_or_without_apostrophe() -> None:
    assert prepare("That's right, I don't", "en") == "that is right, i do not"
    assert prepare("thats right isnt it", "en") == "that is right is not it"
    assert prepare("c'est d'accord", "fr") == "c est d accord"


def test_fillers_are_dropped_per_language() -> None:
    assert drop_fillers(["um", "john", "uh"], "en") == ["john"]
    assert drop_fillers(["euh", "jean"], "fr") == ["jean"]
    assert drop_fillers(["ah", "max"], "de") == ["max"]  # folded "äh"
    assert drop_fillers(["este", "viernes"], "es", keep=frozenset({"este"})) == ["este", "viernes"]


@pytest.mark.parametrize(
    ("lang", "text", "segments"),
    [
        ("en", "john, no wait, jane", 2),
        ("en", "i mean it's 4", 2),
        ("es", "lunes, perdón, martes", 2),
        ("es", "lunes no espera martes", 2),
        ("fr", "lundi, je veux dire mardi", 2),
        ("de", "Montag, ich meine Dienstag", 2),
        ("de", "Montag, Entschuldigung, Dienstag", 2),
    ],
)
def test_correction_markers_split(lang: Language, text: str, segments: int) -> None:
    assert len(split_corrections(prepare(text, lang), lang)) == segments


def test_bare_no_splits_only_when_asked() -> None:
    text = prepare("four one five no four one six", "en")
    assert len(split_corrections(text, "en", "never")) == 1
    assert len(split_corrections(text, "en", "always")) == 2
    assert len(split_corrections("no reply at shop dot com", "en", "punctuated")) == 1
    assert len(split_corrections("john at x dot com, no, jane", "en", "punctuated")) == 2


@pytest.mark.parametrize(
    ("lang", "text", "values"),
    [
        ("en", "fifty five", [55]),
        ("en", "five hundred fifty five", [555]),
        ("en", "eight hundred five five five", [800, 5, 5, 5]),
        ("en", "two thousand and six", [2006]),
        ("en", "twenty twenty six", [20, 26]),
        ("en", "nineteen hundred ninety nine", [1999]),
        ("en", "double five triple two", [55, 222]),
        ("es", "cincuenta y cinco", [55]),
        ("es", "veintiséis", [26]),
        ("es", "ochocientos", [800]),
        ("es", "dos mil veintiséis", [2026]),
        ("es", "ciento veinte", [120]),
        ("fr", "soixante-dix-huit", [78]),
        ("fr", "soixante et onze", [71]),
        ("fr", "quatre-vingts", [80]),
        ("fr", "quatre-vingt-onze", [91]),
        ("fr", "quatre-vingt-dix-neuf", [99]),
        ("fr", "vingt et un", [21]),
        ("fr", "septante-deux nonante", [72, 90]),
        ("fr", "deux mille vingt-six", [2026]),
        ("de", "fünfundfünfzig", [55]),
        ("de", "vierunddreißig", [34]),
        ("de", "achthundert", [800]),
        ("de", "zweitausendsechsundzwanzig", [2026]),
        ("de", "neunzehnhundertneunundneunzig", [1999]),
        ("de", "zwo null", [2, 0]),
    ],
)
def test_cardinals(lang: Language, text: str, values: list[int]) -> None:
    assert _values(text, lang) == values


def test_ordinals_only_when_asked() -> None:
    assert _values("the second one", "en") == ["the", "second", 1]
    items = read_numbers(tokenize("twenty first 3rd"), "en", ordinals=True)
    assert items == [Number(21, "21", True), Number(3, "3", True)]
    german = read_numbers(["dritten", "einundzwanzigsten", "ersten", "achten"], "de", ordinals=True)
    assert [i.value for i in german if isinstance(i, Number)] == [3, 21, 1, 8]


def test_oh_and_homophones_are_digits_only_next_to_numbers() -> None:
    assert _values("oh it's four oh five", "en", oh_zero=True) == ["oh", "it", "is", 4, 0, 5]
    assert _values("for one five", "en", homophones=True) == [4, 1, 5]
    words = ["looking", "for", "a", "number"]
    assert _values("looking for a number", "en", homophones=True) == words


def test_numerals_keep_their_leading_zeros() -> None:
    items = read_numbers(["0612", "007"], "fr")
    assert [i.digits for i in items if isinstance(i, Number)] == ["0612", "007"]
