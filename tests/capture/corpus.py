"""The capture corpus (``corpus.yaml``) as typed cases; shared by the tests and the benchmark."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from core.capture import capture_confirmation, capture_date, capture_email, capture_phone
from core.capture.common import check_language
from schemas.payloads import CaptureResult, Language

CORPUS_PATH = Path(__file__).with_name("corpus.yaml")
PRIMITIVES = ("email", "phone", "confirmation", "date")
_REQUIRED = {"primitive", "language", "transcript", "expected"}
_OPTIONAL = {"default_region", "reference_date", "known_miss"}


@dataclass(frozen=True)
class Case:
    """One corpus utterance and the value a listener would take from it."""

    id: str
    primitive: str
    language: Language
    transcript: str
    expected: str | None
    default_region: str = "US"
    reference_date: dt.date | None = None
    known_miss: str | None = None

    def run(self) -> CaptureResult | None:
        """Call the primitive this case is for."""
        if self.primitive == "email":
            return capture_email(self.transcript, self.language)
        if self.primitive == "phone":
            return capture_phone(self.transcript, self.language, self.default_region)
        if self.primitive == "confirmation":
            return capture_confirmation(self.transcript, self.language)
        return capture_date(self.transcript, self.language, self.reference_date)


def _case(raw: dict[str, Any], counters: dict[str, int]) -> Case:
    keys = set(raw)
    if not keys >= _REQUIRED or not keys <= _REQUIRED | _OPTIONAL:
        raise ValueError(f"corpus entry has keys {sorted(keys)}: {raw}")
    if raw["primitive"] not in PRIMITIVES:
        raise ValueError(f"unknown primitive in corpus entry: {raw}")
    if raw["primitive"] == "date" and not isinstance(raw.get("reference_date"), dt.date):
        raise ValueError(f"date entries need a reference_date (results must not drift): {raw}")
    language = check_language(raw["language"])
    prefix = f"{raw['primitive']}-{language}"
    counters[prefix] = counters.get(prefix, 0) + 1
    expected = raw["expected"]
    return Case(
        id=f"{prefix}-{counters[prefix]:02d}",
        primitive=raw["primitive"],
        language=language,
        transcript=str(raw["transcript"]),
        expected=None if expected is None else str(expected),
        default_region=str(raw.get("default_region", "US")),
        reference_date=raw.get("reference_date"),
        known_miss=raw.get("known_miss"),
    )


def load_corpus(path: Path = CORPUS_PATH) -> list[Case]:
    """All corpus cases, in file order, with stable ids like ``phone-fr-03``."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    counters: dict[str, int] = {}
    return [_case(raw, counters) for raw in document["cases"]]
