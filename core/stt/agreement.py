"""Local agreement (LocalAgreement-2, after ufal/whisper_streaming's ``HypothesisBuffer``):
which words of a growing utterance are stable enough to show as settled.

Each new hypothesis (the transcript of the audio buffer so far, words with absolute
times) is compared with the previous one: the longest common prefix of the two, after
the words already committed, is committed — two successive transcriptions of more and
more audio agreed on it, so it is not going to change. What follows is tentative.
Words that start before the committed end are the committed ones heard again and are
dropped, as is a repeat of the committed tail at the start (Whisper restarts a sentence
when the buffer is cut).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

OVERLAP_S = 0.1
"""A word starting this much before the committed end still counts as new (word times
move a little between two transcriptions)."""
REPEAT_WINDOW_S = 1.0
MAX_REPEAT = 5
_NOT_WORD = re.compile(r"[^\w']+")


@dataclass(frozen=True)
class TimedWord:
    start: float
    end: float
    word: str
    """As Whisper writes it (a leading space, punctuation)."""


def same_word(a: str, b: str) -> bool:
    """Equal once case and punctuation are ignored ("Hello," = "hello")."""
    return _NOT_WORD.sub("", a).lower() == _NOT_WORD.sub("", b).lower()


def text_of(words: Sequence[TimedWord]) -> str:
    return "".join(w.word for w in words).strip()


@dataclass
class LocalAgreement:
    committed: list[TimedWord] = field(default_factory=list)
    tentative: list[TimedWord] = field(default_factory=list)
    """The last hypothesis after the committed words (compared with the next one)."""

    @property
    def committed_end(self) -> float:
        return self.committed[-1].end if self.committed else 0.0

    def insert(self, hypothesis: Sequence[TimedWord]) -> list[TimedWord]:
        """Take a new hypothesis; the words it newly commits."""
        new = self._after_committed(hypothesis)
        agreed: list[TimedWord] = []
        for before, now in zip(self.tentative, new, strict=False):
            if not same_word(before.word, now.word):
                break
            agreed.append(now)
        self.committed.extend(agreed)
        self.tentative = new[len(agreed):]
        return agreed

    def _after_committed(self, hypothesis: Sequence[TimedWord]) -> list[TimedWord]:
        end = self.committed_end
        new = [w for w in hypothesis if w.start > end - OVERLAP_S]
        if not new or not self.committed or new[0].start - end > REPEAT_WINDOW_S:
            return new
        for size in range(min(len(self.committed), len(new), MAX_REPEAT), 0, -1):
            tail, head = self.committed[-size:], new[:size]
            if all(same_word(a.word, b.word) for a, b in zip(tail, head, strict=True)):
                return new[size:]
        return new

    def stability(self) -> float:
        """The committed share of the words shown (1 when nothing is tentative)."""
        shown = len(self.committed) + len(self.tentative)
        return len(self.committed) / shown if shown else 1.0
