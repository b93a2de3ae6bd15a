"""How stored values reach a person's terminal: literally, always.

The log holds whatever clients published: text that looks like Rich markup
(``[/]``, ``[bold]``), emoji codes (``:x:``), our own ``[redacted]`` marker, and
terminal control characters (ESC sequences, bidi overrides). Every stored value
shown by the CLI goes through :func:`literal` (a :class:`rich.text.Text`, which
Rich never parses) and the CLI's console interprets no markup or emoji at all,
so what is shown is what is stored; control characters are shown escaped
(``\\x1b``) so none reaches the terminal raw.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rich.console import Console
from rich.text import Text

# C0/C1 controls, DEL, line/paragraph separators and the bidi controls that can
# reorder what is shown ("Trojan Source"); everything else is printable as is.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069"
                       "\u061c\ufeff]")
UNCUT = 1_000_000
"""Console width when output is not a terminal: a pipe or a file gets whole lines."""


def escape_controls(text: str) -> str:
    """``text`` with every control character written as a Python escape (``\\x1b``)."""
    return _CONTROLS.sub(_escape_one, text)


def _escape_one(match: re.Match[str]) -> str:
    char = match.group()
    return {"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(char) or (
        f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def as_text(value: Any) -> str:
    """A stored value as one string: strings as they are, the rest as JSON; None is empty."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, ensure_ascii=False)


def cut(text: str, width: int | None) -> str:
    return text if width is None or len(text) <= width else text[: width - 1] + "…"


def literal(value: Any, width: int | None = None, style: str = "") -> Text:
    """``value`` as shown to a person: escaped, optionally cut to ``width`` characters."""
    return Text(cut(escape_controls(as_text(value)), width), style=style)


def one_line(text: str, limit: int = 300) -> str:
    """An error message built from stored or library text: its first line, escaped, bounded."""
    first = text.splitlines()[0] if text.strip() else text
    return cut(escape_controls(first), limit)


def console(*, stderr: bool = False) -> Console:
    """The CLI's console: no markup, no emoji, no highlighting; uncut when not a terminal."""
    out = Console(markup=False, emoji=False, highlight=False, stderr=stderr)
    if not out.is_terminal:
        out.width = UNCUT
    return out
