"""Split text into sentences, so a long text is spoken (and published) part by part.

A boundary is ``.``, ``!``, ``?`` or ``…`` (with any closing quotes or brackets) followed by
white space, or a blank line. A period is no boundary after a known abbreviation of the
language (``Mr.``, ``e.g.``, ``Sra.``, ``z.B.``), after an initial (``J. Smith``) or when
the next word starts lower case; decimals (``3.5``) and e-mail addresses
(``john.smith@x.com``) have no space after their periods, so they never split. A part
longer than :data:`MAX_PART` is cut again at the last comma, semicolon or colon before the
cap, else at the last space, so no engine call is huge.
"""

from __future__ import annotations

import re

MAX_PART = 400
"""Characters: the longest part handed to an engine in one call."""
CLAUSE_WORDS = 3
"""Words on each side of a clause break before the first sentence is spoken in two parts."""

_COMMON = {"e.g", "i.e", "etc", "vs", "dr", "prof", "st", "ca", "approx"}
_BEFORE_NUMBER = frozenset({"no", "nr", "núm", "art", "p", "pp", "s"})
"""Abbreviations only when a number follows: "No. 5", but "I said no. Then"."""
ABBREVIATIONS: dict[str, frozenset[str]] = {
    "en": frozenset(_COMMON | {"mr", "mrs", "ms", "jr", "sr", "a.m", "p.m", "u.s", "inc",
                               "ltd", "co", "mt", "ave", "fig", "jan", "feb", "mar", "apr",
                               "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"}),
    "es": frozenset(_COMMON | {"sr", "sra", "srta", "dra", "d", "dña", "ud", "uds", "p.ej",
                               "pág", "av", "avda", "núm", "lic", "ing", "depto"}),
    "fr": frozenset(_COMMON | {"m", "mm", "mme", "mmes", "mlle", "pr", "me", "p.ex", "av",
                               "bd", "cf", "n°", "env", "ste"}),
    "de": frozenset(_COMMON | {"hr", "hrn", "fr", "z.b", "d.h", "u.a", "usw", "bzw", "evtl",
                               "ggf", "inkl", "vgl", "str", "s", "abs", "bzgl", "u.s.w"}),
}

# A run of terminators, then closing quotes/brackets, then the white space after them.
_END = re.compile(r"([.!?…]+)([\"'»”’)\]]*)(\s+)")
_PARAGRAPH = re.compile(r"\n\s*\n")
_SOFT_BREAK = re.compile(r"[,;:،]\s")
_WORD_BEFORE = re.compile(r"(\S+)$")


def split_sentences(text: str, language: str = "en") -> list[str]:
    """The sentences of ``text`` in order, stripped, none empty, none over :data:`MAX_PART`."""
    parts: list[str] = []
    for paragraph in _PARAGRAPH.split(text):
        for sentence in _sentences(paragraph, language):
            parts += _capped(" ".join(sentence.split()))
    return [p for p in parts if p]


def speaking_parts(text: str, language: str = "en") -> list[str]:
    """The parts ``synthesize`` speaks one by one: the sentences, the first one cut at its
    first clause break (a comma, semicolon or colon with :data:`CLAUSE_WORDS` words or more
    on each side). An engine's time grows with the audio it makes (Piper here: ~0.1 s plus
    ~0.3 s per second of speech), so a shorter first part is first audio sooner; the pause
    at a comma is where a speaker pauses anyway."""
    parts = split_sentences(text, language)
    if parts:
        parts[:1] = _first_clause_apart(parts[0])
    return parts


def _first_clause_apart(sentence: str) -> list[str]:
    for match in _SOFT_BREAK.finditer(sentence):
        head, tail = sentence[:match.end()].strip(), sentence[match.end():].strip()
        if len(head.split()) >= CLAUSE_WORDS:
            return [head, tail] if len(tail.split()) >= CLAUSE_WORDS else [sentence]
    return [sentence]


def _sentences(paragraph: str, language: str) -> list[str]:
    found, start = [], 0
    for match in _END.finditer(paragraph):
        if _is_boundary(paragraph, match, start, language):
            found.append(paragraph[start:match.end(2)])
            start = match.end()
    found.append(paragraph[start:])
    return found


def _is_boundary(text: str, match: re.Match[str], start: int, language: str) -> bool:
    terminators = match.group(1)
    if terminators != ".":  # "!", "?", "…", "?!", "..." end a sentence wherever they are
        return True
    following = text[match.end():match.end() + 1]
    if following.islower():  # "e.g. this", "approx. ten": the sentence goes on
        return False
    before = _WORD_BEFORE.search(text, start, match.start())
    word = before.group(1).lstrip("\"'«“‘(¿¡[") if before else ""
    if following.isdigit() and word.lower() in _BEFORE_NUMBER:
        return False
    return not _abbreviation(word, language)


def _abbreviation(word: str, language: str) -> bool:
    lowered = word.lower()
    if lowered in ABBREVIATIONS.get(language, ABBREVIATIONS["en"]):
        return True
    if len(word) == 1 and word.isalpha() and word.isupper():  # an initial: "J. R. Smith"
        return True
    return language == "de" and word.isdigit() and len(word) <= 2  # "am 3. Oktober"


def _capped(sentence: str) -> list[str]:
    """``sentence`` cut into parts of at most :data:`MAX_PART` characters."""
    parts = []
    while len(sentence) > MAX_PART:
        cut = _cut_point(sentence[:MAX_PART + 1])
        parts.append(sentence[:cut].strip())
        sentence = sentence[cut:].strip()
    return [*parts, sentence]


def _cut_point(head: str) -> int:
    """Where to cut ``head`` (the cap plus one character): after its last comma-like mark,
    else at its last space, else (one huge word) at the cap."""
    soft = [m.end() for m in _SOFT_BREAK.finditer(head)]
    if soft and soft[-1] > MAX_PART // 4:
        return soft[-1]
    space = head.rfind(" ")
    return space if space > 0 else MAX_PART
