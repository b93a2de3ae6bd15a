"""Untrusted text made safe for one line: of a log, an error message or a header.

Stored values, library messages and client input can hold newlines, terminal
control sequences and bidi overrides ("Trojan Source"), and be any length. The
event log's errors, its service's replies and the dead-letter reasons all go
through :func:`one_line`; the CLI's literal rendering reuses the same escaping.
"""

from __future__ import annotations

import re

# C0/C1 controls, DEL, line/paragraph separators and the bidi controls that can
# reorder what is shown ("Trojan Source"); everything else is printable as is.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069"
                       "\u061c\ufeff]")


def escape_controls(text: str) -> str:
    """``text`` with every control character written as a Python escape (``\\x1b``)."""
    return _CONTROLS.sub(_escape_one, text)


def _escape_one(match: re.Match[str]) -> str:
    char = match.group()
    return {"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(char) or (
        f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def cut(text: str, width: int | None) -> str:
    return text if width is None or len(text) <= width else text[: width - 1] + "…"


def one_line(text: str, limit: int = 300) -> str:
    """An error message built from stored or library text: its first line, escaped, bounded."""
    first = text.splitlines()[0] if text.strip() else text
    return cut(escape_controls(first), limit)


def preview(text: str, limit: int = 64) -> str:
    """``repr`` of untrusted text, cut to ``limit`` characters: never echo unbounded input."""
    return repr(text if len(text) <= limit else text[:limit] + "…")
