"""Where ``voicecore converse`` takes the caller's replies from, one per turn.

* standard input: one line per turn (on a terminal, after a ``you: `` prompt);
* ``--script caller.yaml``: a scripted caller, a YAML list (or ``{turns: [...]}``) of
  replies, each a string (text) or ``{text: …}`` or ``{audio: FILE}``; with ``--voice``
  every text reply is synthesized with that voice and sent as speech;
* ``--audio-dir DIR``: the audio files of DIR in name order, one per turn.

A reply is text, or audio bytes (any format ``core.audio`` reads). ``None``: no more.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from core.errors import ConfigError

AUDIO_SUFFIXES = {".wav", ".mp3", ".ogg", ".opus", ".flac", ".webm"}


@dataclass(frozen=True)
class Reply:
    text: str = ""
    audio: Path | None = None
    speak: bool = False
    """Text to be synthesized (a scripted caller with ``--voice``) and sent as audio."""


class Replies:
    """The caller's replies in order."""

    def __init__(self, replies: list[Reply] | None) -> None:
        self._scripted = replies
        self.interactive = replies is None and sys.stdin.isatty()
        self.ran_out = "end of input" if replies is None else "end of the replies"
        """Why there are no more (the hang-up's reason)."""

    async def next(self) -> Reply | None:
        if self._scripted is not None:
            return self._scripted.pop(0) if self._scripted else None
        if self.interactive:
            print("you: ", end="", flush=True)
        line = await asyncio.to_thread(sys.stdin.readline)
        return Reply(text=line.rstrip("\r\n")) if line else None


def scripted(path: Path, voice: str) -> list[Reply]:
    """The replies of a caller script (one-line error naming the file otherwise)."""
    try:
        found: Any = msgspec.yaml.decode(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"--script {path}: {exc.strerror or exc}") from None
    except msgspec.DecodeError as exc:
        raise ConfigError(f"--script {path}: {exc}") from None
    if isinstance(found, dict):
        found = found.get("turns")
    if not isinstance(found, list):
        raise ConfigError(f"--script {path}: expected a list of replies (or turns: [...])")
    return [_reply(path, n, entry, voice) for n, entry in enumerate(found, 1)]


def _reply(path: Path, n: int, entry: Any, voice: str) -> Reply:
    if isinstance(entry, bool):  # YAML 1.1 reads a bare yes/no as a boolean
        return Reply(text="yes" if entry else "no", speak=bool(voice))
    if isinstance(entry, str | int | float):
        return Reply(text=str(entry), speak=bool(voice))
    if isinstance(entry, dict) and isinstance(entry.get("text"), str):
        return Reply(text=entry["text"], speak=bool(voice))
    if isinstance(entry, dict) and isinstance(entry.get("audio"), str):
        return Reply(audio=(path.parent / entry["audio"]))
    raise ConfigError(f"--script {path}: reply {n}: a string, {{text: …}} or {{audio: FILE}}")


def audio_files(directory: Path) -> list[Reply]:
    if not directory.is_dir():
        raise ConfigError(f"--audio-dir {directory}: not a directory")
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
    if not files:
        raise ConfigError(f"--audio-dir {directory}: no audio files "
                          f"({', '.join(sorted(AUDIO_SUFFIXES))})")
    return [Reply(audio=p) for p in files]
