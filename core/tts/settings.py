"""How text to speech is configured: which engine, its fallback, the voices file, gTTS's
URL and timeout, where pulled Piper voices live.

The composition root builds a :class:`TtsSettings` from flags; :meth:`TtsSettings.from_env`
reads the same settings from ``VOICECORE_*`` variables, which is how ``voicecore up``'s
worker processes receive them (they inherit its environment).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from core import envvars
from core.errors import ConfigError
from core.paths import default_data_dir

ENGINE_CHOICES = ("auto", "gtts", "piper", "espeak-ng")
GOOGLE_URL = "https://translate.google.com"
"""Where gTTS talks to by default (its ``tld`` picks the domain: ``com`` → this URL)."""
PIPER_VOICES_URL = "https://huggingface.co/rhasspy/piper-voices/resolve/main"
"""The Hugging Face repository ``voicecore voices pull`` downloads Piper voices from."""

ENV_ENGINE = "VOICECORE_TTS_ENGINE"
ENV_FALLBACK = "VOICECORE_TTS_FALLBACK"
ENV_VOICES_FILE = "VOICECORE_VOICES_FILE"
ENV_GTTS_URL = "VOICECORE_GTTS_URL"
ENV_GTTS_TIMEOUT = "VOICECORE_GTTS_TIMEOUT"
ENV_PIPER_VOICES_URL = "VOICECORE_PIPER_VOICES_URL"
ENV_PIPER_NOISE_SCALE = "VOICECORE_PIPER_NOISE_SCALE"
ENV_PIPER_NOISE_W_SCALE = "VOICECORE_PIPER_NOISE_W_SCALE"


@dataclass(frozen=True)
class TtsSettings:
    engine: str = "auto"
    """``auto`` (Piper for English when its voice is installed, else espeak-ng), or one
    engine for every language: ``gtts``, ``piper``, ``espeak-ng``."""
    fallback: str | None = None
    """The engine that answers when ``engine`` is unavailable (``--tts-fallback``)."""
    voices_file: Path | None = None
    """A TOML file adding or overriding named voices (``--voices-file``)."""
    voices_dir: Path | None = None
    """Where ``voices pull`` stores Piper voices (``<data-dir>/voices``); None = not used."""
    gtts_url: str | None = None
    """gTTS's base URL instead of Google's (a test server, a proxy); None = Google."""
    gtts_timeout_s: float = 10.0
    piper_voices_url: str = PIPER_VOICES_URL
    espeak_timeout_s: float = 30.0
    piper_noise_scale: float | None = None
    """Piper's sampling noise (its ``noise_scale``; None = the voice's own, 0.667 for most).
    At 0, with ``piper_noise_w_scale`` 0, the same text always gives the same samples."""
    piper_noise_w_scale: float | None = None
    """Piper's phoneme-duration noise (``noise_w_scale``; None = the voice's own)."""

    def __post_init__(self) -> None:
        for flag, name in (("--tts-engine", self.engine), ("--tts-fallback", self.fallback)):
            if name is not None and name not in ENGINE_CHOICES:
                raise ConfigError(f"{flag} {name!r}: choose from {', '.join(ENGINE_CHOICES)}")
        if not 0 < self.gtts_timeout_s <= 600:
            raise ConfigError(f"gTTS timeout {self.gtts_timeout_s:g}s: must be in (0, 600]")
        for name, noise in ((ENV_PIPER_NOISE_SCALE, self.piper_noise_scale),
                            (ENV_PIPER_NOISE_W_SCALE, self.piper_noise_w_scale)):
            if noise is not None and not 0 <= noise <= 2:
                raise ConfigError(f"{name}={noise:g}: must be in [0, 2]")

    @classmethod
    def from_env(cls, data_dir: Path | None = None) -> TtsSettings:
        """The settings in ``VOICECORE_*`` variables; pulled voices under ``data_dir``
        (default: the data directory's default, ``$VOICECORE_DATA_DIR`` first, where
        ``voicecore voices pull`` stores them)."""
        env = os.environ
        timeout_s = envvars.number(ENV_GTTS_TIMEOUT, 10.0, what="a number of seconds")
        file = env.get(ENV_VOICES_FILE)
        return cls(piper_noise_scale=envvars.number(ENV_PIPER_NOISE_SCALE),
                   piper_noise_w_scale=envvars.number(ENV_PIPER_NOISE_W_SCALE),
                   engine=env.get(ENV_ENGINE) or "auto", fallback=env.get(ENV_FALLBACK) or None,
                   voices_file=Path(file) if file else None,
                   voices_dir=(data_dir or default_data_dir()) / "voices",
                   gtts_url=env.get(ENV_GTTS_URL) or None, gtts_timeout_s=timeout_s,
                   piper_voices_url=env.get(ENV_PIPER_VOICES_URL) or PIPER_VOICES_URL)

    def env(self) -> dict[str, str]:
        """These settings as the variables :meth:`from_env` reads (for child processes)."""
        pairs = {ENV_ENGINE: self.engine, ENV_FALLBACK: self.fallback,
                 ENV_VOICES_FILE: str(self.voices_file) if self.voices_file else None,
                 ENV_GTTS_URL: self.gtts_url, ENV_GTTS_TIMEOUT: f"{self.gtts_timeout_s:g}",
                 ENV_PIPER_VOICES_URL: self.piper_voices_url,
                 ENV_PIPER_NOISE_SCALE: _text(self.piper_noise_scale),
                 ENV_PIPER_NOISE_W_SCALE: _text(self.piper_noise_w_scale)}
        return {k: v for k, v in pairs.items() if v}


def _text(number: float | None) -> str | None:
    return None if number is None else f"{number:g}"
