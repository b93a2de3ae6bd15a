"""Local agreement (LocalAgreement-2) on hand-made hypotheses."""

from __future__ import annotations

from core.stt.agreement import LocalAgreement, TimedWord, text_of


def hyp(*spoken: str, start: float = 0.0) -> list[TimedWord]:
    return [TimedWord(start + n * 0.5, start + n * 0.5 + 0.4, f" {w}")
            for n, w in enumerate(spoken)]


def test_the_common_prefix_of_two_hypotheses_is_committed_the_rest_stays_tentative() -> None:
    agreement = LocalAgreement()
    assert agreement.insert(hyp("my", "male")) == []
    assert agreement.stability() == 0.0
    committed = agreement.insert(hyp("My", "email", "is"))
    assert text_of(committed) == "My"
    assert (text_of(agreement.committed), text_of(agreement.tentative)) == ("My", "email is")
    agreement.insert(hyp("my", "email", "is", "john."))
    assert text_of(agreement.committed) == "My email is"
    assert agreement.stability() == 0.75


def test_committed_words_heard_again_are_not_committed_twice() -> None:
    agreement = LocalAgreement()
    agreement.insert(hyp("one", "two"))
    agreement.insert(hyp("one", "two", "three"))
    assert text_of(agreement.committed) == "one two"
    # after a trim the buffer restarts: "two" is heard again at the start, then "three"
    agreement.insert(hyp("two", "three", "four", start=0.9))
    agreement.insert(hyp("two", "three", "four", "five", start=0.9))
    assert text_of(agreement.committed) == "one two three four"
