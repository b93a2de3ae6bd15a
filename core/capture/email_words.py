"""Vocabulary for spoken email addresses, per language (folded forms), and how an
address is said back (:func:`spoken_address`, as :func:`~.calendar_words.spoken_date`).

The English symbol words are accepted in every language: callers switch to them freely,
and none of them is an ordinary word in Spanish, French or German.
"""

from __future__ import annotations

import re

from schemas.payloads import Language

from .text import PhraseTable, phrase_table

_EN_SYMBOLS = {
    "at": "@", "at sign": "@", "at symbol": "@", "dot": ".", "period": ".", "dotcom": ". com",
    "underscore": "_", "under score": "_", "dash": "-", "hyphen": "-", "plus": "+",
    "double u": "w", "double you": "w",
}
SYMBOLS: dict[Language, PhraseTable[str]] = {
    "en": phrase_table(_EN_SYMBOLS | {"minus": "-", "point": "."}),
    "es": phrase_table(_EN_SYMBOLS | {
        "arroba": "@", "punto": ".", "guion bajo": "_", "barra baja": "_", "subrayado": "_",
        "guion": "-", "guion medio": "-", "menos": "-", "mas": "+", "doble u": "w",
        "doble ve": "w", "uve doble": "w",
    }),
    "fr": phrase_table(_EN_SYMBOLS | {
        "arobase": "@", "arrobase": "@", "arobas": "@", "a commercial": "@", "point": ".",
        "tiret bas": "_", "tiret du bas": "_", "tiret du huit": "_", "tiret": "-",
        "trait d union": "-", "moins": "-", "double v": "w", "double ve": "w", "c est": "est",
    }),
    "de": phrase_table(_EN_SYMBOLS | {
        "at zeichen": "@", "klammeraffe": "@", "punkt": ".", "unterstrich": "_",
        "tiefstrich": "_", "bindestrich": "-", "strich": "-", "minus": "-",
    }),
}
SPOKEN_SYMBOLS: dict[Language, dict[str, str]] = {
    "en": {"@": "at", ".": "dot", "_": "underscore", "-": "dash", "+": "plus"},
    "es": {"@": "arroba", ".": "punto", "_": "guion bajo", "-": "guion", "+": "más"},
    "fr": {"@": "arobase", ".": "point", "_": "tiret bas", "-": "tiret", "+": "plus"},
    "de": {"@": "at", ".": "Punkt", "_": "Unterstrich", "-": "Bindestrich", "+": "plus"},
}
# "j as in juliet", "b de Barcelona", "c comme Céline", "w wie Wilhelm"
SPELLING_AIDS: dict[Language, tuple[tuple[str, ...], ...]] = {
    "en": (("as", "in"), ("like",), ("for",)),
    "es": (("como", "en"), ("de",), ("como",), ("as", "in")),
    "fr": (("comme", "dans"), ("comme",), ("as", "in")),
    "de": (("wie", "in"), ("wie",), ("as", "in")),
}
SENTENCE_END = "\x04"
"""The token a sentence's full stop becomes among an address's pieces (not a dot)."""
DOUBLE = frozenset({"double", "doble", "doppel", "doppelt"})
CASE_WORDS = frozenset({
    "capital", "uppercase", "upper", "lowercase", "lower", "small", "mayuscula", "minuscula",
    "majuscule", "minuscule", "gross", "grosses", "grossem", "klein", "kleines",
})
"""Said before a spelled letter ("capital j"): the address is lower-case anyway."""
CASE_ONLY_WORDS = frozenset({"uppercase", "lowercase"})
"""Case words that are nothing else ("all lowercase"), dropped wherever they are."""
CASE_NOUNS = frozenset({"case", "letter"})
"""Said between a case word and its letter ("lower case j", "capital letter j")."""
# English letter names STT writes for spelled letters ("jay dee" is "jd"); "oh" is handled
# with digits. Only used inside a run of spelled letters, where they cannot be words.
LETTER_NAMES = {
    "bee": "b", "cee": "c", "see": "c", "dee": "d", "ee": "e", "eff": "f", "ef": "f",
    "gee": "g", "aitch": "h", "eye": "i", "jay": "j", "kay": "k", "ell": "l", "el": "l",
    "em": "m", "en": "n", "pee": "p", "cue": "q", "queue": "q", "ar": "r", "are": "r",
    "ess": "s", "tee": "t", "vee": "v", "ex": "x", "why": "y", "wye": "y", "zee": "z",
    "zed": "z",
}
_PREAMBLE_WORDS: dict[Language, str] = {
    "en": "to use sure and send write reach me was be please try correct right you can yeah",
    "es": "mi es correo electronico direccion de el la si claro vale y seria que al pues",
    "fr": "mon ma adresse courriel est ce oui alors donc et electronique de du la le mel "
          "voici bien sur",
    "de": "meine mein adresse emailadresse ist lautet die das ja also und klar genau gerne",
}
# Where the local part starts, walking back from "@" ("my email is | john at ...").
PREAMBLE: dict[Language, frozenset[str]] = {
    lang: frozenset(f"{words} is it its email mail address my the that this yes ok okay".split())
    for lang, words in _PREAMBLE_WORDS.items()
}
TLDS = frozenset({
    "com", "org", "net", "edu", "gov", "mil", "int", "io", "co", "uk", "us", "ca", "mx", "es",
    "fr", "de", "at", "ch", "be", "it", "nl", "eu", "info", "biz", "me", "ai", "app", "dev",
    "ar", "cl", "pe", "br", "pt", "lu", "ie", "au", "nz", "in", "jp", "tv", "online", "shop",
    "xyz", "tech", "site", "email", "cat", "se", "no", "dk", "fi", "pl", "cz", "cn", "ru",
})
# How STT mishears a final "com" ("gmail dot calm"); never a real TLD a caller would mean.
TLD_SOUNDS = {"come": "com", "calm": "com", "comb": "com"}
_PROVIDERS = {
    "gmail": "gmail.com", "googlemail": "googlemail.com", "hotmail": "hotmail.com",
    "outlook": "outlook.com", "yahoo": "yahoo.com", "icloud": "icloud.com", "aol": "aol.com",
    "protonmail": "protonmail.com", "live": "live.com", "msn": "msn.com", "gmx": "gmx.net",
    "orange": "orange.fr", "wanadoo": "wanadoo.fr", "laposte": "laposte.net", "free": "free.fr",
}
_GERMAN_PROVIDERS = {"gmx": "gmx.de", "web": "web.de"}


def provider_domain(word: str, language: Language) -> str | None:
    """The usual domain of a well-known mail provider named without its TLD ("gmail")."""
    return (_GERMAN_PROVIDERS if language == "de" else {}).get(word) or _PROVIDERS.get(word)


def spoken_address(address: str, lang: Language, spelled: bool) -> str:
    """The address as a TTS engine should say it back: symbols as words ("at", "punto"),
    digits and letter clusters one by one, a ``spelled`` local part letter by letter."""
    local, _, domain = address.partition("@")
    at = SPOKEN_SYMBOLS[lang]["@"]
    words = [*_say_part(local, lang, spelled), at, *_say_part(domain, lang, False)]
    return " ".join(words)


_VOWEL = re.compile("[aeiouy]")
_CHUNK = re.compile(r"[a-z]+|[0-9]+|[^a-z0-9]")


def _unpronounceable(chunk: str) -> bool:
    """Letter clusters TTS would mangle as a word: "uk", "de", "gmx" (but "co" reads fine)."""
    return (len(chunk) <= 2 and chunk != "co") or not _VOWEL.search(chunk)


def _say_part(part: str, lang: Language, spell: bool) -> list[str]:
    """Words as words, digits one by one, letter clusters TTS cannot say letter by letter."""
    said: list[str] = []
    for chunk in _CHUNK.findall(part):
        if chunk in SPOKEN_SYMBOLS[lang]:
            said.append(SPOKEN_SYMBOLS[lang][chunk])
        elif chunk.isdigit() or spell or _unpronounceable(chunk):
            said.extend(chunk)
        else:
            said.append(chunk)
    return said
