"""Text normalisation shared by the capture primitives.

Rules
-----
* Everything is matched on *folded* text (:func:`prepare`): NFKC, lower case, accents and
  umlauts stripped ("mañana" → "manana", "fünf" → "funf"), "ß" → "ss", control characters
  dropped. STT output is inconsistent about accents, so every lexicon here is folded.
* English contractions are expanded ("isn't" → "is not", "that's" → "that is", also the
  apostrophe-less "thats"/"dont" STT often writes); elsewhere apostrophes separate words
  ("c'est" → "c est", "d'accord" → "d accord").
* Only the last ``MAX_CHARS`` characters are read: the last value wins, so the tail is
  what matters, and the cap bounds the work per call on huge inputs.
* Filler words ("um", "euh", "äh", "este"...) are dropped before values are read.
* Self-corrections ("no wait", "sorry", "perdón", "je veux dire", "ich meine"...) split a
  transcript into segments; primitives read them from the last one backwards. A bare
  "no"/"non"/"nein" is a correction marker for values but never for confirmations, where
  it is the answer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Literal, TypeVar

from schemas.payloads import Language

V = TypeVar("V")
MAX_CHARS = 4000
BareNo = Literal["never", "punctuated", "always"]

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'", "′": "'"})
# What fold does to ASCII text after lower-casing: "`" is an apostrophe, controls are spaces.
_ASCII_FOLD = str.maketrans({"`": "'", **{chr(c): " " for c in (*range(32), 127)}})
_EN_CONTRACTIONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), repl)
    for pattern, repl in (
        (r"\bcan'?t\b", "can not"),
        (r"\bwon'?t\b", "will not"),
        (r"\b(do|does|did|is|are|was|were|could|would|should|have|has|had)n'?t\b", r"\1 not"),
        (r"\b(that|it|what|there|here|who)'?s\b", r"\1 is"),
        (r"\bi'?m\b", "i am"),
        (r"'re\b", " are"),
        (r"'ll\b", " will"),
        (r"'ve\b", " have"),
        (r"'d\b", " would"),
    )
)
# The ones that match text without an apostrophe ("cant"); none of the replacements has one.
_EN_UNMARKED = tuple(c for c in _EN_CONTRACTIONS if not c[0].pattern.startswith("'"))
# Any of them, in one scan: most transcripts hold no contraction, and one search that finds
# none costs half of the substitutions that would change nothing.
_EN_ANY_UNMARKED = re.compile("|".join(f"(?:{c[0].pattern})" for c in _EN_UNMARKED))

FILLERS: dict[Language, frozenset[str]] = {
    "en": frozenset([
        "um", "umm", "uhm", "uh", "uhh", "er", "erm", "hmm", "hm", "mm", "mmm", "ah", "like",
        "so", "well", "basically",
    ]),
    "es": frozenset(["eh", "ehh", "em", "emm", "mmm", "este", "pues", "bueno", "mm"]),
    "fr": frozenset(["euh", "euhm", "heu", "hum", "ben", "bah", "bon", "hein", "alors", "mm"]),
    # "aeh"/"aehm": "äh"/"ähm" after the ae/oe/ue transliteration emails use
    "de": frozenset([
        "ah", "ahm", "aeh", "aehm", "ehm", "eh", "hm", "hmm", "mh", "also", "naja", "halt",
    ]),
}

# Fillers that are also ordinary words: inside an email's domain they are part of a name
# ("sowell", "welltower"), not hesitation.
WORD_FILLERS = frozenset({
    "like", "so", "well", "basically", "este", "pues", "bueno", "ben", "bon", "alors",
    "also", "halt", "naja",
})

_CORRECTIONS: dict[Language, tuple[str, ...]] = {
    "en": (
        "no wait", "wait", "sorry", "i mean", "actually", "scratch that", "correction",
        "let me correct that", "or rather", "oops", "my bad", "let me try again", "no no",
    ),
    "es": (
        "no espera", "espera", "espere", "perdon", "perdona", "perdone", "quiero decir",
        "mejor dicho", "digo", "o sea", "lo siento", "disculpa", "disculpe", "corrijo",
        "me equivoque", "no no", "sorry",
    ),
    "fr": (
        "non attendez", "non attends", "attendez", "attends", "pardon", "je veux dire",
        "plutot", "enfin", "excusez moi", "excuse moi", "desole", "desolee",
        "je me suis trompe", "je me suis trompee", "non non", "sorry",
    ),
    "de": (
        "nein warte", "nein warten sie", "warte", "warten sie", "entschuldigung", "sorry",
        "ich meine", "besser gesagt", "korrektur", "quatsch", "nein nein", "moment",
        "ich korrigiere",
    ),
}
# "no no" corrects a value, but to a yes/no question it is an emphatic answer.
_REPEATED_NO = {"no no", "non non", "nein nein"}
_BARE_NO: dict[Language, str] = {"en": "no", "es": "no", "fr": "non", "de": "nein"}


def fold(text: str) -> str:
    """Lower-case, accent-free, NFKC form of ``text`` (the form all lexicons use)."""
    if text.isascii():  # the common case: nothing to normalise, decompose or drop
        return text.lower().translate(_ASCII_FOLD)
    text = unicodedata.normalize("NFKC", text).lower().replace("ß", "ss")
    text = text.translate(_APOSTROPHES)
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(
        " " if unicodedata.category(c) == "Cc" else c
        for c in decomposed
        if not unicodedata.combining(c)
    )


def prepare(transcript: str, language: Language) -> str:
    """Fold the transcript's tail and resolve apostrophes the way ``language`` uses them."""
    text = fold(transcript[-MAX_CHARS:])
    if language == "en":
        marked = "'" in text
        if marked or _EN_ANY_UNMARKED.search(text):
            for pattern, repl in _EN_CONTRACTIONS if marked else _EN_UNMARKED:
                text = pattern.sub(repl, text)
        return text.replace("'", "")
    return text.replace("'", " ")


@cache
def _token_pattern(keep: str) -> re.Pattern[str]:
    symbols = f"|[{re.escape(keep)}]" if keep else ""
    return re.compile(rf"[^\W_]+{symbols}")


def tokenize(text: str, keep: str = "") -> list[str]:
    """Words (letters/digits) of ``text``, plus every character of ``keep`` as its own token."""
    return _token_pattern(keep).findall(text)


def drop_fillers(
    tokens: Sequence[str], language: Language, keep: frozenset[str] = frozenset()
) -> list[str]:
    """``tokens`` without the filler words of ``language`` (except those in ``keep``)."""
    fillers = FILLERS[language] - keep
    return [t for t in tokens if t not in fillers]


class PhraseTable(dict[tuple[str, ...], V]):
    """Phrases (as token tuples) to values, with what :func:`find_phrases` looks up first:
    the longest phrase and every phrase's first word (most tokens start none)."""

    def __init__(self, entries: Mapping[tuple[str, ...], V]) -> None:
        super().__init__(entries)
        self.longest = max(map(len, self), default=0)
        self.first_words = frozenset(key[0] for key in self if key)


def phrase_table(entries: Mapping[str, V]) -> PhraseTable[V]:
    """Turn ``{"at sign": x}`` into ``{("at", "sign"): x}`` with folded keys."""
    return PhraseTable({tuple(tokenize(fold(key))): value for key, value in entries.items()})


def find_phrases(tokens: Sequence[str], table: PhraseTable[V]) -> list[tuple[int, int, V]]:
    """Non-overlapping ``(start, end, value)`` hits of ``table``'s phrases, longest first."""
    longest, first_words = table.longest, table.first_words
    hits: list[tuple[int, int, V]] = []
    i = 0
    while i < len(tokens):
        if tokens[i] not in first_words:
            i += 1
            continue
        for size in range(min(longest, len(tokens) - i), 0, -1):
            value = table.get(tuple(tokens[i : i + size]))
            if value is not None:
                hits.append((i, i + size, value))
                i += size
                break
        else:
            i += 1
    return hits


def replace_phrases(tokens: Sequence[str], table: PhraseTable[str]) -> list[str]:
    """``tokens`` with every phrase of ``table`` replaced by the words of its value."""
    out: list[str] = []
    last = 0
    for start, end, value in find_phrases(tokens, table):
        out.extend(tokens[last:start])
        out.extend(value.split())
        last = end
    out.extend(tokens[last:])
    return out


@cache
def _correction_pattern(language: Language, bare_no: BareNo) -> re.Pattern[str]:
    markers = [m for m in _CORRECTIONS[language] if bare_no != "never" or m not in _REPEATED_NO]
    words = sorted(markers, key=len, reverse=True)
    alternatives = [r"\s+".join(map(re.escape, m.split())) + r"\b" for m in words]
    no = _BARE_NO[language]
    if bare_no == "always":
        alternatives.append(rf"{no}\b")
    # One leading word boundary for all the markers (same matches, same order): the engine
    # rejects most positions at the boundary instead of trying every marker there (4x faster).
    pattern = r"\b(?:" + "|".join(alternatives) + ")"
    if bare_no == "punctuated":
        # "no," / ", no" is a correction; "no reply at ..." is part of an address.
        pattern += rf"|(?<=[,;!])\s*\b{no}\b|\b{no}(?=\s*[,;!]|\.(?:\s|$))"
    return re.compile(pattern)


def split_corrections(text: str, language: Language, bare_no: BareNo = "never") -> list[str]:
    """Segments of prepared ``text`` between self-correction markers, in spoken order."""
    return _correction_pattern(language, bare_no).split(text)
