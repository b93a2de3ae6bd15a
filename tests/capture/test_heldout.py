"""The held-out corpus (heldout.yaml): written blind by a second engineer, never tuned on."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.capture.corpus import PRIMITIVES, Case, load_corpus

HELDOUT = load_corpus(Path(__file__).with_name("heldout.yaml"))


def _param(case: Case) -> object:
    marks = [pytest.mark.xfail(reason=case.known_miss, strict=True)] if case.known_miss else []
    return pytest.param(case, id=f"heldout-{case.id}", marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in HELDOUT])
def test_heldout_case(case: Case) -> None:
    result = case.run()
    assert (result.value if result else None) == case.expected, case.transcript


def test_heldout_covers_every_primitive() -> None:
    assert {c.primitive for c in HELDOUT} == set(PRIMITIVES)
    assert len(HELDOUT) >= 50
