"""Every corpus utterance gives the value a listener would take from it."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from core.capture.common import CONFIRM_BELOW, LANGUAGES
from tests.capture.corpus import PRIMITIVES, Case, load_corpus

CASES = load_corpus()
CANONICAL = {
    "email": re.compile(r"[a-z0-9._%+-]+@(?:[a-z0-9-]+\.)+[a-z]{2,24}"),
    "phone": re.compile(r"\+[1-9][0-9]{4,14}"),
    "confirmation": re.compile(r"yes|no"),
    "date": re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"),
}


def _param(case: Case) -> object:
    if case.known_miss:
        miss = pytest.mark.xfail(reason=case.known_miss, strict=True)
        return pytest.param(case, id=case.id, marks=miss)
    return pytest.param(case, id=case.id)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_corpus_case(case: Case) -> None:
    result = case.run()
    assert (result.value if result else None) == case.expected, case.transcript


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_results_are_well_formed(case: Case) -> None:
    result = case.run()
    if result is None:
        return
    assert CANONICAL[case.primitive].fullmatch(result.value)
    assert 0.0 <= result.confidence <= 1.0
    assert result.needs_confirmation == (result.confidence < CONFIRM_BELOW)
    assert result.readback.strip()


def test_corpus_covers_every_primitive_and_language() -> None:
    assert len(CASES) >= 200
    per_primitive = Counter(c.primitive for c in CASES)
    no_match = Counter(c.primitive for c in CASES if c.expected is None)
    languages = {(c.primitive, c.language) for c in CASES}
    for primitive in PRIMITIVES:
        assert per_primitive[primitive] >= 50, primitive
        assert no_match[primitive] >= 5, primitive
        assert {lang for p, lang in languages if p == primitive} == set(LANGUAGES), primitive


def test_corpus_has_no_duplicates() -> None:
    keys = Counter(
        (c.primitive, c.language, c.transcript, c.default_region, c.reference_date) for c in CASES
    )
    assert [key for key, count in keys.items() if count > 1] == []
