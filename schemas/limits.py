"""Bounds every reader applies before it trusts a body: nesting depth and integer ranges.

msgspec decodes (and even skips, for ``msgspec.Raw``) nested JSON recursively, so a
body nested a few thousand levels deep raises ``RecursionError`` instead of a
decode error. :func:`check_depth` rejects such a body first, cheaply: a body with
fewer brackets than the limit cannot be too deep, so ordinary events pay two
``bytes.count`` calls; only bracket-heavy bodies are scanned.
"""

from __future__ import annotations

import re
from typing import Annotated

import msgspec

MAX_DEPTH = 64
"""Deepest JSON nesting any voicecore reader accepts (an event needs fewer than 10)."""
INT32_MAX = 2**31 - 1

Int32 = Annotated[int, msgspec.Meta(ge=0, le=INT32_MAX)]
"""A counter stored as a 32-bit column (``attempt``, ``schema_version``)."""

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_CLOSE = frozenset(b"]}")


class TooDeep(msgspec.DecodeError):
    """The body nests deeper than allowed; a ``DecodeError``, so one ``except`` catches both."""


def nesting_depth(body: bytes) -> int:
    """Deepest ``[``/``{`` nesting outside string literals."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for byte in brackets:
        if byte in _CLOSE:
            depth -= 1
        else:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def flatten_too_deep(body: bytes, limit: int = MAX_DEPTH) -> bytes:
    """``body`` with every top-level member nested deeper than ``limit`` replaced by ``null``.

    So the envelope of a request whose ``data`` is a bracket bomb can still be read
    (to answer its caller and to file it under the right conversation). Positions are
    kept by blanking string contents instead of removing them.
    """
    masked = _STRING.sub(lambda m: b'"' + b"_" * (len(m[0]) - 2) + b'"', body)
    spans, depth, start, deepest = [], 0, 0, 0
    for match in re.finditer(rb"[\[\]{}]", masked):
        if match[0] in (b"[", b"{"):
            depth += 1
            if depth == 2:
                start, deepest = match.start(), 2
            deepest = max(deepest, depth)
        else:
            if depth == 2 and deepest > limit:
                spans.append((start, match.end()))
            depth -= 1
    for begin, end in reversed(spans):
        body = body[:begin] + b"null" + body[end:]
    return body


def check_depth(body: bytes, limit: int = MAX_DEPTH) -> None:
    """Raise :class:`TooDeep` when ``body`` nests deeper than ``limit``."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return
    depth = nesting_depth(body)
    if depth > limit:
        raise TooDeep(f"JSON nested {depth} levels deep (the limit is {limit})")
