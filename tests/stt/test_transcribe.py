"""The ``transcribe`` primitive through a real nats-server, a real worker and the real
VC_AUDIO object store, on the real tiny.en (and base, for languages) models."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from core.audio import Pcm, encode, encoded_rate
from core.audiostore import AudioStore, object_name
from core.bus import Bus
from core.capture import capture_email
from core.config import WorkerOptions
from core.stt.whisper import Transcriber
from core.transcribe import TRANSCRIBE, TranscribePrimitive
from core.tts.settings import TtsSettings
from core.tts.voices import VoiceCatalog
from core.worker import Worker
from schemas import events as ev
from schemas import ids
from schemas.audio import AudioFormat, AudioRef, TranscribeParams, Transcription
from schemas.payloads import Failure, Request
from tests.stt.conftest import speak
from tests.support.streams import wait_for_events

OPTIONS = WorkerOptions(concurrency=2, ack_wait_s=30.0, max_deliver=1, backoff_s=(0.05,),
                        fetch_timeout_s=0.2, shutdown_grace_s=5.0)
ANSWER_S = 600.0
"""Only a bound on a hang: two busy cores, a model to load."""
EMAIL = "My email is john dot smith at gmail dot com."


@pytest.fixture(scope="module")
def email_speech() -> Pcm:
    return speak(EMAIL)


@asynccontextmanager
async def transcribing(bus: Bus, transcriber: Transcriber) -> AsyncIterator[Worker]:
    """A worker serving ``transcribe`` on the session's loaded model."""
    primitive = TranscribePrimitive(transcriber=transcriber)
    served = dataclasses.replace(TRANSCRIBE, handler=primitive.transcribe,
                                 prepare=primitive.prepare)
    worker = Worker(bus, served, OPTIONS)
    await worker.start()
    try:
        yield worker
    finally:
        await worker.stop()


async def store(bus: Bus, conversation: str, pcm: Pcm, fmt: AudioFormat,
                rate: int = 16000) -> AudioRef:
    audio = AudioStore(bus)
    await audio.ensure()
    data = encode(pcm, fmt, rate=rate)
    return await audio.put(object_name(conversation, "upload", 0, fmt), data, format=fmt,
                           sample_rate=encoded_rate(fmt, rate), duration_s=pcm.duration_s)


async def transcribed(bus: Bus, conversation: str, audio: AudioRef, **params: Any) -> ev.Event:
    request = ev.new_event(ev.TranscribeRequested, conversation_id=conversation,
                           trace_id=f"t-{conversation}",
                           data=Request(params=TranscribeParams(audio=audio, **params)))
    await bus.publish(request)
    result_id = ids.derive_id(request.id, "result")
    found = await wait_for_events(bus, lambda es: any(e.id == result_id for e in es),
                                  timeout=ANSWER_S,
                                  subject=f"vc.ev.{conversation}.transcribe.>")
    return next(e for e in found if e.id == result_id)


FORMATS: tuple[AudioFormat, ...] = ("wav", "mp3", "ogg", "flac", "webm", "pcm_s16le")


async def test_every_input_format_is_heard(bus: Bus, tiny: Transcriber,
                                           email_speech: Pcm) -> None:
    async with transcribing(bus, tiny):
        for fmt in FORMATS:
            conversation = f"c-{fmt.replace('_', '-')}"
            ref = await store(bus, conversation, email_speech, fmt,
                              rate=22050 if fmt == "wav" else 16000)
            result = await transcribed(bus, conversation, ref, word_timestamps=True)
            assert isinstance(result.data, Transcription), (fmt, result.data)
            data = result.data
            # Whisper writes the same words as "gmail dot com" or "gmail.com" depending on the
            # codec's artefacts: what must hold is what the next primitive reads from it.
            captured = capture_email(data.text, "en")
            assert captured is not None and captured.value == "john.smith@gmail.com", (
                fmt, data.text)
            assert (data.language, data.model, data.usage.engine) == (
                "en", "tiny.en", "faster-whisper")
            assert data.usage.audio_seconds == pytest.approx(email_speech.duration_s, abs=0.1)
            assert 0 < data.confidence <= 1 and data.real_time_factor > 0
            times = [t for s in data.segments for w in s.words for t in (w.start, w.end)]
            assert times and times == sorted(times), fmt


async def test_audio_that_does_not_decode_is_invalid_audio(bus: Bus, tiny: Transcriber) -> None:
    audio = AudioStore(bus)
    await audio.ensure()
    ref = await audio.put("c-bad/upload/0.wav", b"RIFF" + b"\x00not a wave" * 50,
                          format="wav", sample_rate=16000, duration_s=1.0)
    async with transcribing(bus, tiny):
        result = await transcribed(bus, "c-bad", ref)
    assert isinstance(result.data, Failure), result.data
    assert result.data.code == "INVALID_AUDIO"
    assert "\n" not in result.data.message


async def test_a_language_whisper_does_not_know_is_invalid_params_in_one_line(
        bus: Bus, tiny: Transcriber, email_speech: Pcm) -> None:
    ref = await store(bus, "c-xx", email_speech, "wav", rate=16000)
    async with transcribing(bus, tiny):
        result = await transcribed(bus, "c-xx", ref, language="xx")
    assert isinstance(result.data, Failure), result.data
    assert result.data.code == "INVALID_PARAMS"  # the caller's mistake, not a failing model
    assert result.data.message == ("language 'xx': not a language Whisper knows (an ISO "
                                   "639-1 code such as en, es, fr, de; empty = detect)")


async def test_audio_that_is_gone_is_audio_unavailable(bus: Bus, tiny: Transcriber) -> None:
    ref = AudioRef(bucket="VC_AUDIO", name="c-gone/upload/0.wav", size=10, sha256="0" * 64,
                   format="wav", sample_rate=16000, duration_s=1.0)
    async with transcribing(bus, tiny):
        result = await transcribed(bus, "c-gone", ref)
    assert isinstance(result.data, Failure), result.data
    assert result.data.code == "AUDIO_UNAVAILABLE"


@pytest.mark.parametrize(("language", "text", "heard"), [
    ("es", "Buenos días. Quiero reservar una mesa para dos personas el viernes por la noche.",
     "mesa"),
    ("fr", "Bonjour. Je voudrais réserver une table pour deux personnes vendredi soir, s'il "
           "vous plaît.", "personnes"),
    ("de", "Guten Tag. Ich möchte bitte einen Tisch für zwei Personen am Freitagabend "
           "reservieren.", "tisch"),
])
async def test_base_detects_the_language_spoken(bus: Bus, base: Transcriber, language: str,
                                                text: str, heard: str) -> None:
    catalog = VoiceCatalog(TtsSettings(engine="espeak-ng"))
    engine, voice, _ = catalog.resolve(f"espeak-ng:{'fr-fr' if language == 'fr' else language}"
                                       "+m3", language)
    # espeak-ng at its usual pace is too fast for base to tell French from Thai: slower.
    pcm = engine.synthesize(text, voice, speed=0.65)
    conversation = f"c-lang-{language}"
    async with transcribing(bus, base):
        ref = await store(bus, conversation, pcm, "ogg")
        result = await transcribed(bus, conversation, ref)
    assert isinstance(result.data, Transcription), result.data
    assert (result.data.language, result.data.model) == (language, "base")
    assert 0 < result.data.language_probability <= 1
    assert heard in result.data.text.lower()
