"""How a recognizer mishears the words around "@" in a spoken English address, and the
readings that stay safe (Whisper tiny.en/base on synthesized callers, bench_spoken.py).

Each slip is read only where the rest pins it down, and an address read through one is
always read back (see :data:`SLIP_CONFIDENCE`):

* "at" (or "it", as heard) glued into one word before a well-known provider:
  "paul5atoutlook.com" is ``paul5@outlook.com``, "grace.haulitgmail.com"
  ``grace.haul@gmail.com`` (only a provider's name after it: "flatiron.com" stays a word);
* "at" heard as another short word, when the address has no "@" at all and the word is
  right before a well-known provider and a dot: "mary dot green that outlook dot com",
  "sarah to it yahoo dot com", "g r e e n a yahoo dot com", "laura three the gmail dot
  com"; "yeah who dot com" is "@ yahoo dot com", and so is "it. Yeah, who dot com";
* a digit heard as its homophone right before "@" after a name: "sarah to at yahoo" is
  ``sarah2``, "alice for at hotmail" ``alice4`` (a bare "to"/"for" is no name of its own).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from schemas.payloads import Language

from .email_words import PREAMBLE, SENTENCE_END, TLDS, provider_domain

SLIP_CONFIDENCE = 0.7
"""The cap on an address read through a slip: under 0.85, so it is read back."""
_AT_SOUNDS = frozenset({"it", "that", "and", "to", "add", "a", "the"})
_YAHOO_SOUNDS = (("yeah", "who"), ("ya", "who"), ("yay", "who"))
_DIGIT_SOUNDS = {"to": "2", "too": "2", "for": "4"}
_GLUED_AT = re.compile(r"([a-z0-9][a-z0-9_-]*?)(?:at|it)([a-z]+)")


def mend_slips(items: Sequence[str], lang: Language) -> tuple[list[str], bool]:
    """``items`` with the slips above read as meant, and whether any was."""
    mended = list(items)
    if lang != "en":
        return mended, False
    slipped = False
    if "@" not in mended:
        slipped = _glued_at(mended) or _at_heard_as_word(mended)
    return mended, _digit_heard_as_word(mended, lang) or slipped


def _dot_tld(items: Sequence[str], i: int) -> bool:
    """Whether ``items[i:]`` starts with a dot and a TLD."""
    return i + 1 < len(items) and items[i] == "." and items[i + 1] in TLDS


def _before_domain(items: Sequence[str], i: int) -> bool:
    """Whether a provider's name at ``i`` is followed by a dot and a TLD."""
    return i < len(items) and provider_domain(items[i], "en") is not None \
        and _dot_tld(items, i + 1)


def _glued_at(items: list[str]) -> bool:
    for i, item in enumerate(items):
        glued = _GLUED_AT.fullmatch(item)
        if glued and provider_domain(glued[2], "en") and _dot_tld(items, i + 1):
            items[i : i + 1] = [glued[1], "@", glued[2]]
            return True
    return False


def _at_heard_as_word(items: list[str]) -> bool:
    for i in range(1, len(items)):
        if items[i] in _AT_SOUNDS and _before_domain(items, i + 1):
            items[i] = "@"
            return True
        if tuple(items[i : i + 2]) in _YAHOO_SOUNDS and _dot_tld(items, i + 2):
            items[_at_sound_before(items, i) : i + 2] = ["@", "yahoo"]
            return True
    return False


def _at_sound_before(items: Sequence[str], i: int) -> int:
    """Where the "at" before the "yahoo" heard at ``i`` starts: "to it. Yeah, who dot com"
    is "to @ yahoo.com" (Whisper ends a sentence at "at" heard as "it")."""
    if i >= 2 and items[i - 1] == SENTENCE_END and items[i - 2] in _AT_SOUNDS:
        return i - 2
    return i - 1 if items[i - 1] in _AT_SOUNDS else i


def _digit_heard_as_word(items: list[str], lang: Language) -> bool:
    found = False
    for i in range(1, len(items) - 1):
        name = items[i - 1]
        if items[i] in _DIGIT_SOUNDS and items[i + 1] == "@" and name.isalpha() \
                and len(name) > 1 and name not in PREAMBLE[lang]:
            items[i] = _DIGIT_SOUNDS[items[i]]
            found = True
    return found
