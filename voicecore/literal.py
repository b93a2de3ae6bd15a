"""How stored values reach a person's terminal: literally, always.

The log holds whatever clients published: text that looks like Rich markup
(``[/]``, ``[bold]``), emoji codes (``:x:``), our own ``[redacted]`` marker, and
terminal control characters (ESC sequences, bidi overrides). Every stored value
shown by the CLI goes through :func:`literal` (a :class:`rich.text.Text`, which
Rich never parses) and the CLI's console interprets no markup or emoji at all,
so what is shown is what is stored; control characters are shown escaped
(``\\x1b``, :func:`core.text.escape_controls`) so none reaches the terminal raw.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.text import Text

from core.text import cut, escape_controls, one_line

__all__ = ["UNCUT", "as_text", "console", "cut", "escape_controls", "literal", "one_line"]

UNCUT = 1_000_000
"""Console width when output is not a terminal: a pipe or a file gets whole lines."""


def as_text(value: Any) -> str:
    """A stored value as one string: strings as they are, the rest as JSON; None is empty."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, ensure_ascii=False)


def literal(value: Any, width: int | None = None, style: str = "") -> Text:
    """``value`` as shown to a person: escaped, optionally cut to ``width`` characters."""
    return Text(cut(escape_controls(as_text(value)), width), style=style)


def console(*, stderr: bool = False) -> Console:
    """The CLI's console: no markup, no emoji, no highlighting; uncut when not a terminal."""
    out = Console(markup=False, emoji=False, highlight=False, stderr=stderr)
    if not out.is_terminal:
        out.width = UNCUT
    return out
