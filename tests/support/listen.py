"""Streamed speech for tests: an utterance cut into chunks and published as a client would,
and the stream's events read back."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import numpy as np

from core.audio import Pcm, encode
from core.audioin import publish_chunk
from core.bus import Bus
from schemas import events as ev
from schemas import ids
from schemas.audio import TranscribeStreamParams
from schemas.payloads import Request
from tests.support.streams import wait_for_events

ANSWER_S = 300.0
"""Only a bound on a hang: two busy cores may take long."""


def s16le(pcm: Pcm) -> bytes:
    return encode(pcm, "pcm_s16le")


def quantized(pcm: Pcm) -> Pcm:
    """``pcm`` as the stream carries it (16-bit), for a batch transcription of the same."""
    data = np.frombuffer(s16le(pcm), dtype="<i2").astype(np.float32) / 32768.0
    return Pcm(data, pcm.rate)


def pieces(pcm: Pcm, chunk_s: float = 0.25) -> Iterator[bytes]:
    data, step = s16le(pcm), 2 * int(chunk_s * pcm.rate)
    for start in range(0, len(data), step):
        yield data[start:start + step]


def start(conversation_id: str, stream_id: str, rate: int, **params: Any) -> ev.Event:
    return ev.new_event(ev.TranscribeStreamRequested, conversation_id=conversation_id,
                        trace_id=f"t-{stream_id}", data=Request(params=TranscribeStreamParams(
                            stream_id=stream_id, sample_rate=rate, **params)))


async def feed(bus: Bus, request: ev.Event, chunks: list[bytes], *, first: int = 0,
               final: bool = True, pace_s: float = 0.0) -> None:
    """Publish ``chunks`` as chunks ``first``, ``first + 1``, … of the request's stream
    (the last marked final when ``final``), ``pace_s`` apart."""
    stream_id = request.data.params.stream_id
    for n, chunk in enumerate(chunks):
        await publish_chunk(bus, request.conversation_id, stream_id, first + n, chunk,
                            final=final and n == len(chunks) - 1, trace_id=request.trace_id)
        if pace_s:
            await asyncio.sleep(pace_s)


async def stream_answer(bus: Bus, request: ev.Event) -> tuple[ev.Event, list[ev.Event]]:
    """The stream's result, and its partial events in stream order."""
    result_id = ids.derive_id(request.id, "result")
    found = await wait_for_events(bus, lambda es: any(e.id == result_id for e in es),
                                  timeout=ANSWER_S,
                                  subject=f"vc.ev.{request.conversation_id}.transcribe_stream.>")
    [result] = [e for e in found if e.id == result_id]
    partials = [e for e in found if e.event_type == "transcribe_stream.chunk"
                and e.causation_id == request.id]
    return result, partials


async def first_partial(bus: Bus, request: ev.Event) -> ev.Event:
    found = await wait_for_events(
        bus, lambda es: any(e.causation_id == request.id and
                            e.event_type == "transcribe_stream.chunk" for e in es),
        timeout=ANSWER_S, subject=f"vc.ev.{request.conversation_id}.transcribe_stream.chunk")
    return next(e for e in found if e.causation_id == request.id)


def words(text: str) -> list[str]:
    """Lower-case words without punctuation: how two transcripts are compared. A hyphen
    inside a word is dropped ("e-mail" is "email": Whisper writes it either way)."""
    joined = re.sub(r"(?<=\w)-(?=\w)", "", text.lower())
    return re.sub(r"[^\w' ]+", " ", joined).split()
