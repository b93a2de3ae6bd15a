"""One fixed sample of every built-in event type (used by golden-file and round-trip tests)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from schemas import events as ev
from schemas.audio import (
    AudioRef,
    Segment,
    StreamTranscription,
    SynthesisChunk,
    SynthesisResult,
    SynthesizeParams,
    TranscribeParams,
    TranscribeStreamParams,
    Transcription,
    TranscriptionPartial,
    Usage,
    Word,
)
from schemas.conversation import (
    Abandonment,
    ConversationRequest,
    ConversationResult,
    ConversationStart,
    FlowRef,
    HangUp,
    ObjectiveFailure,
    ObjectiveResult,
    ObjectiveStart,
    Prompt,
    Turn,
)
from schemas.payloads import (
    CaptureParams,
    CaptureResult,
    DateParams,
    Failure,
    PhoneParams,
    Redaction,
    Request,
)

WHEN = dt.datetime(2026, 11, 23, 16, 39, 27, 123456, tzinfo=dt.UTC)
REQUEST_ID = "019ab1f2-0f3b-7c1d-8e2f-3a4b5c6d7e8f"
RESULT_ID = "019ab1f2-0f3b-7a10-9b2c-1d2e3f405162"

_FAILURE = Failure(code="NO_MATCH", message="nothing to capture in the transcript",
                   retryable=True)

_AUDIO = AudioRef(
    bucket="VC_AUDIO", name=f"c42/{REQUEST_ID}/0.wav", size=52_844, sha256="5e" * 32,
    format="wav", sample_rate=22050, duration_s=1.198)

DATA: dict[type[ev.Event], Any] = {
    ev.CaptureEmailRequested: Request(
        params=CaptureParams(transcript="it's john dot smith at gmail dot com"),
        purpose="billing email"),
    ev.CaptureEmailCompleted: CaptureResult(
        value="john.smith@gmail.com", confidence=0.95, needs_confirmation=False,
        readback="john dot smith at gmail dot com"),
    ev.CaptureEmailFailed: _FAILURE,
    ev.CapturePhoneRequested: Request(
        params=PhoneParams(transcript="five five five one two three four five six seven",
                           default_region="US"), timeout_s=5.0),
    ev.CapturePhoneCompleted: CaptureResult(
        value="+15551234567", confidence=0.9, needs_confirmation=True,
        readback="5 5 5, 1 2 3, 4 5 6 7"),
    ev.CapturePhoneFailed: Failure(code="INVALID_PARAMS", message="unknown region 'ZZ'"),
    ev.CaptureConfirmationRequested: Request(
        params=CaptureParams(transcript="sí, claro", language="es")),
    ev.CaptureConfirmationCompleted: CaptureResult(
        value="yes", confidence=0.97, needs_confirmation=False, readback="sí"),
    ev.CaptureConfirmationFailed: _FAILURE,
    ev.CaptureDateRequested: Request(
        params=DateParams(transcript="le 3 mars", language="fr",
                          reference_date=dt.date(2026, 1, 15))),
    ev.CaptureDateCompleted: CaptureResult(
        value="2026-03-03", confidence=0.9, needs_confirmation=False,
        readback="mardi 3 mars 2026"),
    ev.CaptureDateFailed: Failure(code="TIMEOUT", message="no result in 30s"),
    ev.EventlogRedacted: Redaction(
        reason="retention", redacted_events=2,
        fields=("data.params.transcript", "data.readback", "data.value"),
        previous_head="9f" * 32, new_head="3c" * 32, first_pos=1, last_pos=2),
    ev.SynthesizeRequested: Request(
        params=SynthesizeParams(text="Thanks for calling. How can I help?", voice="emma",
                                format="wav"), purpose="greeting"),
    ev.SynthesizeChunk: SynthesisChunk(index=0, is_final=True, audio=_AUDIO, characters=35),
    ev.SynthesizeCompleted: SynthesisResult(
        chunks=(_AUDIO,), time_to_first_audio_ms=84.5, duration_s=1.198, engine="piper",
        voice="emma", language="en", format="wav", sample_rate=22050,
        usage=Usage(engine="piper", voice="en_US-joe-medium", characters=35,
                    audio_seconds=1.198)),
    ev.SynthesizeFailed: Failure(code="ENGINE_UNAVAILABLE",
                                 message="gtts: Google could not be reached", retryable=True),
    ev.TranscribeRequested: Request(
        params=TranscribeParams(audio=_AUDIO, hint="email", word_timestamps=True),
        purpose="billing email"),
    ev.TranscribeCompleted: Transcription(
        text="john dot smith at gmail dot com", language="en", language_probability=0.98,
        confidence=0.91,
        segments=(Segment(start=0.0, end=1.198, text="john dot smith at gmail dot com",
                          confidence=0.91, avg_logprob=-0.12, no_speech_prob=0.01,
                          words=(Word(start=0.0, end=0.4, word="john", probability=0.97),)),),
        duration_s=1.198, real_time_factor=0.21, model="tiny.en",
        usage=Usage(engine="faster-whisper", voice="tiny.en", audio_seconds=1.198)),
    ev.TranscribeFailed: Failure(code="INVALID_AUDIO", message="not audio: no stream found"),
    ev.TranscribeStreamRequested: Request(
        params=TranscribeStreamParams(stream_id="s1", hint="email", end_of_speech_s=0.8),
        purpose="billing email"),
    ev.TranscribeStreamChunk: TranscriptionPartial(
        index=2, committed="john dot", tentative="smith at", stability=0.5, audio_end_s=1.5),
    ev.TranscribeStreamCompleted: StreamTranscription(
        text="john dot smith", language="en", language_probability=1.0, confidence=0.9,
        segments=(Segment(start=0.0, end=1.2, text="john dot smith", confidence=0.9),),
        duration_s=1.2, real_time_factor=0.3, model="tiny.en",
        usage=Usage(engine="faster-whisper", voice="tiny.en", audio_seconds=1.2),
        ended_by="end_of_speech", time_to_final_ms=312.5, audio=_AUDIO, chunks=12),
    ev.TranscribeStreamFailed: Failure(code="INVALID_AUDIO",
                                       message="stream s1: chunk 3 is missing"),
    ev.ConversationRequested: ConversationRequest(
        flow=FlowRef(name="contact_details", version="5e" * 32,
                     document="name: contact_details\nobjectives: []\n"),
        language="en", voice="emma"),
    ev.ConversationStarted: ConversationStart(
        flow="contact_details", flow_version="5e" * 32,
        objectives=("greet", "email", "phone", "callback_date", "goodbye")),
    ev.ObjectiveStarted: ObjectiveStart(objective="email", primitive="capture_email",
                                        slot="email"),
    ev.PromptSpoken: Prompt(objective="email", kind="reprompt", attempt=2,
                            text="Could you spell your email for me?", audio=_AUDIO),
    ev.TurnReceived: Turn(text="j o h n dot smith at gmail dot com"),
    ev.ObjectiveCompleted: ObjectiveResult(objective="email", slot="email",
                                           value="john.smith@gmail.com", confidence=0.93,
                                           confirmed=True, attempts=2),
    ev.ObjectiveFailed: ObjectiveFailure(objective="phone", code="MAX_ATTEMPTS",
                                         reason="no phone number after 3 attempts",
                                         attempts=3),
    ev.ConversationCompleted: ConversationResult(
        slots={"email": "john.smith@gmail.com", "callback_date": "2026-12-03"},
        failed=("phone",)),
    ev.ConversationAbandoned: Abandonment(code="UNAVAILABLE",
                                          reason="capture_phone: circuit open",
                                          slots={"email": "john.smith@gmail.com"}),
    ev.ConversationHungUp: HangUp(reason="end of input"),
}


def sample(cls: type[ev.Event], conversation_id: str = "c42") -> ev.Event:
    is_request = ev.type_of(cls).endswith(".requested")
    return cls(
        id=REQUEST_ID if is_request else RESULT_ID,
        conversation_id=conversation_id,
        trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
        causation_id=None if is_request else REQUEST_ID,
        occurred_at=WHEN,
        producer="voicecore@test:1",
        data=DATA[cls],
    )
