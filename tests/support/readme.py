"""The README's examples, read out of its fenced code blocks (for tests/test_readme.py).

Every fenced block is picked up, so an example added later is run (or refused) without
editing the test: ``sh`` and ``console`` blocks hold command lines (in ``console`` blocks
the ``$ `` lines; the lines after one are its documented output), ``python`` blocks are
programs, ``json`` blocks are events.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

_FENCE = re.compile(r"^```\s*([\w+-]*)\s*$")
_ALTERNATIVES = re.compile(r"^[\w.-]+(\|[\w.-]+)+$")


@dataclass(frozen=True)
class Block:
    lang: str
    text: str
    line: int
    """Line number (1-based) of the block's first line of content."""


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    line: int
    output: tuple[str, ...] = ()
    """Documented output (``console`` blocks): each line must appear in what it prints."""

    @property
    def where(self) -> str:
        return f"README.md:{self.line}: {shlex.join(self.argv)}"


def blocks(readme: Path) -> list[Block]:
    found: list[Block] = []
    lang: str | None = None
    start, body = 0, list[str]()
    for number, line in enumerate(readme.read_text().splitlines(), 1):
        fence = _FENCE.match(line)
        if lang is None and fence:
            lang, start, body = fence.group(1), number + 1, []
        elif lang is not None and line.strip() == "```":
            found.append(Block(lang, "\n".join(body), start))
            lang = None
        elif lang is not None:
            body.append(line)
    return found


def commands(block: Block) -> list[Command]:
    """The block's command lines, continuation lines (``\\``, open quotes) joined."""
    console = block.lang == "console"
    found: list[Command] = []
    pending, first = "", 0
    for offset, line in enumerate(block.text.splitlines()):
        if not pending:
            if console and not line.startswith("$ "):
                if found and line.strip():
                    found[-1] = Command(found[-1].argv, found[-1].line,
                                        (*found[-1].output, line.strip()))
                continue
            if not line.strip():
                continue
            line, first = line.removeprefix("$ ") if console else line, block.line + offset
        pending += line
        if pending.endswith("\\"):
            pending = pending[:-1]
            continue
        try:
            argv = shlex.split(pending, comments=True)
        except ValueError:  # a quote still open: the command goes on on the next line
            pending += "\n"
            continue
        pending = ""
        if argv:
            found.append(Command(tuple(argv), first))
    assert not pending, f"README.md:{first}: unterminated command"
    return found


def minimal(argv: tuple[str, ...]) -> tuple[str, ...]:
    """A synopsis line as the command it shows at its simplest: optional ``[...]`` parts
    left out, the first of ``a|b`` alternatives taken (``--format parquet|jsonl``)."""
    kept: list[str] = []
    depth = 0
    for token in argv:
        optional = depth > 0 or token.startswith("[")
        depth += token.count("[") - token.count("]")
        if not optional:
            kept.append(token.split("|")[0] if _ALTERNATIVES.match(token) else token)
    return tuple(kept)
