"""gTTS, the seed's online engine (Google Translate's voice, MIT-licensed client).

Every request has a timeout; Google unreachable (refused, DNS, timeout, HTTP 5xx or 429)
is a retryable :class:`~core.errors.EngineUnavailable`, and ``--tts-fallback`` lets
another engine answer. The base URL is a setting (``VOICECORE_GTTS_URL``): only the URL
gTTS posts to is replaced, gTTS's own request and response code is what runs. Voices are
``LANGUAGE:TLD`` (``en:co.uk``: the accent of that Google domain); the voice is female.
gTTS has two speeds, normal and slow: a requested speed of 0.75 or less is slow.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

from core.audio import Pcm, decode
from core.errors import EngineUnavailable, InvalidAudio, UnknownVoice
from core.text import one_line
from core.tts.engine import EngineVoice, register
from core.tts.settings import GOOGLE_URL, TtsSettings

NAME = "gtts"
TLDS = {"en": ("com", "co.uk", "com.au", "ca", "co.in"), "es": ("es", "com.mx", "us"),
        "fr": ("fr", "ca"), "de": ("de",)}
"""The Google domains per language: each speaks with its region's accent."""
SLOW_AT = 0.75
_API_PATH = "/_/TranslateWebserverUi/data/batchexecute"
_TLD = re.compile(r"^[a-z]{2,3}(\.[a-z]{2,3})?(?!\n)$")
"""A Google domain's ending (``com``, ``co.uk``): it becomes part of a host name."""


@register(NAME)
class GttsEngine:
    name = NAME

    def __init__(self, settings: TtsSettings) -> None:
        self.base_url = (settings.gtts_url or GOOGLE_URL).rstrip("/")
        self.timeout_s = settings.gtts_timeout_s

    def missing(self) -> str | None:
        import importlib.util

        return None if importlib.util.find_spec("gtts") else (
            "gTTS is not installed: pip install gTTS")

    def voices(self) -> Sequence[EngineVoice]:
        return [EngineVoice(NAME, f"{language}:{tld}", language, "female")
                for language, tlds in TLDS.items() for tld in tlds]

    def synthesize(self, text: str, voice: EngineVoice, *, speed: float) -> Pcm:
        language, _, tld = voice.id.partition(":")
        if language not in TLDS or not _TLD.match(tld):
            raise UnknownVoice(f"gTTS has no voice {voice.id[:64]!r}: LANGUAGE:TLD, e.g. en:com")
        tts = self._client(text, language, tld, slow=speed <= SLOW_AT)
        try:
            mp3 = b"".join(tts.stream())
        except Exception as exc:  # gTTSError, with requests' error as its context
            raise self._unavailable(exc) from exc
        return _decode_mp3(mp3)

    def _client(self, text: str, language: str, tld: str, *, slow: bool) -> Any:
        base_url = self.base_url if self.base_url != GOOGLE_URL else None
        try:
            return _client_class()(text, lang=language, tld=tld, slow=slow,
                                   timeout=self.timeout_s, lang_check=False, base_url=base_url)
        except (ValueError, AssertionError) as exc:  # gTTS refuses the language or text
            raise UnknownVoice(f"gTTS refused voice {language}:{tld}: {exc}") from exc

    def _unavailable(self, exc: Exception) -> EngineUnavailable:
        import requests

        where = self.base_url if self.base_url != GOOGLE_URL else "Google (translate.google.*)"
        cause = exc.__context__ if isinstance(exc.__context__, requests.RequestException) else exc
        status = getattr(getattr(exc, "rsp", None), "status_code", None)
        if isinstance(cause, requests.Timeout):
            why = f"no answer within {self.timeout_s:g}s"
        elif status is not None:
            why = f"HTTP {status}"
        else:
            why = f"{type(cause).__name__}: {one_line(str(cause), 160)}"
        error = EngineUnavailable(f"gtts: {where} could not be reached ({why}); retry later, "
                                  "or configure --tts-fallback")
        if status is not None and 400 <= status < 500 and status != 429:
            error.retryable = False  # Google refused this request: the same one fails again
        return error


@functools.cache
def _client_class() -> type[Any]:
    """gTTS posting to ``base_url`` instead of translate.google.<tld> when one is given.
    Made on first use: importing gTTS (and requests) costs a process that never speaks."""
    from gtts import gTTS

    class AtUrl(gTTS):  # type: ignore[misc]
        def __init__(self, *args: Any, base_url: str | None, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.base_url = base_url

        def _prepare_requests(self) -> list[Any]:
            prepared: list[Any] = super()._prepare_requests()
            if self.base_url is not None:
                for request in prepared:
                    request.prepare_url(self.base_url + _API_PATH, None)
            return prepared

    return AtUrl


def _decode_mp3(data: bytes) -> Pcm:
    """gTTS's MP3 as mono float32 at its own rate."""
    try:
        return decode(data)
    except InvalidAudio as exc:
        raise EngineUnavailable(f"gtts: the answer is no readable MP3: {exc}") from exc
