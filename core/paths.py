"""Where voicecore keeps its files by default: a leaf module, so settings of every layer
(core/config.py, core/tts, core/stt) can name the data directory without importing each other."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "VOICECORE_DATA_DIR"


def default_data_dir() -> Path:
    """``$VOICECORE_DATA_DIR``, else ``$XDG_DATA_HOME/voicecore``, else ~/.local/share/voicecore."""
    explicit = os.environ.get(DATA_DIR_ENV)
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "voicecore"
