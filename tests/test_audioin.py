"""Streamed audio chunks (core/audioin.py) on a real nats-server: every chunk of every
stream reaches its one reader, in order, the last one marked final, however many streams
run at once and however their chunks interleave on the bus."""

from __future__ import annotations

import asyncio
import random

from core.audioin import AudioPiece, ChunkReader
from core.bus import Bus
from tests.support.listen import feed, start

CHUNK = b"\x00\x01" * 1600  # 100 ms of 16 kHz s16le
IDLE_S = 10.0
"""The reader's idle timeout: a chunk that never comes shows as a stream cut short."""


async def send(bus: Bus, conversation: str, stream: str, count: int) -> None:
    await feed(bus, start(conversation, stream, 16_000), [CHUNK] * count)


async def read(bus: Bus, conversation: str, stream: str) -> list[AudioPiece]:
    reader = ChunkReader(bus, conversation, stream)
    await reader.open()
    pieces: list[AudioPiece] = []
    try:
        while not pieces or not pieces[-1].final:
            piece = await reader.next(IDLE_S)
            if piece is None:
                break
            pieces.append(piece)
    finally:
        await reader.close()
    return pieces


async def test_many_concurrent_streams_each_get_every_chunk_and_the_final(bus: Bus) -> None:
    # 160 streams, 16 at a time, 3 conversations: several streams share a conversation (and
    # so a subject prefix), and the longest ones need more than one pull request (64 each).
    rng = random.Random(11)
    lengths = {f"s{i}": rng.randint(20, 140) for i in range(160)}
    slots = asyncio.Semaphore(16)

    async def one(index: int, stream: str) -> tuple[str, list[AudioPiece]]:
        async with slots:
            conversation = f"c-audioin-{index % 3}"
            reading = asyncio.create_task(read(bus, conversation, stream))
            await send(bus, conversation, stream, lengths[stream])
            return stream, await reading

    heard = dict(await asyncio.gather(*(one(i, s) for i, s in enumerate(lengths))))
    for stream, pieces in heard.items():
        assert [p.sequence for p in pieces] == list(range(lengths[stream])), stream
        assert [p.final for p in pieces] == [False] * (lengths[stream] - 1) + [True], stream
        assert all(p.data == CHUNK for p in pieces)


async def test_a_reader_opened_after_the_whole_stream_was_sent_reads_it_all(bus: Bus) -> None:
    # The owner may take the request late (a busy worker, a redelivery): its reader starts
    # from the first chunk of what is already stored.
    await send(bus, "c-audioin-late", "late", 90)
    pieces = await read(bus, "c-audioin-late", "late")
    assert [p.sequence for p in pieces] == list(range(90))
    assert pieces[-1].final
