"""gTTS against a local server answering in Google's batchexecute format (only the URL
is replaced: gTTS's own request and response code runs), and Google unreachable."""

from __future__ import annotations

import base64
import json
import urllib.parse

import numpy as np
import pytest

from core.audio import Pcm, encode
from core.errors import EngineUnavailable, UnknownVoice
from core.tts.engine import EngineVoice, create_engine
from core.tts.settings import TtsSettings
from tests.support.fakehttp import Request, fake_http, static
from tests.support.proc import free_port

API = "/_/TranslateWebserverUi/data/batchexecute"
EMMA_EN = EngineVoice("gtts", "en:com", "en", "female")


def mp3_tone(seconds: float, rate: int = 24000) -> bytes:
    """A real MP3 (a 440 Hz tone), as Google would send speech."""
    t = np.arange(int(seconds * rate)) / rate
    return encode(Pcm((0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate), "mp3")


def google_answer(mp3: bytes) -> bytes:
    """The batchexecute response gTTS parses: the audio base64 in a ``jQ1olc`` line."""
    line = json.dumps([["wrb.fr", "jQ1olc", json.dumps([base64.b64encode(mp3).decode()]),
                        None, None, None, "generic"]], separators=(",", ":"))
    return f")]}}'\n\n{len(line)}\n{line}\n".encode()


def _spoken(request: Request) -> list[object]:
    """What gTTS asked Google to say: [text, language, slow (True or None), "null"]."""
    form = urllib.parse.parse_qs(request.body.decode())
    rpc = json.loads(form["f.req"][0])
    parameters: list[object] = json.loads(rpc[0][0][1])
    return parameters


def test_speaks_through_the_fake_google() -> None:
    with fake_http({API: static(google_answer(mp3_tone(1.5)))}) as server:
        engine = create_engine("gtts", TtsSettings(gtts_url=server.url))
        pcm = engine.synthesize("Hello there.", EMMA_EN, speed=1.0)
        slow = engine.synthesize("Hello there.", EngineVoice("gtts", "es:com.mx", "es",
                                                             "female"), speed=0.5)
    assert pcm.rate == 24000
    assert 1.4 < pcm.duration_s < 1.7
    assert np.sqrt(np.mean(pcm.samples**2)) > 0.1
    assert slow.duration_s > 1.4
    assert [r.method for r in server.requests] == ["POST", "POST"]
    assert [_spoken(r)[:3] for r in server.requests] == [["Hello there.", "en", None],
                                                         ["Hello there.", "es", True]]


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_google_failing_is_retryable_engine_unavailable(status: int) -> None:
    with fake_http({API: static(b"down", status)}) as server, \
            pytest.raises(EngineUnavailable, match=f"could not be reached \\(HTTP {status}\\); "
                          "retry later, or configure --tts-fallback") as caught:
        create_engine("gtts", TtsSettings(gtts_url=server.url)).synthesize(
            "Hi.", EMMA_EN, speed=1.0)
    assert caught.value.code == "ENGINE_UNAVAILABLE"
    assert caught.value.retryable


def test_google_refusing_the_request_is_not_retryable() -> None:
    with fake_http({API: static(b"no", 403)}) as server, \
            pytest.raises(EngineUnavailable, match=r"HTTP 403") as caught:
        create_engine("gtts", TtsSettings(gtts_url=server.url)).synthesize(
            "Hi.", EMMA_EN, speed=1.0)
    assert not caught.value.retryable


def test_google_unreachable_is_retryable_engine_unavailable() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there: connection refused
    with pytest.raises(EngineUnavailable, match=f"gtts: {url} could not be reached "
                       r"\(ConnectionError: ") as caught:
        create_engine("gtts", TtsSettings(gtts_url=url)).synthesize("Hi.", EMMA_EN, speed=1.0)
    assert caught.value.retryable
    assert "\n" not in str(caught.value)


def test_an_answer_without_audio_is_engine_unavailable() -> None:
    with fake_http({API: static(b")]}'\n\n[]\n")}) as server, \
            pytest.raises(EngineUnavailable, match="gtts: the answer is no readable MP3"):
        create_engine("gtts", TtsSettings(gtts_url=server.url)).synthesize(
            "Hi.", EMMA_EN, speed=1.0)


def test_a_malformed_voice_is_unknown_voice() -> None:
    engine = create_engine("gtts", TtsSettings(gtts_url="http://127.0.0.1:9"))
    with pytest.raises(UnknownVoice, match="gTTS has no voice 'xx'"):
        engine.synthesize("Hi.", EngineVoice("gtts", "xx", "en", "female"), speed=1.0)


def test_voices_are_female_per_language_and_domain() -> None:
    voices = create_engine("gtts", TtsSettings()).voices()
    assert EMMA_EN in voices
    assert {v.language for v in voices} == {"en", "es", "fr", "de"}
    assert {v.gender for v in voices} == {"female"}
