"""Streamed audio on NATS: the chunks of one utterance, published in order and read in
order by the one worker that owns the stream.

A chunk is a RAW message body (``pcm_s16le`` at the stream's rate: it decodes on its
own, and audio never goes base64 in JSON) on ``vc.audio.<conversation>.<stream_id>``, in
the JetStream stream ``VC_AUDIO_IN`` (file storage, short ``max_age``: the utterance
itself is kept in ``VC_AUDIO`` by its owner). Not in ``VC_EVENTS``: the event log would
quarantine raw bodies. The envelope is in headers: ``Nats-Msg-Id`` (derived from the
stream and the chunk's position, so a re-sent chunk is stored once), ``Vc-Conversation``,
``Vc-Trace-Id``, ``Vc-Stream-Seq`` (0, 1, 2, …) and ``Vc-Stream-Final: 1`` on the last.

Ordering and ownership: the publisher (the bridge) waits for each chunk's PubAck before
the next, so the stream holds them in order; the owner reads them with one ordered
consumer filtered on the stream's subject (:class:`core.consumer_modes.Ordered`: a gap
re-creates it after the last sequence seen), from the first chunk. A reader that takes
over from a dead owner reads from the first chunk again. ``Vc-Stream-Seq`` is checked
too: a repeat is skipped, a gap is an error (``INVALID_AUDIO``), never silent.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from nats.js.errors import NotFoundError

from core import subjects
from core.bus import Bus, Published
from core.consumer import Ordered, PullConsumer
from core.consumer_modes import FROM_THE_START
from core.errors import InvalidAudio, nats_errors
from core.stored import stored_messages
from schemas import ids

MAX_CHUNK_BYTES = 256 * 1024
"""The largest chunk (8 s of 16 kHz s16le); NATS's default max payload is 1 MB."""
READER_PREFIX = "vc_listen_"
"""Names of the owners' ordered consumers on ``VC_AUDIO_IN``."""


@dataclass(frozen=True)
class AudioPiece:
    """One chunk as its owner reads it."""

    sequence: int
    data: bytes
    final: bool


def chunk_message_id(conversation_id: str, stream_id: str, sequence: int) -> str:
    return ids.derive_id(f"{conversation_id}/{stream_id}", f"audio/{sequence}")


async def publish_chunk(bus: Bus, conversation_id: str, stream_id: str, sequence: int,
                        data: bytes, *, final: bool, trace_id: str) -> Published:
    """Store one chunk (returns once JetStream has it); raises ``BusError``."""
    if len(data) > MAX_CHUNK_BYTES:
        raise InvalidAudio(f"audio chunk {sequence} is {len(data)} bytes; at most "
                           f"{MAX_CHUNK_BYTES}")
    headers = {
        subjects.HEADER_MSG_ID: chunk_message_id(conversation_id, stream_id, sequence),
        subjects.HEADER_CONVERSATION: conversation_id,
        subjects.HEADER_TRACE_ID: trace_id,
        subjects.HEADER_STREAM_SEQUENCE: str(sequence),
    }
    if final:
        headers[subjects.HEADER_STREAM_FINAL] = "1"
    return await bus.publish_raw(subjects.audio_in_subject(conversation_id, stream_id),
                                 data, headers)


class ChunkReader:
    """The chunks of one stream, in order, from the first (the owner's one consumer)."""

    def __init__(self, bus: Bus, conversation_id: str, stream_id: str) -> None:
        self.stream_id = stream_id
        self._consumer = PullConsumer(
            bus, Ordered((subjects.audio_in_subject(conversation_id, stream_id),),
                         FROM_THE_START, prefix=READER_PREFIX),
            credit=64, stream=subjects.AUDIO_IN_STREAM)
        self._expected = 0

    async def open(self) -> None:
        await self._consumer.start()

    async def close(self) -> None:
        await self._consumer.stop()

    async def next(self, timeout_s: float) -> AudioPiece | None:
        """The next chunk; ``None`` when none came for ``timeout_s``. Raises
        :class:`InvalidAudio` when a chunk is missing or has no position."""
        while True:
            try:  # asyncio.timeout: 3.11's wait_for can lose a cancellation (core.pause)
                async with asyncio.timeout(timeout_s):
                    msg = await self._consumer.next()
            except TimeoutError:
                return None
            self._consumer.release()
            headers = msg.headers or {}
            try:
                sequence = int(headers.get(subjects.HEADER_STREAM_SEQUENCE, ""))
            except ValueError:
                raise InvalidAudio(f"stream {self.stream_id}: a chunk without its "
                                   f"{subjects.HEADER_STREAM_SEQUENCE} header") from None
            if sequence < self._expected:
                continue  # a repeat (a publisher that re-sent it after a lost PubAck)
            if sequence > self._expected:
                raise InvalidAudio(f"stream {self.stream_id}: chunk {self._expected} is "
                                   f"missing (chunk {sequence} came next)")
            self._expected += 1
            final = headers.get(subjects.HEADER_STREAM_FINAL) == "1"
            return AudioPiece(sequence, msg.data, final)


async def stored_pieces(bus: Bus, conversation_id: str, stream_id: str) -> list[AudioPiece]:
    """The stream's chunks still in ``VC_AUDIO_IN``, in stream order (for a re-run of the
    stream: ``replay --rerun``); none when they expired or were erased, or the stream
    ``VC_AUDIO_IN`` does not exist. A chunk without its position is left out."""
    subject = subjects.audio_in_subject(conversation_id, stream_id)
    with nats_errors():
        try:
            info = await bus.js.stream_info(subjects.AUDIO_IN_STREAM, subjects_filter=subject)
        except NotFoundError:
            return []
    if not info.state.subjects:
        return []
    found = []
    async for msg in stored_messages(bus, subjects.AUDIO_IN_STREAM, subject):
        headers = msg.headers or {}
        sequence = headers.get(subjects.HEADER_STREAM_SEQUENCE, "")
        if sequence.isdigit():
            found.append(AudioPiece(int(sequence), msg.data,
                                    headers.get(subjects.HEADER_STREAM_FINAL) == "1"))
    return found
