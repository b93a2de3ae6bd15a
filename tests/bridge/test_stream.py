"""StreamEvents: live, history then live (no gap, no duplicate), filters, slow clients, cancel."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import grpc
import pytest
from nats.js import api

from bridge._proto import voice_core_pb2 as pb
from bridge.client import SERVICE, VoiceCoreClient
from bridge.server import Bridge, BridgeOptions, serve_bridge
from core.bus import Bus
from core.worker import Worker
from schemas import events as ev
from schemas.payloads import Request
from tests.bridge.conftest import stored_events
from tests.support.plugin import SleepyParams, SleepyRequested


def open_stream(channel: grpc.aio.Channel, **fields: object) -> grpc.aio.UnaryStreamCall:
    call = channel.unary_stream(SERVICE + "StreamEvents",
                                request_serializer=pb.StreamEventsRequest.SerializeToString,
                                response_deserializer=pb.Event.FromString)
    return call(pb.StreamEventsRequest(**fields))  # type: ignore[arg-type]


async def take(stream: grpc.aio.UnaryStreamCall, n: int, timeout: float = 15.0) -> list[pb.Event]:
    got: list[pb.Event] = []

    async def read() -> None:
        while len(got) < n:
            got.append(await stream.read())

    await asyncio.wait_for(read(), timeout)
    return got


async def publish_requests(bus: Bus, conversation: str, n: int, prefix: str = "r") -> list[str]:
    sent = []
    for i in range(n):
        event = ev.new_event(SleepyRequested, conversation_id=conversation,
                             trace_id=f"{prefix}-{i}",
                             data=Request(params=SleepyParams(text=f"{prefix}-{i}")))
        await bus.publish(event)
        sent.append(event.id)
    return sent


async def test_live_stream_sees_only_new_events_in_order_with_trace_ids(
        bus: Bus, sleepy_worker: Worker, channel: grpc.aio.Channel,
        client: VoiceCoreClient) -> None:
    await client.execute("sleepy", {"text": "old"}, conversation_id="conv-live")
    stream = open_stream(channel, conversation_id="conv-live")
    assert dict(await stream.initial_metadata() or ()).get("vc-stream-ready") == "1"
    result = await client.execute("sleepy", {"text": "new"}, conversation_id="conv-live",
                                  trace_id="live-trace")
    got = await take(stream, 2)
    stream.cancel()
    assert [e.type for e in got] == ["sleepy.requested", "sleepy.completed"]
    assert [e.id for e in got] == [result.request_event_id, result.result_event_id]
    assert {e.trace_id for e in got} == {"live-trace"}
    assert got[0].sequence < got[1].sequence
    assert got[1].causation_id == got[0].id
    assert dict(got[1].data) == {"text": "new"}
    assert got[0].subject == "vc.ev.conv-live.sleepy.requested"
    assert got[0].occurred_at.seconds > 0


async def test_history_then_live_has_no_gap_and_no_duplicate(
        bus: Bus, bridge: Bridge, channel: grpc.aio.Channel) -> None:
    first = await publish_requests(bus, "conv-h", 300, "a")
    await publish_requests(bus, "conv-other", 5, "o")
    stream = open_stream(channel, conversation_id="conv-h", start_sequence=1)
    head = await take(stream, 10)  # reading history while more arrives
    second = await publish_requests(bus, "conv-h", 300, "b")
    rest = await take(stream, 590)
    stream.cancel()
    got = head + rest
    assert [e.id for e in got] == first + second
    sequences = [e.sequence for e in got]
    assert sequences == sorted(set(sequences))
    stored = await stored_events(bus, "vc.ev.conv-h.>")
    assert [e.id for e in stored] == [e.id for e in got]


async def test_start_time_and_start_sequence_pick_the_replay_point(
        bus: Bus, bridge: Bridge, channel: grpc.aio.Channel) -> None:
    await publish_requests(bus, "conv-t", 3, "before")
    await asyncio.sleep(0.05)
    cut = dt.datetime.now(dt.UTC)
    await asyncio.sleep(0.05)
    after = await publish_requests(bus, "conv-t", 2, "after")
    when = pb.StreamEventsRequest()
    when.start_time.FromDatetime(cut.replace(tzinfo=None))
    by_time = open_stream(channel, conversation_id="conv-t", start_time=when.start_time)
    got = await take(by_time, 2)
    by_time.cancel()
    assert [e.id for e in got] == after
    by_seq = open_stream(channel, conversation_id="conv-t", start_sequence=got[0].sequence)
    assert [e.id for e in await take(by_seq, 2)] == after
    by_seq.cancel()


async def test_filters_by_event_type_and_trace_id(
        bus: Bus, sleepy_worker: Worker, channel: grpc.aio.Channel,
        client: VoiceCoreClient) -> None:
    completed = open_stream(channel, event_types=["sleepy.completed"])
    traced = open_stream(channel, trace_id="wanted-trace")
    await completed.initial_metadata()
    await traced.initial_metadata()
    await client.execute("sleepy", {"text": "a"}, conversation_id="conv-f1", trace_id="other")
    wanted = await client.execute("sleepy", {"text": "b"}, conversation_id="conv-f2",
                                  trace_id="wanted-trace")
    got = await take(completed, 2)
    assert [e.type for e in got] == ["sleepy.completed"] * 2
    assert [e.conversation_id for e in got] == ["conv-f1", "conv-f2"]
    assert [e.id for e in await take(traced, 2)] == [wanted.request_event_id,
                                                    wanted.result_event_id]
    completed.cancel()
    traced.cancel()


async def test_a_slow_client_does_not_stall_others_and_loses_nothing(
        bus: Bus, bridge: Bridge, channel: grpc.aio.Channel) -> None:
    slow = open_stream(channel, conversation_id="conv-s", start_sequence=1)
    await slow.initial_metadata()  # and then it reads nothing for a while
    fast = open_stream(channel, conversation_id="conv-s", start_sequence=1)
    sent = await publish_requests(bus, "conv-s", 800)
    assert [e.id for e in await take(fast, 800)] == sent
    fast.cancel()
    assert [e.id for e in await take(slow, 800)] == sent
    slow.cancel()


async def test_cancel_ends_the_stream_and_deletes_its_consumer(
        bus: Bus, bridge: Bridge, channel: grpc.aio.Channel) -> None:
    stream = open_stream(channel)
    await stream.initial_metadata()
    names = [c.name async for c in _consumers(bus)]
    assert any(n.startswith("vc_bridge_") for n in names)
    stream.cancel()
    for _ in range(100):
        names = [c.name async for c in _consumers(bus)]
        if not any(n.startswith("vc_bridge_") for n in names):
            break
        await asyncio.sleep(0.05)
    assert not any(n.startswith("vc_bridge_") for n in names)


async def _consumers(bus: Bus) -> AsyncIterator[api.ConsumerInfo]:
    for info in await bus.js.consumers_info("VC_EVENTS"):
        yield info


@pytest.mark.parametrize("fields", [{"event_types": ["no dots"]},
                                    {"conversation_id": "bad.id"}])
async def test_bad_filters_are_invalid_argument(
        bridge: Bridge, channel: grpc.aio.Channel, fields: dict[str, object]) -> None:
    stream = open_stream(channel, **fields)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stream.read()
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_stopping_the_bridge_ends_open_streams_without_waiting_for_grace(bus: Bus) -> None:
    options = BridgeOptions(grace_s=120.0)
    async with serve_bridge(bus, "127.0.0.1:0", options) as bridge:
        channel = grpc.aio.insecure_channel(bridge.address)
        stream = open_stream(channel)
        await stream.initial_metadata()
        closing = asyncio.ensure_future(asyncio.wait_for(stream.read(), 30))
        # Leaving the block stops the bridge; a 120 s grace would hang this test.
    try:
        with pytest.raises(grpc.aio.AioRpcError):
            await closing
    finally:
        await channel.close()
    assert not [c async for c in _consumers(bus) if (c.name or "").startswith("vc_bridge_")]
