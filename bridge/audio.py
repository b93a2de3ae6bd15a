"""The AudioService servicer: speech over gRPC, next to VoiceCore on the same bridge.

``TextToSpeech`` streams one ``AudioChunk`` per ``synthesize.chunk`` event as it is
stored, ``is_final`` on the last; ``ProcessAudioFile`` with ``text`` answers the whole
file at once (both through :mod:`bridge.speech`). ``SpeechToText`` and
``ProcessAudioFile`` with ``audio`` transcribe a whole utterance or file through
``transcribe`` (:mod:`bridge.transcribing`); ``StreamingSpeechToText`` runs through
``transcribe_stream`` (:mod:`bridge.listen`). ``ListVoices``/``GetVoice`` read the voice
catalogue (:mod:`bridge.voices`). Auth, parsing and statuses are VoiceCore's
(:mod:`bridge.rpc`); trace ids follow ExecutePrimitive's rules and are echoed in the
``trace-id`` trailer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc

from bridge import limits
from bridge._proto import audio_service_pb2 as pb
from bridge._proto.audio_service_pb2_grpc import AudioServiceServicer
from bridge.audiofile import file_response
from bridge.limits import Malformed
from bridge.listen import Listener
from bridge.rpc import Gate, answered, parsed
from bridge.speech import Finished, Speaker, Speech, Spoken, speech
from bridge.tracecontext import TRACE_ID_HEADER, resolve_trace_id, server_span
from bridge.transcribing import (
    Hearing,
    Scribe,
    check_subtitles,
    gathered,
    hearing,
    stt_response,
)
from bridge.transcribing import file_response as transcription_file
from bridge.voices import VoiceBook
from core.audiocheck import AudioLimits

SERVICE = "voicecore.v1.AudioService"
NO_STT = "speech to text is not served by this bridge"


class AudioService(AudioServiceServicer):
    def __init__(self, speaker: Speaker, voices: VoiceBook, token: str | None,
                 listener: Listener | None = None, scribe: Scribe | None = None) -> None:
        self.speaker = speaker
        self.voices = voices
        self.gate = Gate(token)
        self.listener = listener
        self.scribe = scribe

    async def TextToSpeech(self, request: pb.TTSRequest | Malformed,
                           context: Any) -> AsyncIterator[pb.AudioChunk]:
        metadata = await self.gate.admit(context)
        request = await parsed(request, context)
        async with answered(context):
            call = _speech_of(request, metadata, context)
            with server_span("TextToSpeech", call.trace_id, metadata, SERVICE):
                synthesis = await self.speaker.start(call, context.time_remaining())
            async with synthesis:
                async for part in synthesis.parts():
                    if isinstance(part, Spoken):
                        yield _audio_chunk(call, part)

    async def ProcessAudioFile(self, request: pb.ProcessAudioFileRequest | Malformed,
                               context: Any) -> pb.ProcessAudioFileResponse:
        metadata = await self.gate.admit(context)
        request = await parsed(request, context)
        async with answered(context):
            if request.WhichOneof("input") == "audio":
                return await self._transcribe_file(request, metadata, context)
            call = _speech_of(request, metadata, context)
            with server_span("ProcessAudioFile", call.trace_id, metadata, SERVICE):
                synthesis = await self.speaker.start(call, context.time_remaining())
            spoken: list[Spoken] = []
            async with synthesis:
                async for part in synthesis.parts():
                    if isinstance(part, Finished):
                        return await file_response(call, spoken, part)
                    spoken.append(part)
        raise AssertionError("unreachable: the parts end with Finished or raise")

    async def ListVoices(self, request: pb.ListVoicesRequest | Malformed,
                         context: Any) -> pb.ListVoicesResponse:
        await self.gate.admit(context)
        request = await parsed(request, context)
        async with answered(context):
            return await self.voices.list(request)
        raise AssertionError("unreachable: answered re-raises")

    async def GetVoice(self, request: pb.GetVoiceRequest | Malformed,
                       context: Any) -> pb.Voice:
        await self.gate.admit(context)
        request = await parsed(request, context)
        async with answered(context):
            return await self.voices.get(request.voice_id)
        raise AssertionError("unreachable: answered re-raises")

    async def _transcribe_file(self, request: pb.ProcessAudioFileRequest,
                               metadata: dict[str, str],
                               context: Any) -> pb.ProcessAudioFileResponse:
        scribe = await self._scribe(context)
        fmt = check_subtitles(request.subtitles)
        call = _hearing_of(request, request.audio, request.hint, metadata, context)
        with server_span("ProcessAudioFile", call.trace_id, metadata, SERVICE):
            heard = await scribe.transcribe(call, context.time_remaining())
        return transcription_file(call, heard, fmt)

    async def SpeechToText(self, request_iterator: Any, context: Any) -> pb.STTResponse:
        metadata = await self.gate.admit(context)
        scribe = await self._scribe(context)
        async with answered(context):
            first, data = await gathered(request_iterator, AudioLimits.from_env().max_bytes)
            call = _hearing_of(first, data, first.hint, metadata, context)
            with server_span("SpeechToText", call.trace_id, metadata, SERVICE):
                heard = await scribe.transcribe(call, context.time_remaining())
            return stt_response(call, heard)
        raise AssertionError("unreachable: answered re-raises")

    async def _scribe(self, context: Any) -> Scribe:
        if self.scribe is None:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, NO_STT)
        assert self.scribe is not None
        return self.scribe

    async def StreamingSpeechToText(self, request_iterator: Any,
                                    context: Any) -> AsyncIterator[pb.STTResult]:
        metadata = await self.gate.admit(context)
        if self.listener is None:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, NO_STT)
        assert self.listener is not None
        async with answered(context):
            async for result in self.listener.stream(request_iterator, context, metadata):
                yield result


def _speech_of(request: pb.TTSRequest | pb.ProcessAudioFileRequest,
               metadata: dict[str, str], context: Any) -> Speech:
    """The call's checked fields; its trace id resolved and echoed in the trailer."""
    trace_id = resolve_trace_id(request.trace_id, metadata)
    context.set_trailing_metadata(((TRACE_ID_HEADER, trace_id),))
    call = speech(request.text, voice=request.voice_id, language=request.language,
                  fmt=request.format, sample_rate=request.sample_rate, speed=request.speed,
                  conversation_id=request.conversation_id, trace_id=trace_id)
    limits.check_request_size(request)
    return call


def _hearing_of(fields: pb.AudioChunk | pb.ProcessAudioFileRequest, audio: bytes, hint: str,
                metadata: dict[str, str], context: Any) -> Hearing:
    """A transcription call's checked fields; its trace id resolved and echoed."""
    trace_id = resolve_trace_id(fields.trace_id, metadata)
    context.set_trailing_metadata(((TRACE_ID_HEADER, trace_id),))
    return hearing(audio, fmt=fields.format, sample_rate=fields.sample_rate,
                   language=fields.language, hint=hint,
                   conversation_id=fields.conversation_id, trace_id=trace_id)


def _audio_chunk(call: Speech, part: Spoken) -> pb.AudioChunk:
    ref = part.chunk.audio
    return pb.AudioChunk(data=part.audio, sequence=part.chunk.index, format=ref.format,
                         sample_rate=ref.sample_rate, is_final=part.chunk.is_final,
                         conversation_id=call.conversation_id, trace_id=call.trace_id,
                         language=call.params.language)
