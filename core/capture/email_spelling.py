"""Spelled letters in spoken email addresses: the marks STT puts between them
("J-O-H-N", "J.O.H.N"), spelling aids ("j as in juliet"), letter names ("jay dee") and a
word said and spelled ("jennifer j e n n i f e r", "J-O-H-N, John"). See
:mod:`core.capture.emails` for the rules.
"""

from __future__ import annotations

from collections.abc import Sequence

from schemas.payloads import Language

from .email_words import CASE_NOUNS, CASE_ONLY_WORDS, CASE_WORDS, LETTER_NAMES, SPELLING_AIDS

MARKS = {".": "\x01", "_": "\x02", "-": "\x03"}
"""Stand-ins for the punctuation STT writes inside a word ("gmail.com"), kept as tokens."""
UNMARK = {mark: symbol for symbol, mark in MARKS.items()}


def is_letter(token: str) -> bool:
    return len(token) == 1 and token.isalpha()


def drop_spelling_marks(tokens: Sequence[str]) -> list[str]:
    """Turn in-word marks back into symbols, except those that only separate spelled
    letters: any hyphen between two letters ("J-O-H-N"), every hyphen of a chain that spells
    three letters or more, words said in it too ("N-A-DOT-W-I-L-S-O-N-AT-GMAIL-DOT-COM"),
    and the periods of a run of three or more dotted letters ("J.O.H.N"; "j.d.salinger"
    keeps its periods)."""
    if UNMARK.keys().isdisjoint(tokens):  # no marks (most transcripts): nothing to do
        return list(tokens)
    spelling = set(_dotted_letters(tokens)) | set(_spelled_chains(tokens))
    for i, token in enumerate(tokens):
        neighbours = tokens[i - 1 : i + 2 : 2] if i > 0 else []
        if token == MARKS["-"] and len(neighbours) == 2 and all(map(is_letter, neighbours)):
            spelling.add(i)
    return [UNMARK.get(t, t) for i, t in enumerate(tokens) if i not in spelling]


def _spelled_chains(tokens: Sequence[str]) -> list[int]:
    """Positions of the hyphens of "w-i-l-s-o-n-at-gmail": words joined by hyphens, three or
    more of them single letters ("mike-jones", "mary-k-lee" keep theirs)."""
    dash, found = MARKS["-"], list[int]()
    i = 0
    while i < len(tokens):
        end = i
        while end + 2 < len(tokens) and tokens[end + 1] == dash and tokens[end + 2] not in UNMARK:
            end += 2
        if sum(map(is_letter, tokens[i : end + 1 : 2])) >= 3:
            found.extend(range(i + 1, end, 2))
        i = end + 1
    return found


def _dotted_letters(tokens: Sequence[str]) -> list[int]:
    """Positions of the periods inside "j.o.h.n": single letters only, nothing attached."""
    dot, found = MARKS["."], list[int]()
    i = 0
    while i < len(tokens):
        end = i
        while (is_letter(tokens[end]) and end + 2 < len(tokens) and tokens[end + 1] == dot
               and is_letter(tokens[end + 2])):
            end += 2
        attached = (i > 0 and tokens[i - 1] in UNMARK) or (
            end + 1 < len(tokens) and tokens[end + 1] in UNMARK)
        if end - i >= 4 and not attached:  # three letters or more
            found.extend(range(i + 1, end, 2))
        i = end + 1
    return found


def drop_case_words(tokens: Sequence[str]) -> list[str]:
    """Drop "capital", "lower case" … said before a spelled letter, and "lowercase" anywhere.
    Before anything else the word is a word: "laura small", or Whisper's "lower" for
    "laura" (which read as nothing made "lower three at gmail" ``3@gmail.com``)."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token in CASE_WORDS:
            letter = i + 1 + (i + 1 < len(tokens) and tokens[i + 1] in CASE_NOUNS)
            if letter < len(tokens) and is_letter(tokens[letter]):
                i = letter
                continue
        if token not in CASE_ONLY_WORDS:
            out.append(token)
        i += 1
    return out


def drop_spelling_aids(tokens: Sequence[str], lang: Language) -> list[str]:
    """Drop the example in "j as in juliet" (only when it starts with the spelled letter)."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        out.append(token)
        i += 1
        if not is_letter(token):
            continue
        for aid in SPELLING_AIDS[lang]:
            end = i + len(aid)
            example = tokens[end] if end < len(tokens) else ""
            if tuple(tokens[i:end]) == aid and len(example) > 1 and example.startswith(token):
                i = end + 1
                break
    return out


def letter_names(tokens: list[str]) -> list[str]:
    """Letter names to letters ("jay dee" → "j d"), only next to other spelled letters."""
    def spelled(j: int) -> bool:
        return 0 <= j < len(tokens) and (is_letter(tokens[j]) or tokens[j] in LETTER_NAMES)

    return [
        LETTER_NAMES[t] if t in LETTER_NAMES and (spelled(i - 1) or spelled(i + 1)) else t
        for i, t in enumerate(tokens)
    ]


def spelled_once(tokens: list[str]) -> list[str]:
    """Keep only the letters of "jennifer j e n n i f e r" and of "j o h n john": the
    word was said and spelled, in either order."""
    out: list[str] = []
    for i, token in enumerate(tokens):
        size = len(token)
        after, before = tokens[i + 1 : i + 1 + size], tokens[max(0, i - size) : i]
        if size > 1 and any(len(s) == size and all(map(is_letter, s)) and "".join(s) == token
                            for s in (after, before)):
            continue
        out.append(token)
    return out
