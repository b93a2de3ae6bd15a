"""The AudioService servicer: speech over gRPC, next to VoiceCore on the same bridge.

``TextToSpeech`` streams one ``AudioChunk`` per ``synthesize.chunk`` event as it is
stored, ``is_final`` on the last; ``ProcessAudioFile`` answers the whole file at once
(both through :mod:`bridge.speech`). ``ListVoices``/``GetVoice`` read the voice
catalogue (:mod:`bridge.voices`). ``StreamingSpeechToText`` runs through
``transcribe_stream`` (:mod:`bridge.listen`); the other speech-to-text calls answer
UNIMPLEMENTED until they land. Auth, parsing and statuses are VoiceCore's (:mod:`bridge.rpc`); trace
ids follow ExecutePrimitive's rules and are echoed in the ``trace-id`` trailer.
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
from bridge.voices import VoiceBook

SERVICE = "voicecore.v1.AudioService"
STT_LATER = "speech-to-text arrives with issue 11"


class AudioService(AudioServiceServicer):
    def __init__(self, speaker: Speaker, voices: VoiceBook, token: str | None,
                 listener: Listener | None = None) -> None:
        self.speaker = speaker
        self.voices = voices
        self.gate = Gate(token)
        self.listener = listener

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
                await context.abort(grpc.StatusCode.UNIMPLEMENTED, STT_LATER)
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

    async def SpeechToText(self, request_iterator: Any, context: Any) -> pb.STTResponse:
        await self.gate.admit(context)
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, STT_LATER)
        raise AssertionError("unreachable: abort raises")

    async def StreamingSpeechToText(self, request_iterator: Any,
                                    context: Any) -> AsyncIterator[pb.STTResult]:
        metadata = await self.gate.admit(context)
        if self.listener is None:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, STT_LATER)
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


def _audio_chunk(call: Speech, part: Spoken) -> pb.AudioChunk:
    ref = part.chunk.audio
    return pb.AudioChunk(data=part.audio, sequence=part.chunk.index, format=ref.format,
                         sample_rate=ref.sample_rate, is_final=part.chunk.is_final,
                         conversation_id=call.conversation_id, trace_id=call.trace_id,
                         language=call.params.language)
