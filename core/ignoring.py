"""Errors deliberately not raised: a best-effort cleanup, an ack whose loss only means a
redelivery, a health probe that must answer anyway. Each is logged with the reason it may be
ignored and counted in :data:`IGNORED`, never silently dropped (see :mod:`core.errors`)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

IGNORED: Counter[str] = Counter()
"""How many times each deliberately ignored error happened, by what was being done."""


def note_ignored(logger: logging.Logger, what: str, exc: BaseException,
                 level: int = logging.INFO) -> None:
    """Log ``exc`` (type and first line, no traceback) as ignored while doing ``what``,
    and count it in :data:`IGNORED`. ``what`` says why it may be ignored."""
    IGNORED[what] += 1
    first = (str(exc).splitlines() or [""])[0][:200]
    logger.log(level, "%s (ignored %s): %s", what, type(exc).__name__, first)


@contextmanager
def ignored(logger: logging.Logger, what: str,
            *kinds: type[BaseException], level: int = logging.INFO) -> Iterator[None]:
    """Run the block; an exception of ``kinds`` is noted (:func:`note_ignored`), not raised."""
    try:
        yield
    except kinds as exc:
        note_ignored(logger, what, exc, level)
