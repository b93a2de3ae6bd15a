"""The text-to-speech flags, shared by the commands that speak or list voices (``voices``
here; ``up``/``say`` may take them too). Each has its ``VOICECORE_*`` variable, which is
also how ``voicecore up`` hands the settings to its worker processes."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from core.tts import settings as tts
from core.tts.settings import TtsSettings

TtsEngine = Annotated[str, typer.Option(
    "--tts-engine", envvar=tts.ENV_ENGINE,
    help="auto (Piper for English when installed, espeak-ng for es/fr/de), gtts, piper or "
         "espeak-ng")]
TtsFallback = Annotated[str | None, typer.Option(
    "--tts-fallback", envvar=tts.ENV_FALLBACK,
    help="The engine that answers when the chosen one is unavailable (e.g. espeak-ng)")]
VoicesFile = Annotated[Path | None, typer.Option(
    "--voices-file", envvar=tts.ENV_VOICES_FILE,
    help="A TOML file adding or overriding named voices")]
GttsUrl = Annotated[str | None, typer.Option(
    "--gtts-url", envvar=tts.ENV_GTTS_URL,
    help="Base URL gTTS talks to instead of Google's (a proxy or a test server)")]
GttsTimeout = Annotated[float, typer.Option(
    "--gtts-timeout", envvar=tts.ENV_GTTS_TIMEOUT, min=0.1, max=600,
    help="Seconds gTTS waits for Google")]


def tts_settings(data_dir: Path | None, *, engine: str = "auto", fallback: str | None = None,
                 voices_file: Path | None = None, gtts_url: str | None = None,
                 gtts_timeout_s: float = 10.0) -> TtsSettings:
    """The settings the flags chose, over those only variables set (Piper's noise);
    pulled Piper voices live in ``<data-dir>/voices``."""
    return dataclasses.replace(TtsSettings.from_env(data_dir), engine=engine,
                               fallback=fallback, voices_file=voices_file, gtts_url=gtts_url,
                               gtts_timeout_s=gtts_timeout_s)
