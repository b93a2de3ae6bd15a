"""A ``transcribe`` hint as Whisper's ``initial_prompt``.

Whisper continues the text it is prompted with, in the same style. A hint naming an
objective (``email``, ``phone``, ``date``, ``confirmation``) becomes a short text, in the
audio's language, written the way the next capture primitive reads best: an email spoken
with its symbol words and spelled letters ("john dot smith at gmail dot com", "j o h n"),
a phone number in digit groups, a date with its month written out, a plain yes or no.
So the recognizer writes "dot" and "at" instead of guessing where a "." goes, and digits
instead of number words. Any other hint is free text (names, a product, the question just
asked) and passes through, on one line and bounded.

On speech it cannot make out, Whisper may write its prompt back ("The appointment is on
March 14, 2026." for a garbled "September the second"): :func:`echoes_prompt` finds such
a segment, which the transcriber drops, so no value is read from the example. Only for
the hints whose examples no caller has (:data:`ECHO_CHECKED`: numbers in ranges kept for
fiction, a date gone by); an email example is a real-looking address, and a free-text
hint may be what the caller says, so those are never dropped.
"""

from __future__ import annotations

import re

OBJECTIVES = ("email", "phone", "date", "confirmation")
LANGUAGES = ("en", "es", "fr", "de")
MAX_PROMPT_CHARS = 400
"""Whisper keeps at most 223 prompt tokens (half its context); 400 characters stay below."""

_PROMPTS: dict[str, dict[str, str]] = {
    "email": {
        "en": "My email is john dot smith at gmail dot com. That's j o h n, "
              "then anna underscore lee at yahoo dot co dot uk.",
        "es": "Mi correo es juan punto garcia arroba gmail punto com. Se escribe j u a n, "
              "y ana guion bajo lopez arroba hotmail punto es.",
        "fr": "Mon adresse est jean point dupont arobase gmail point com. Ça s'écrit "
              "j e a n, et marie tiret bas leroy arobase orange point fr.",
        "de": "Meine Adresse ist hans punkt mueller at gmail punkt com. Das ist h a n s, "
              "und anna unterstrich schmidt at web punkt de.",
    },
    "phone": {
        "en": "My number is 212 555 0199. You can also call +44 20 7946 0958.",
        "es": "Mi número es 612 345 678. También el +34 912 345 678.",
        "fr": "Mon numéro est 06 12 34 56 78. Ou le +33 1 23 45 67 89.",
        "de": "Meine Nummer ist 030 1234 5678. Oder +49 170 1234567.",
    },
    "date": {
        "en": "The appointment is on March 14, 2026. Or next Tuesday, the 3rd of June.",
        "es": "La cita es el 14 de marzo de 2026. O el próximo martes, 3 de junio.",
        "fr": "Le rendez-vous est le 14 mars 2026. Ou mardi prochain, le 3 juin.",
        "de": "Der Termin ist am 14. März 2026. Oder nächsten Dienstag, am 3. Juni.",
    },
    "confirmation": {
        "en": "Yes, that's correct. No, that's wrong.",
        "es": "Sí, es correcto. No, eso está mal.",
        "fr": "Oui, c'est exact. Non, c'est faux.",
        "de": "Ja, das ist richtig. Nein, das ist falsch.",
    },
}
_SPACES = re.compile(r"\s+")
_SENTENCES = re.compile(r"[^.!?]+[.!?]*")
_NOT_WORD = re.compile(r"[\W_]+")
ECHO_CHECKED = frozenset({"phone", "date"})
"""Hints whose example sentences are dropped when written back: 555-0199 and 020 7946 are
kept for fiction, 14 March 2026 is past; a caller's john.smith@gmail.com is real."""
ECHO_MIN_WORDS = 5
"""A prompt sentence this long is no answer a caller gives word for word; shorter ones
("Yes, that's correct.") are."""


def initial_prompt(hint: str, language: str) -> str | None:
    """The prompt for ``hint`` in ``language`` (a language without prompts of its own gets
    the English one); free text on one line, at most :data:`MAX_PROMPT_CHARS`; None when
    there is no hint."""
    key = hint.strip().lower()
    if key in _PROMPTS:
        prompts = _PROMPTS[key]
        return prompts.get(language, prompts["en"])
    text = _SPACES.sub(" ", hint).strip()
    return text[:MAX_PROMPT_CHARS] or None


def is_objective(hint: str) -> bool:
    """Whether ``hint`` names an objective (its prompt depends on the language)."""
    return hint.strip().lower() in _PROMPTS


def _words(text: str) -> str:
    return _NOT_WORD.sub(" ", text.lower()).strip()


def echo_checked_prompt(hint: str, language: str) -> str | None:
    """The prompt whose sentences, written back, are dropped (``None``: nothing is)."""
    if hint.strip().lower() not in ECHO_CHECKED:
        return None
    return initial_prompt(hint, language)


def echoes_prompt(text: str, prompt: str | None) -> bool:
    """Whether ``text`` (one segment) is a sentence of ``prompt`` of at least
    :data:`ECHO_MIN_WORDS` words, word for word: the prompt written back, not speech."""
    said = _words(text)
    if not prompt or len(said.split()) < ECHO_MIN_WORDS:
        return False
    return any(_words(sentence) == said for sentence in _SENTENCES.findall(prompt))
