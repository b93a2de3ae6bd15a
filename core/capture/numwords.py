"""Number words → numbers, per language.

Rules
-----
* Cardinals up to 999 999 are read with their compounds: en "fifty five", "eight hundred",
  "two thousand twenty six"; es "cincuenta y cinco", "veintiséis", "ochocientos",
  "dos mil veintiséis"; fr "soixante-dix-huit", "quatre-vingt-onze", "vingt et un" (and
  Belgian/Swiss "septante", "nonante"); de "fünfundfünfzig", "achthundert",
  "zweitausendsechsundzwanzig" (one-word compounds are split into morphemes first).
* "double five" / "triple two" (es "doble", fr "double", de "doppel") repeat a digit.
* After "hundred" a lone unit starts a new number: "eight hundred five five five" is
  800 5 5 5, the way 1-800 numbers are read; tens, teens or "and" continue it
  ("five hundred fifty five" is 555).
* Ordinals ("third", "twenty first", "primero", "premier", "dritten", "3rd", "1er") are
  read only when asked for (dates): elsewhere "second" is just a word.
* English "oh"/"o" is zero only when asked for (phones, years) *and* next to another
  number, or between two numbers across commas ("five, oh, one" as STT writes a list of
  digits); "oh, it's four one five" starts with an interjection, not a zero. Phones also
  ask for the homophones STT writes for digits ("for one five", "two to two", and "fine"
  or "find" for a half-heard "five"), under the same next-to-a-number condition.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from schemas.payloads import Language

from .number_lexicon import LEXICON


class Number(NamedTuple):
    """A number read from the transcript."""

    value: int
    digits: str
    """The digits as spoken or written: "0612" keeps its leading zero, "double five" is "55"."""
    ordinal: bool = False


class _Atom(NamedTuple):
    kind: str  # unit whole tens hundreds hundred thousand and repeat numeral maybe
    value: int
    ordinal: bool
    text: str


_OH = {"oh": 0, "o": 0}
_HOMOPHONES = {"to": 2, "too": 2, "for": 4, "fore": 4, "won": 1, "ate": 8}
# What Whisper writes for a "five" or a "three" it half heard (synthetic or accented
# speech: "Bree 0 5 4 …" for Piper's "three zero five four …"): real words, so a phone
# number read with them is a guess to read back (see phones). Not "free": "toll free 1 800".
GUESSED_DIGITS = {"fine": 5, "find": 5, "tree": 3, "bree": 3, "pre": 3}
_NUMERIC_ORDINAL = re.compile(
    r"([0-9]{1,2})(?:st|nd|rd|th|er|re|e|eme|ieme|o|a|ro|ra|do|da|to|ta|vo|va|no|na|mo|ma|te|ten)"
)
# German ordinals are a cardinal stem plus -te/-ten/... (-ste from 20 on), with irregular
# stems for 1, 3, 7 and 8; longest suffixes are tried first.
_DE_ORDINAL_SUFFIXES = ("sten", "ster", "stes", "stem", "ste", "ten", "ter", "tes", "tem", "te")
_DE_ORDINAL_STEMS = {"ers": "eins", "er": "eins", "drit": "drei", "sieb": "sieben", "ach": "acht"}
_DE_MORPHEMES = sorted(
    (w for w, (kind, _, _) in LEXICON["de"].items() if kind != "repeat" and len(w) > 2),
    key=len,
    reverse=True,
)
_NUMBERISH = frozenset({"unit", "whole", "tens", "hundreds", "hundred", "thousand", "numeral"})


def _split_german(word: str) -> list[str] | None:
    """Split a compound like "sechsundzwanzig" into known morphemes (None if it is not one)."""
    if len(word) > 60:
        return None
    parts: list[list[str] | None] = [[]] + [None] * len(word)
    for i in range(len(word)):
        done = parts[i]
        if done is None:
            continue
        for morpheme in _DE_MORPHEMES:
            end = i + len(morpheme)
            if end <= len(word) and parts[end] is None and word.startswith(morpheme, i):
                parts[end] = [*done, morpheme]
    found = parts[len(word)]
    return found if found and len(found) > 1 else None


def _german_atoms(word: str, ordinals: bool) -> list[_Atom] | None:
    lexicon = LEXICON["de"]
    pieces = _split_german(word)
    if pieces is not None:
        return [_Atom(*lexicon[p], p) for p in pieces]
    if not ordinals:
        return None
    for suffix in _DE_ORDINAL_SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix):
            stem = word[: -len(suffix)]
            stem = _DE_ORDINAL_STEMS.get(stem, stem)
            atoms = [_Atom(*lexicon[stem], stem)] if stem in lexicon else _german_atoms(stem, False)
            if atoms and atoms[-1].kind != "and":
                return [*atoms[:-1], atoms[-1]._replace(ordinal=True)]
    return None


def _atoms_of(
    token: str, lang: Language, ordinals: bool, sounds: dict[str, int]
) -> list[_Atom] | None:
    if token.isascii() and token.isdigit():
        return [_Atom("numeral", int(token) if len(token) <= 9 else -1, False, token)]
    if token in sounds:
        return [_Atom("maybe", sounds[token], False, token)]
    entry = LEXICON[lang].get(token)
    if entry is not None:
        return [_Atom(*entry, token)] if ordinals or not entry[2] else None
    if ordinals and (match := _NUMERIC_ORDINAL.fullmatch(token)):
        return [_Atom("numeral", int(match[1]), True, match[1])]
    return _german_atoms(token, ordinals) if lang == "de" else None


def _kind(atoms: Sequence[_Atom | None], i: int) -> str:
    atom = atoms[i] if 0 <= i < len(atoms) else None
    return atom.kind if atom else ""


def _below_100(a: Sequence[_Atom | None], i: int, lang: Language) -> tuple[int, int, bool] | None:
    atom = a[i] if i < len(a) else None
    if atom is None:
        return None
    nxt = a[i + 1] if i + 1 < len(a) else None
    if atom.kind == "unit":
        if lang == "fr" and atom.value == 4 and nxt and nxt.kind == "tens" and nxt.value == 20:
            return _tens_tail(a, i + 2, 80, nxt.ordinal, lang)  # quatre-vingt(s)
        tens = a[i + 2] if _kind(a, i + 1) == "and" and _kind(a, i + 2) == "tens" else None
        if lang == "de" and atom.value > 0 and tens is not None:
            return tens.value + atom.value, i + 3, tens.ordinal  # einundzwanzig
        return atom.value, i + 1, atom.ordinal
    if atom.kind == "whole":
        if lang == "fr" and atom.value == 10 and nxt and nxt.kind == "unit" and 7 <= nxt.value <= 9:
            return 10 + nxt.value, i + 2, nxt.ordinal  # dix-sept
        return atom.value, i + 1, atom.ordinal
    if atom.kind == "tens":
        return _tens_tail(a, i + 1, atom.value, atom.ordinal, lang)
    return None


def _tens_tail(
    a: Sequence[_Atom | None], j: int, value: int, ordinal: bool, lang: Language
) -> tuple[int, int, bool]:
    if ordinal:
        return value, j, True
    k = j + 1 if _kind(a, j) == "and" else j  # "treinta y cuatro", "vingt et un"
    if lang == "fr" and value in (60, 80):  # soixante-dix-sept, quatre-vingt-onze
        teen = _below_100(a, k, lang)
        if teen and 10 <= teen[0] <= 19 and _kind(a, k) == "whole":
            return value + teen[0], teen[1], teen[2]
    nxt = a[k] if k < len(a) else None
    if nxt and nxt.kind == "unit" and nxt.value >= 1 and (k > j or lang in ("en", "fr")):
        return value + nxt.value, k + 1, nxt.ordinal
    return value, j, False


def _below_1000(a: Sequence[_Atom | None], i: int, lang: Language) -> tuple[int, int, bool] | None:
    kind = _kind(a, i)
    if kind in ("hundreds", "hundred"):  # "ochocientos", a bare "cent"/"hundert"
        atom = a[i]
        assert atom is not None
        return _hundred_tail(a, i + 1, atom.value, lang)
    low = _below_100(a, i, lang)
    if low and not low[2] and 1 <= low[0] <= 99 and _kind(a, low[1]) == "hundred":
        return _hundred_tail(a, low[1] + 1, low[0] * 100, lang)
    return low


def _hundred_tail(
    a: Sequence[_Atom | None], j: int, value: int, lang: Language
) -> tuple[int, int, bool]:
    k = j + 1 if _kind(a, j) == "and" else j
    rest = _below_100(a, k, lang)
    if rest and (k > j or rest[0] >= 10):
        return value + rest[0], rest[1], rest[2]
    return value, j, False


def _cardinal(a: Sequence[_Atom | None], i: int, lang: Language) -> tuple[Number, int] | None:
    atom = a[i]
    if atom is None or atom.kind == "and":
        return None
    if atom.kind == "numeral":
        return Number(atom.value, atom.text, atom.ordinal), i + 1
    if atom.kind == "repeat":  # "double five", "triple oh"
        nxt = a[i + 1] if i + 1 < len(a) else None
        if nxt is None or nxt.ordinal or nxt.kind not in ("unit", "numeral"):
            return None
        if nxt.kind == "numeral" and len(nxt.text) != 1:
            return None
        digits = str(nxt.value) * atom.value
        return Number(int(digits), digits), i + 2
    if atom.kind == "thousand":
        value, j = 1000, i + 1
    else:
        low = _below_1000(a, i, lang)
        if low is None:
            return None
        if low[2] or _kind(a, low[1]) != "thousand" or low[0] < 1:
            return Number(low[0], str(low[0]), low[2]), low[1]
        value, j = low[0] * 1000, low[1] + 1
    k = j + 1 if _kind(a, j) == "and" else j
    rest = _below_1000(a, k, lang)
    if rest:
        return Number(value + rest[0], str(value + rest[0]), rest[2]), rest[1]
    return Number(value, str(value)), j


def _settle(a: Sequence[_Atom | None], words: Sequence[str], i: int) -> _Atom | None:
    """A digit-like sound ("oh", "for") is a digit only next to another number, or between
    two numbers across the commas STT writes between digits ("five, oh, one")."""
    atom = a[i]
    if atom is None or atom.kind != "maybe":
        return atom
    numberish = _NUMBERISH | {"maybe", "repeat"}
    near = any(_kind(a, j) in numberish for j in (i - 1, i + 1))
    listed = all(0 <= j < len(words) and words[j] == "," and _kind(a, j + step) in numberish
                 for j, step in ((i - 1, -1), (i + 1, 1)))
    return atom._replace(kind="unit") if near or listed else None


def read_numbers(
    tokens: Sequence[str],
    lang: Language,
    *,
    ordinals: bool = False,
    oh_zero: bool = False,
    homophones: bool = False,
) -> list[Number | str]:
    """``tokens`` with every run of number words (or numerals) replaced by a ``Number``."""
    sounds = {**(_OH if oh_zero else {}), **(_HOMOPHONES | GUESSED_DIGITS if homophones else {})}
    sounds = sounds if lang == "en" else {}
    words: list[str] = []
    atoms: list[_Atom | None] = []
    for token in tokens:
        parts = _atoms_of(token, lang, ordinals, sounds)
        if parts:
            words.extend(p.text for p in parts)
            atoms.extend(parts)
        else:
            words.append(token)
            atoms.append(None)
    if not any(atoms):  # no number word at all (most of an email address)
        return list(words)
    atoms = [_settle(atoms, words, i) for i in range(len(atoms))]
    out: list[Number | str] = []
    i = 0
    while i < len(atoms):
        got = _cardinal(atoms, i, lang)
        if got is None:
            out.append(words[i])
            i += 1
        else:
            out.append(got[0])
            i = got[1]
    return out
