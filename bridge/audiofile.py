"""ProcessAudioFile's answer for synthesis: the parts joined into one file, and the result.

A file of one part is that part's bytes as stored. Several raw ``pcm_s16le`` parts are
their bytes one after another; other formats have a header (WAV, FLAC) or frames that do
not simply concatenate (Opus in Ogg), so their parts are decoded, joined and encoded once
more, off the event loop (:mod:`core.audio`).
"""

from __future__ import annotations

import asyncio

from bridge._proto import audio_service_pb2 as pb
from bridge.speech import Finished, Speech, Spoken
from core import audio
from schemas.audio import AudioRef


async def file_response(call: Speech, parts: list[Spoken],
                        finished: Finished) -> pb.ProcessAudioFileResponse:
    result = finished.result
    data = await asyncio.to_thread(joined, parts)
    usage = result.usage
    return pb.ProcessAudioFileResponse(
        data=data, format=result.format,
        sample_rate=parts[0].chunk.audio.sample_rate if parts else result.sample_rate,
        duration_seconds=result.duration_s, objects=[audio_object(ref) for ref in result.chunks],
        usage=pb.Usage(engine=usage.engine, voice=usage.voice, characters=usage.characters,
                       audio_seconds=usage.audio_seconds),
        conversation_id=call.conversation_id, trace_id=call.trace_id,
        request_event_id=finished.request_id, result_event_id=finished.result_id,
        voice_id=result.voice, engine=result.engine)


def joined(parts: list[Spoken]) -> bytes:
    """One file of the parts' audio, in order (blocking)."""
    if len(parts) == 1:
        return parts[0].audio
    if not parts:
        return b""
    first = parts[0].chunk.audio
    if first.format == "pcm_s16le":
        return b"".join(part.audio for part in parts)
    pcm = audio.concat([audio.decode(part.audio, fmt=part.chunk.audio.format,
                                     source_rate=part.chunk.audio.sample_rate)
                        for part in parts])
    return audio.encode(pcm, first.format, rate=first.sample_rate)


def audio_object(ref: AudioRef) -> pb.AudioObject:
    return pb.AudioObject(bucket=ref.bucket, name=ref.name, size=ref.size, sha256=ref.sha256,
                          format=ref.format, sample_rate=ref.sample_rate,
                          duration_seconds=ref.duration_s)
