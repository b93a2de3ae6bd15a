"""split_sentences: boundaries per language, the things that look like boundaries but are
not, and the cap on a part's length."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.tts.sentences import MAX_PART, speaking_parts, split_sentences


@pytest.mark.parametrize(("language", "text", "expected"), [
    ("en", "Hello there. How are you? I am fine! Thanks…",
     ["Hello there.", "How are you?", "I am fine!", "Thanks…"]),
    ("en", "Mr. Smith met Dr. Jones. They talked.", ["Mr. Smith met Dr. Jones.", "They talked."]),
    ("en", "Bring fruit, e.g. apples. Or not.", ["Bring fruit, e.g. apples.", "Or not."]),
    ("en", "Use e.g. This one. Done.", ["Use e.g. This one.", "Done."]),
    ("en", "It costs 3.5 dollars. Pay now.", ["It costs 3.5 dollars.", "Pay now."]),
    ("en", "Write to john.smith@x.com today. Thanks.",
     ["Write to john.smith@x.com today.", "Thanks."]),
    ("en", "J. R. Smith wrote it. Really.", ["J. R. Smith wrote it.", "Really."]),
    ("en", 'He said "stop." Then he left.', ['He said "stop."', "Then he left."]),
    ("en", "First paragraph without a stop\n\nSecond one", ["First paragraph without a stop",
                                                        "Second one"]),
    ("en", "Is it?! Yes... sure.", ["Is it?!", "Yes...", "sure."]),
    ("en", "See No. 5 now. I said no. Then left.", ["See No. 5 now.", "I said no.", "Then left."]),
    ("es", "Hola, Sra. García. ¿Cómo está? ¡Muy bien! Gracias.",
     ["Hola, Sra. García.", "¿Cómo está?", "¡Muy bien!", "Gracias."]),
    ("es", "Cuesta 2.5 euros, p.ej. Hoy no. Mañana sí.",
     ["Cuesta 2.5 euros, p.ej. Hoy no.", "Mañana sí."]),
    ("fr", "Bonjour M. Dupont. Ça va ? Oui !", ["Bonjour M. Dupont.", "Ça va ?", "Oui !"]),
    ("fr", "Mme. Martin arrive. Elle est là.", ["Mme. Martin arrive.", "Elle est là."]),
    ("de", "Das ist z.B. gut. Wir kommen am 3. Oktober. Bis dann!",
     ["Das ist z.B. gut.", "Wir kommen am 3. Oktober.", "Bis dann!"]),
    ("de", "Hr. Müller ist da. Fr. Schmidt auch.", ["Hr. Müller ist da.", "Fr. Schmidt auch."]),
])
def test_boundaries(language: str, text: str, expected: list[str]) -> None:
    assert split_sentences(text, language) == expected


def test_white_space_is_collapsed_and_empty_text_has_no_parts() -> None:
    assert split_sentences("  One   two.\n Three.  ", "en") == ["One two.", "Three."]
    assert split_sentences("   \n\n  ", "en") == []


def test_a_long_sentence_is_cut_at_commas_under_the_cap() -> None:
    clause = "and then we walked a little further along the river"
    text = ", ".join([clause] * 30) + "."
    parts = split_sentences(text, "en")
    assert len(parts) > 1
    assert all(len(p) <= MAX_PART for p in parts)
    assert all(p.endswith(",") for p in parts[:-1])
    assert " ".join(parts) == text


def test_a_long_sentence_without_commas_is_cut_at_spaces() -> None:
    text = " ".join(["word"] * 300)
    parts = split_sentences(text, "en")
    assert all(len(p) <= MAX_PART for p in parts)
    assert " ".join(parts) == text


def test_one_huge_word_is_cut_at_the_cap() -> None:
    parts = split_sentences("x" * (MAX_PART * 2 + 7), "en")
    assert [len(p) for p in parts] == [MAX_PART, MAX_PART, 7]


def test_an_unknown_language_uses_the_english_rules() -> None:
    assert split_sentences("Mr. X is here. Go.", "it") == ["Mr. X is here.", "Go."]


@given(st.text(alphabet=st.sampled_from(list("ab .!?,\n¿¡…3@")), max_size=2000))
def test_nothing_is_lost_and_no_part_is_over_the_cap(text: str) -> None:
    parts = split_sentences(text, "es")
    assert all(0 < len(p) <= MAX_PART for p in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())


@pytest.mark.parametrize(("text", "first"), [
    ("Thank you for calling, how can I help you today?", "Thank you for calling,"),
    ("Hi, how are you today? Fine.", "Hi, how are you today?"),  # 1 word before the comma
    ("I have your number, thanks. Bye.", "I have your number, thanks."),  # 1 word after
    ("Well, as I said before; we call you back tomorrow.", "Well, as I said before;"),
    ("No clause break in this one at all.", "No clause break in this one at all."),
])
def test_the_first_sentence_is_spoken_in_two_at_a_clause_break(text: str, first: str) -> None:
    parts = speaking_parts(text, "en")
    assert parts[0] == first
    assert " ".join(parts) == " ".join(split_sentences(text, "en"))  # nothing lost or moved


def test_only_the_first_sentence_is_cut_at_a_clause_break() -> None:
    text = "One two three, four five six. Seven eight nine, ten eleven twelve."
    assert speaking_parts(text) == ["One two three,", "four five six.",
                                    "Seven eight nine, ten eleven twelve."]
