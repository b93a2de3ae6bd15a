"""Chunk events: a primitive's parts published before its result (core/chunks.py), on a
real nats-server, with the test primitive ``chunky`` (tests/support/plugin.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.aio.msg import Msg

from core import subjects
from core.bus import Bus
from core.chunks import chunk_id
from core.config import StreamLimits
from core.natsserver import EmbeddedNats
from core.worker import Worker
from schemas import events as ev
from schemas import ids
from schemas.payloads import Request
from tests.support import plugin
from tests.support.plugin import CHUNKY, ChunkyParams, ChunkyRequested, Part, Parts
from tests.support.streams import stream_messages, wait_for_events
from tests.test_nats_auth import REFUSAL_WAIT_S, connect_as
from tests.test_worker import FAST


def chunky(text: str, conversation_id: str = "conv-c", **params: int | bool) -> ev.Event:
    return ev.new_event(ChunkyRequested, conversation_id=conversation_id, trace_id=f"t-{text}",
                        data=Request(params=ChunkyParams(text=text, **params)))  # type: ignore[arg-type]


def _answered(request: ev.Event) -> object:
    result_id = ids.derive_id(request.id, "result")
    return lambda found: any(e.id == result_id for e in found)


async def _serve(bus: Bus, *requests: ev.Event) -> list[Msg]:
    """Publish ``requests`` to a running chunky worker; every message of their conversations
    once each is answered, in stream order."""
    worker = Worker(bus, CHUNKY, FAST)
    await worker.start()
    try:
        for request in requests:
            await bus.publish(request)
        for request in requests:
            await wait_for_events(bus, _answered(request))  # type: ignore[arg-type]
    finally:
        await worker.stop()
    return await stream_messages(bus, subject="vc.ev.*.chunky.>")


async def test_chunk_events_come_in_order_before_the_result_with_derived_ids(bus: Bus) -> None:
    request = chunky("three", parts=3)
    stored = await _serve(bus, request)
    assert plugin.prepared_with[-1] is bus  # its prepare hook ran at worker start
    found = [ev.decode(m.data) for m in stored]
    assert [e.event_type for e in found] == ["chunky.requested", *["chunky.chunk"] * 3,
                                             "chunky.completed"]
    chunks, result = found[1:4], found[4]
    assert [e.data for e in chunks] == [Part(index=i, text=f"three/{i}") for i in range(3)]
    assert [e.id for e in chunks] == [chunk_id(request.id, i) for i in range(3)]
    for chunk, msg in zip(chunks, stored[1:4], strict=True):
        assert (chunk.conversation_id, chunk.trace_id, chunk.causation_id, chunk.attempt) == (
            request.conversation_id, request.trace_id, request.id, 1)
        assert msg.subject == "vc.ev.conv-c.chunky.chunk"
        assert (msg.headers or {})[subjects.HEADER_MSG_ID] == chunk.id
        assert "traceparent" in (msg.headers or {})  # like the result's
    assert result.data == Parts(count=3)


async def test_a_redelivered_request_re_emits_the_same_ids_and_one_copy_is_kept(
        bus: Bus) -> None:
    """The first attempt emits chunks 0 and 1, then fails; the retry emits 0, 1, 2: JetStream
    drops the second copies of 0 and 1 (same ids), so the stream holds each chunk once."""
    request = chunky("retried", parts=3, fail_times=1)
    found = [ev.decode(m.data) for m in await _serve(bus, request)]
    chunks = [e for e in found if e.event_type == "chunky.chunk"]
    assert [e.id for e in chunks] == [chunk_id(request.id, i) for i in range(3)]
    assert [e.attempt for e in chunks] == [1, 1, 2]  # 0 and 1 stored by the first attempt
    [result] = [e for e in found if e.event_type == "chunky.completed"]
    assert result.attempt == 2 and result.data == Parts(count=3)


async def test_the_first_chunk_is_on_the_bus_while_the_request_still_runs(bus: Bus) -> None:
    request = chunky("held", parts=2, hold=True)
    seen: asyncio.Queue[Msg] = asyncio.Queue()
    sub = await bus.nc.subscribe("vc.ev.conv-c.chunky.>", cb=seen.put)
    plugin.chunk_gate.clear()
    worker = Worker(bus, CHUNKY, FAST)
    await worker.start()
    try:
        await bus.publish(request)
        first = await asyncio.wait_for(_next_of(seen, "chunky.chunk"), 30)
        # The handler waits at the gate after its first chunk: no result exists yet.
        assert ev.decode(first.data).data == Part(index=0, text="held/0")
        stored = await stream_messages(bus, subject="vc.ev.conv-c.chunky.>")
        assert [(m.headers or {})[subjects.HEADER_EVENT_TYPE] for m in stored] == [
            "chunky.requested", "chunky.chunk"]
        plugin.chunk_gate.set()
        await wait_for_events(bus, _answered(request))  # type: ignore[arg-type]
    finally:
        plugin.chunk_gate.set()
        await worker.stop()
        await sub.unsubscribe()


async def _next_of(queue: asyncio.Queue[Msg], event_type: str) -> Msg:
    while True:
        msg = await queue.get()
        if (msg.headers or {}).get(subjects.HEADER_EVENT_TYPE) == event_type:
            return msg


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[EmbeddedNats]:
    """An authenticating server whose worker identity serves chunky and capture_email."""
    started = EmbeddedNats(tmp_path, port=-1, primitives=["chunky", "capture_email"])
    await started.start()
    admin = await Bus.connect(started.url, auth=started.identity("admin"))
    await admin.ensure_streams(StreamLimits())
    await admin.drain()
    yield started
    await started.stop()


async def test_the_worker_identity_publishes_chunks_and_the_bridge_sees_them(
        server: EmbeddedNats) -> None:
    """Least privilege: the worker may publish the chunks of the primitives it serves that
    declare them (not capture_email's), and the bridge identity may subscribe to them."""
    worker_bus = await Bus.connect(server.url, auth=server.identity("worker"))
    bridge_bus = await Bus.connect(server.url, auth=server.identity("bridge"))
    seen: asyncio.Queue[Msg] = asyncio.Queue()
    await bridge_bus.nc.subscribe(subjects.ALL_CHUNKS, cb=seen.put)
    await bridge_bus.nc.flush()
    request = chunky("roles", "conv-roles", parts=2)
    worker = Worker(worker_bus, CHUNKY, FAST)
    await worker.start()
    nc, errors = await connect_as(server, "worker")
    try:
        await bridge_bus.publish(request)
        chunks = [await asyncio.wait_for(seen.get(), 30) for _ in range(2)]
        assert [ev.decode(m.data).data.index for m in chunks] == [0, 1]
        await nc.publish("vc.ev.conv-roles.capture_email.chunk", b"{}")
        await asyncio.wait_for(errors.denied.wait(), REFUSAL_WAIT_S)
        assert "permissions violation for publish" in str(errors.last)
    finally:
        await nc.close()
        await worker.stop()
        await worker_bus.drain()
        await bridge_bus.drain()
