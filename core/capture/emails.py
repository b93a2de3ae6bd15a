"""capture_email: an email address from a transcript, lower-cased.

Rules
-----
* An address STT already formatted ("John.Smith@Gmail.com") is taken as is.
* Otherwise the spoken symbols are mapped in the request language, with the English words
  accepted everywhere: at/arroba/arobase/"at"/Klammeraffe → "@"; dot/punto/point/Punkt →
  "."; underscore/guion bajo/tiret bas/Unterstrich → "_"; dash/hyphen/guion/tiret/
  Bindestrich → "-"; plus/más → "+". Punctuation STT writes *inside* a word ("gmail.com",
  "john_smith") is literal; hyphens and periods between single letters ("J-O-H-N",
  "J. O. H. N.", "J.O.H.N"; not an initial's: "j.d.salinger") only mark spelling and are
  dropped; so is a word said next to its spelling ("J-O-H-N, John").
* Spelled letters are joined ("j o h n" → "john"); "j as in juliet" / "b de Barcelona" /
  "c comme Céline" / "w wie Wilhelm" keep only the letter; "double l" → "ll"; "double u"
  (fr "double v", es "doble ve") → "w"; "capital"/"mayúscula"/... are ignored; digit words
  become digits; "oh" is 0 next to digits, else the letter o. Fillers are dropped, but
  inside a domain only hesitations ("um"): "like", "so", "well" there are part of a name
  ("at a well dot com"), except right after "@" ("at, like, gmail dot com").
* The local part is what precedes the last "@" back to a preamble word ("my email is",
  "mi correo es", "c'est", "meine Adresse ist"); words are joined without separator
  ("john smith" → "johnsmith"). The domain is labels joined by "."; the last label is one
  word, so trailing talk ("dot com thanks") is dropped. With no dot at all, a well-known
  provider gets its usual domain ("at gmail" → gmail.com) at low confidence.
* The address must have the shape local@domain.tld (RFC 5321 lengths, no empty labels).
* Self-corrections: the last segment with an address wins; a later segment with only a
  domain ("sorry, yahoo dot com") or only spelled letters replaces that part.

Confidence: 0.95 formatted by STT; 0.9 spoken; 0.8 when words (or a letter and a word)
were joined in the local part or a domain label (a separator may have gone unsaid:
"r patel"; or a word been misheard: "a support", "at a well dot com"), for a TLD STT
misheard ("dot calm") or a German umlaut transliterated ("Müller" → "mueller"); 0.75 when
spelled letter by letter; 0.7 for an unknown TLD, a part replaced by a correction, or a
correction naming an address part that cannot be read (", sorry, for a gmail dot com");
0.6 for an inferred domain; −0.1 after a self-correction. needs_confirmation when
confidence < 0.85, which makes every spelled address read back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise
from typing import NamedTuple

from schemas.payloads import CaptureResult, Language

from .common import build_result, check_language, check_transcript
from .email_slips import SLIP_CONFIDENCE, mend_slips
from .email_spelling import (
    MARKS,
    drop_case_words,
    drop_spelling_aids,
    drop_spelling_marks,
    is_letter,
    letter_names,
    spelled_once,
)
from .email_words import (
    DOUBLE,
    PREAMBLE,
    SENTENCE_END,
    SYMBOLS,
    TLD_SOUNDS,
    TLDS,
    provider_domain,
    spoken_address,
)
from .numwords import Number, read_numbers
from .text import (
    WORD_FILLERS,
    drop_fillers,
    prepare,
    replace_phrases,
    split_corrections,
    tokenize,
)

_FORMATTED = re.compile(r"[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)+")
_LOCAL_OK = re.compile(r"[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*")
_DOMAIN_OK = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,24}")
_EMAIL_WORD = re.compile(r"\be[\s-]?mail\b")
_INSIDE_WORD = re.compile(r"(?<=[^\W_])([._-])(?=[^\W_])")
# A sentence ends at ".?!" after a word (not after a spelled letter: "J. O. H. N.").
_SENTENCE_END = re.compile(r"(?<=[^\W_]{2})[.?!]+(?=\s|$)")
_UNREAD_CORRECTION = 0.7
_UMLAUTS = re.compile("[äöüÄÖÜ]")
_GERMAN_ASCII = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


class _Reading(NamedTuple):
    """What one segment says: a local part, a domain, or both."""

    local: str | None
    domain: str | None
    confidence: float
    spelled: bool = False


def _spoken_items(segment: str, lang: Language) -> list[str]:
    """The segment as address pieces: words, digit strings and the symbols "@._-+"."""
    text = _INSIDE_WORD.sub(lambda m: f" {MARKS[m[1]]} ", _EMAIL_WORD.sub("email", segment))
    text = _SENTENCE_END.sub(f" {SENTENCE_END} ", text)
    tokens = drop_spelling_marks(tokenize(text, keep="@+" + SENTENCE_END + "".join(MARKS.values())))
    tokens = drop_spelling_aids(replace_phrases(tokens, SYMBOLS[lang]), lang)
    tokens = drop_case_words(tokens)
    # "at, like, gmail" pauses before the domain; inside it, "a well" is a (misheard) name.
    cut = tokens.index("@") + 2 if "@" in tokens else len(tokens)
    tokens = drop_fillers(tokens[:cut], lang) + drop_fillers(tokens[cut:], lang, WORD_FILLERS)
    doubled: list[str] = []
    for token in tokens:
        if is_letter(token) and doubled and doubled[-1] in DOUBLE:
            doubled[-1] = token * 2  # "double l"
        else:
            doubled.append(token)
    items = [i.digits if isinstance(i, Number) else i for i in read_numbers(doubled, lang)]
    return [_oh(items, i) if item == "oh" else item for i, item in enumerate(items)]


def _oh(items: Sequence[str], i: int) -> str:
    """Spoken "oh" is a zero between digits ("bond oh oh seven") and the letter o elsewhere."""
    neighbours = [items[j] for j in (i - 1, i + 1) if 0 <= j < len(items)]
    return "0" if any(n.isdigit() or n == "oh" for n in neighbours) else "o"


def _local(items: Sequence[str], lang: Language) -> tuple[str, bool, bool] | None:
    """(local part, spelled?, words joined?) from the items before "@"."""
    taken: list[str] = []
    for item in reversed(items):
        if item in ("@", SENTENCE_END) or item in PREAMBLE[lang]:
            break
        taken.append(item)
    split = _split_by_a_full_stop(items, taken, lang)
    taken = split or taken
    taken = spelled_once(letter_names(taken[::-1]) if lang == "en" else taken[::-1])
    while taken and taken[0] in ".-+":
        taken.pop(0)
    while taken and taken[-1] in ".-+":
        taken.pop()
    local = "".join(taken)
    if not local or len(local) > 64 or not _LOCAL_OK.fullmatch(local):
        return None
    spelled = sum(map(is_letter, taken)) >= 3
    return local, spelled, split is not None or _joined_words(taken)


def _split_by_a_full_stop(items: Sequence[str], taken: list[str],
                          lang: Language) -> list[str] | None:
    """A spoken "dot" Whisper wrote as a full stop ("my email is Lucy. Clark at …"): one
    name, a sentence end, one name before "@", right after the preamble. Taken as
    "lucy.clark" (``taken`` is reversed), read back since it is a guess (words joined)."""
    end = len(items) - len(taken) - 1
    if len(taken) != 1 or end < 2 or items[end] != SENTENCE_END:
        return None
    name, before = items[end - 1], items[end - 2]
    words = (taken[0], name)
    if before not in PREAMBLE[lang] or name in PREAMBLE[lang] \
            or not all(w.isalpha() and len(w) > 1 for w in words):
        return None
    return [taken[0], ".", name]


def _joined_words(part: Sequence[str]) -> bool:
    """Whether a local part or domain label was made of words said apart ("john smith",
    "r patel", "a well"): a separator may have gone unsaid ("r.patel"), or a word been
    misheard ("aol" as "a well"). Spelled letters ("j o h n", "g m x") are not."""
    return any(a.isalpha() and b.isalpha() and max(len(a), len(b)) > 1
               for a, b in pairwise(part))


def _domain(items: Sequence[str], lang: Language) -> tuple[str, float] | None:
    """(domain, confidence cap) from the items after "@"."""
    labels: list[list[str]] = [[]]
    for item in items:
        if item in ("@", "_", "+", SENTENCE_END):
            break
        if item == ".":
            if labels[-1]:
                labels.append([])
        else:
            labels[-1].append(item)
    labels = [label for label in labels if label]
    if len(labels) >= 2:
        tld = TLD_SOUNDS.get(labels[-1][0], labels[-1][0])
        parts = ["".join(label) for label in labels[:-1]] + [tld]  # drop trailing talk
        misheard = tld != labels[-1][0] or any(map(_joined_words, labels[:-1]))
        domain, cap = ".".join(parts), 0.7 if tld not in TLDS else 0.8 if misheard else 0.9
    elif labels and (provider := provider_domain(labels[0][0], lang)):
        domain, cap = provider, 0.6
    else:
        return None
    return (domain, cap) if len(domain) <= 253 and _DOMAIN_OK.fullmatch(domain) else None


def _read_segment(segment: str, lang: Language) -> tuple[_Reading | None, bool]:
    """What ``segment`` says, and whether it names an address part ("@" or ".") even when
    it cannot be read (a correction we could not read lowers the confidence)."""
    formatted = _FORMATTED.findall(segment)
    if formatted:
        local, _, domain = formatted[-1].partition("@")
        if _LOCAL_OK.fullmatch(local) and _DOMAIN_OK.fullmatch(domain):
            return _Reading(local, domain, 0.95), True
    spoken = _spoken_items(segment, lang)
    mentions = "@" in spoken or "." in spoken
    items, slipped = mend_slips(spoken, lang)
    reading = _read_items(items, lang)
    if reading is None or not slipped:
        return reading, mentions
    return reading._replace(confidence=min(reading.confidence, SLIP_CONFIDENCE)), mentions


def _read_items(items: Sequence[str], lang: Language) -> _Reading | None:
    ats = [i for i, item in enumerate(items) if item == "@"]
    for at in reversed(ats):
        domain = _domain(items[at + 1 :], lang)
        if domain is None:
            continue
        local = _local(items[:at], lang)
        if local is None:
            return _Reading(None, domain[0], 0.7)
        confidence = min(domain[1], 0.75 if local[1] else 0.8 if local[2] else 0.9)
        return _Reading(local[0], domain[0], confidence, spelled=local[1])
    return _partial(items, lang)


def _partial(items: Sequence[str], lang: Language) -> _Reading | None:
    """A correction that repeats only the domain ("yahoo dot com") or spelled letters."""
    if "." in items:
        found = _domain(_after_preamble(items, lang), lang)
        if found and found[1] >= 0.9:
            return _Reading(None, found[0], 0.7)
    local = _local(items, lang)
    if local and local[1] and all(len(i) == 1 or i.isdigit() for i in _after_preamble(items, lang)):
        return _Reading(local[0], None, 0.7, spelled=True)
    return None


def _after_preamble(items: Sequence[str], lang: Language) -> Sequence[str]:
    stops = PREAMBLE[lang] | {SENTENCE_END}
    cut = max((i + 1 for i, item in enumerate(items) if item in stops), default=0)
    return items[cut:]


def _capture(transcript: str, lang: Language) -> tuple[str, float, bool] | None:
    text = prepare(transcript, lang)
    segments = split_corrections(text, lang, "punctuated")
    readings, mentions = zip(*(_read_segment(s, lang) for s in segments), strict=True)
    full = [(i, r) for i, r in enumerate(readings) if r and r.local and r.domain]
    if not full:
        return None
    last, (local, domain, confidence, spelled) = full[-1]
    for later, named in zip(readings[last + 1 :], mentions[last + 1 :], strict=True):
        if later is None:
            if named:  # a correction we could not read
                confidence = min(confidence, _UNREAD_CORRECTION)
            continue
        local, domain = later.local or local, later.domain or domain
        confidence, spelled = min(confidence, later.confidence), later.spelled or spelled
    if any(readings[:last]):
        confidence -= 0.1
    address = f"{local}@{domain}"
    return (address, confidence, spelled) if len(address) <= 254 else None


def capture_email(transcript: str, language: Language = "en") -> CaptureResult | None:
    """The email address in ``transcript``, lower-cased; None if there is none."""
    lang = check_language(language)
    transcript = check_transcript(transcript)
    found = _capture(transcript, lang)
    if lang == "de" and found and _UMLAUTS.search(transcript):
        # "Müller" is usually "mueller" in an address, but not always: read it back.
        ascii_found = _capture(transcript.translate(_GERMAN_ASCII), lang)
        if ascii_found and ascii_found[0] != found[0]:
            found = (ascii_found[0], min(ascii_found[1], 0.8), ascii_found[2])
    if found is None:
        return None
    address, confidence, spelled = found
    return build_result(address, confidence, spoken_address(address, lang, spelled))
