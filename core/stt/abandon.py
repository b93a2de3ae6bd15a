"""A pass of the model that its caller no longer wants, stopped between the model's stages.

CTranslate2 cannot interrupt a call, but one faster-whisper pass is three: the encoder
over its 30 s window (~0.34 s of a ~0.5 s tiny.en pass on this machine), the decoder, and
the word alignment. A streaming partial still running when the stream ends only delays
the final, which waits for the model (README, *Streaming speech to text*).
:func:`abandonable` makes a loaded model ask, before its decoder and before its
alignment, whether the pass's caller has given up on it (:func:`abandoned_when`, set in
the thread running the pass); if so the pass stops there with :class:`PassAbandoned`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

Abandon = Callable[[], bool]
"""True once the pass's caller no longer wants it; called on the model's thread."""

STAGES = ("generate_with_fallback", "add_word_timestamps")
"""faster-whisper's ``WhisperModel`` methods that run the decoder and the word alignment,
each called on the instance by its ``transcribe`` (1.2, ``constraints.txt``;
``tests/stt/test_abandon.py`` checks both on the real model)."""

_ABANDON: ContextVar[Abandon | None] = ContextVar("voicecore_abandon", default=None)


class PassAbandoned(Exception):
    """The pass's caller gave up on it; raised between two of the model's stages."""


def abandonable(model: Any) -> None:
    """Make ``model`` (a loaded ``WhisperModel``) check before each of :data:`STAGES`."""
    for name in STAGES:
        setattr(model, name, functools.partial(_unless_abandoned, getattr(model, name)))


@contextmanager
def abandoned_when(abandon: Abandon | None) -> Iterator[None]:
    """Passes run in this block (on this thread) stop at the next stage once ``abandon()``."""
    if abandon is not None and abandon():
        raise PassAbandoned  # not even the encoder
    token = _ABANDON.set(abandon)
    try:
        yield
    finally:
        _ABANDON.reset(token)


def _unless_abandoned(stage: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    abandon = _ABANDON.get()
    if abandon is not None and abandon():
        raise PassAbandoned
    return stage(*args, **kwargs)
