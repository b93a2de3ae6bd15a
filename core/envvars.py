"""Settings read from ``VOICECORE_*`` variables: one parse, one error shape for all.

A leaf module (like :mod:`core.paths`), so the settings of every layer can use it."""

from __future__ import annotations

import os
from typing import overload

from core.errors import ConfigError


@overload
def number(name: str, default: float, *, what: str = ...) -> float: ...
@overload
def number(name: str, default: None = None, *, what: str = ...) -> float | None: ...


def number(name: str, default: float | None = None, *, what: str = "a number"
           ) -> float | None:
    """The variable ``name`` as a number; unset or empty is ``default``. Anything else is
    one :class:`ConfigError` line naming the variable (its value cut to 40 characters)."""
    text = os.environ.get(name, "")
    if not text:
        return default
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"{name}={text[:40]!r}: not {what}") from None


def whole_number(name: str, default: int, *, what: str = "a whole number") -> int:
    """The variable ``name`` as an integer (``number``'s rules; ``1.5`` is an error)."""
    value = number(name, default, what=what)
    if not float(value).is_integer():  # 1.5, nan, inf
        raise ConfigError(f"{name}={os.environ.get(name, '')[:40]!r}: not {what}")
    return int(value)
