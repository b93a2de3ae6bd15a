"""The one pull consumer (core/consumer.py) against a real nats-server: credit, loss, order."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable

import pytest
from nats.aio.msg import Msg
from nats.js import api

from core import consumer as consumer_module
from core import ignoring, pullstatus
from core.bus import Bus
from core.consumer import Durable, Ordered, PullConsumer
from core.natsserver import EmbeddedNats
from core.subjects import EVENTS_STREAM

SUBJECT = "vc.ev.c1.capture_email.requested"
GUARD_S = 60.0
"""Only stops a regression from hanging the suite; nothing waits this long when it works."""


async def publish(bus: Bus, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        await bus.js.publish(SUBJECT, f"m{i}".encode())


def durable(bus: Bus, name: str = "test_durable") -> Callable[[], Awaitable[object]]:
    async def ensure() -> object:
        return await bus.js.add_consumer(EVENTS_STREAM, api.ConsumerConfig(
            durable_name=name, name=name, ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=30.0, filter_subject="vc.ev.>"))
    return ensure


async def until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    async def poll() -> None:
        while not await condition():  # noqa: ASYNC110 -- polling the server, not local state
            await asyncio.sleep(0.02)
    try:
        await asyncio.wait_for(poll(), GUARD_S)
    except TimeoutError:
        raise AssertionError(f"never: {what}") from None


async def test_the_consumer_never_holds_more_than_its_credit(bus: Bus) -> None:
    ensure = durable(bus)
    await ensure()
    await publish(bus, 40)
    consumer = PullConsumer(bus, Durable("test_durable"), credit=5, batch=5)
    await consumer.start()
    seen: list[bytes] = []
    try:
        while len(seen) < 40:
            msg = await asyncio.wait_for(consumer.next(), GUARD_S)
            seen.append(msg.data)
            assert consumer.credit.held <= 5
            if consumer.credit.held == 5:  # credit used up: the server must have stopped too
                async def no_request_waits() -> bool:
                    info = await bus.js.consumer_info(EVENTS_STREAM, "test_durable")
                    return not info.num_waiting
                await until(no_request_waits, "the consumer stops asking at its credit")
                info = await bus.js.consumer_info(EVENTS_STREAM, "test_durable")
                assert info.num_ack_pending <= 5  # delivered and unacked, server side
            await msg.ack()
            consumer.release()
    finally:
        await consumer.stop()
    assert seen == [f"m{i}".encode() for i in range(40)]


async def test_a_deleted_durable_is_ensured_again_and_delivery_goes_on(bus: Bus) -> None:
    ensure = durable(bus)
    await ensure()
    consumer = PullConsumer(bus, Durable("test_durable", ensure), credit=8, heartbeat_s=0.2)
    before = ignoring.IGNORED[consumer_module.LOST]
    await consumer.start()
    try:
        await publish(bus, 1)
        first = await asyncio.wait_for(consumer.next(), GUARD_S)
        await first.ack()
        consumer.release()
        await bus.js.delete_consumer(EVENTS_STREAM, "test_durable")
        await publish(bus, 1, start=1)
        while (await asyncio.wait_for(consumer.next(), GUARD_S)).data != b"m1":
            consumer.release()  # the re-created durable starts from the stream's start
        consumer.release()
    finally:
        await consumer.stop()
    assert ignoring.IGNORED[consumer_module.LOST] > before
    await bus.js.consumer_info(EVENTS_STREAM, "test_durable")  # exists again


async def test_both_modes_resume_after_a_server_restart(
        bus: Bus, nats_server: EmbeddedNats) -> None:
    ensure = durable(bus)
    await ensure()
    acked = PullConsumer(bus, Durable("test_durable", ensure), credit=8, heartbeat_s=0.2)
    ordered = PullConsumer(bus, Ordered(("vc.ev.>",)), credit=8, heartbeat_s=0.2)
    await publish(bus, 1)
    await acked.start()
    await ordered.start()
    try:
        first = await asyncio.wait_for(acked.next(), GUARD_S)
        await first.ack()
        acked.release()
        assert (await asyncio.wait_for(ordered.next(), GUARD_S)).data == b"m0"
        ordered.release()
        await nats_server.stop()
        await nats_server.start()  # same port, same store: the durable survives
        await until(lambda: _connected(bus), "the bus reconnects")
        await publish(bus, 1, start=1)
        after = await asyncio.wait_for(acked.next(), GUARD_S)
        await after.ack()
        acked.release()
        again = await asyncio.wait_for(ordered.next(), GUARD_S)
    finally:
        await acked.stop()
        await ordered.stop()
    assert after.data == b"m1"
    assert again.data == b"m1"  # the ordered one went on after m0: no duplicate, no gap
    assert ordered.last_sequence == 2


async def _connected(bus: Bus) -> bool:
    return bool(bus.nc.is_connected)


async def test_an_ordered_consumer_recreates_itself_on_a_sequence_gap(bus: Bus) -> None:
    await publish(bus, 3)
    consumer = PullConsumer(bus, Ordered(("vc.ev.>",)), credit=1)
    before = ignoring.IGNORED[consumer_module.LOST]
    await consumer.start()
    try:
        assert (await asyncio.wait_for(consumer.next(), GUARD_S)).data == b"m0"
        first_name = consumer.name
        # As if consumer sequence 2 had been lost on its way (the server forbids forging a
        # delivery, so the consumer is told to expect 3 next): 2 arrives as a gap.
        consumer._expected += 1
        consumer.release()  # credit 1: nothing more was delivered before this
        rest = []
        for _ in range(2):
            rest.append((await asyncio.wait_for(consumer.next(), GUARD_S)).data)
            consumer.release()
    finally:
        await consumer.stop()
    assert rest == [b"m1", b"m2"]  # re-created after sequence 1: nothing skipped
    assert consumer.name != first_name
    assert ignoring.IGNORED[consumer_module.LOST] == before + 1


async def test_an_ordered_consumer_that_lost_its_last_delivery_recreates_itself(
        bus: Bus) -> None:
    # A stream's final chunk has no next delivery to show the gap: the heartbeat must.
    await publish(bus, 3)
    # Heartbeats every 0.5 s: the loss shows within a second, and a loaded machine's late
    # heartbeat is not taken for silence (3 heartbeats, 1.5 s) and a second loss.
    consumer = PullConsumer(bus, Ordered(("vc.ev.>",)), credit=8, heartbeat_s=0.5)
    receive = consumer._on_delivery
    lost: list[int] = []

    def losing_the_last(msg: Msg) -> None:  # as if sequence 3 never reached this process
        sequence = pullstatus.delivered(msg.reply).consumer_sequence
        if sequence == 3 and not lost:
            lost.append(sequence)
            return
        receive(msg)

    consumer._on_delivery = losing_the_last  # type: ignore[method-assign]
    before = ignoring.IGNORED[consumer_module.LOST]
    await consumer.start()
    first_name = consumer.name
    try:
        got = []
        for _ in range(3):
            got.append((await asyncio.wait_for(consumer.next(), 10.0)).data)
            consumer.release()
    finally:
        await consumer.stop()
    assert lost == [3]
    assert got == [b"m0", b"m1", b"m2"]  # re-created after sequence 2: m2 came again
    assert consumer.name != first_name
    assert ignoring.IGNORED[consumer_module.LOST] == before + 1


async def test_a_refused_pull_is_logged_and_counted_not_a_silent_loop(
        bus: Bus, caplog: pytest.LogCaptureFixture) -> None:
    # nats-py's ConsumerConfig has no max_batch: create the durable through the API itself.
    config = {"durable_name": "small", "name": "small", "ack_policy": "explicit",
              "filter_subject": "vc.ev.>", "max_batch": 2}
    await bus.nc.request(f"$JS.API.CONSUMER.CREATE.{EVENTS_STREAM}.small", json.dumps(
        {"stream_name": EVENTS_STREAM, "config": config}).encode())
    refused = PullConsumer(bus, Durable("small"), credit=4, heartbeat_s=0.2)
    before = ignoring.IGNORED[consumer_module.STATUS]
    with caplog.at_level(logging.INFO, logger="core.consumer"):
        await refused.start()  # asks for 4: "409 Exceeded MaxRequestBatch of 2"
        try:
            await until(lambda: _counted(before), "the refusal is counted")
        finally:
            await refused.stop()
    assert any("Exceeded MaxRequestBatch" in r.getMessage() for r in caplog.records)


async def _counted(before: int) -> bool:
    return ignoring.IGNORED[consumer_module.STATUS] > before


def test_status_messages_are_classified_in_one_place() -> None:
    assert pullstatus.classify({"Status": "100", "Description": "Idle Heartbeat"}).action \
        is pullstatus.Action.HEARTBEAT
    heartbeat = pullstatus.classify({"Status": "100", "Description": "Idle Heartbeat",
                                     "Nats-Last-Consumer": "12", "Nats-Last-Stream": "40"})
    assert (heartbeat.action, heartbeat.last_delivered) == (pullstatus.Action.HEARTBEAT, 12)
    expired = pullstatus.classify({"Status": "408", "Description": "Request Timeout",
                                   "Nats-Pending-Messages": "7"})
    assert (expired.action, expired.undelivered, expired.noteworthy) == \
        (pullstatus.Action.REQUEST_OVER, 7, False)
    deleted = pullstatus.classify({"Status": "409", "Description": "Consumer Deleted"})
    assert deleted.action is pullstatus.Action.LOST
    moved = pullstatus.classify({"Status": "409", "Description": "Leadership Change",
                                 "Nats-Pending-Messages": "3"})
    assert (moved.action, moved.undelivered, moved.noteworthy) == \
        (pullstatus.Action.REQUEST_OVER, 3, True)
    meta = pullstatus.delivered("$JS.ACK.VC_EVENTS.c.2.17.5.1700000000.9")
    assert (meta.stream_sequence, meta.consumer_sequence, meta.pending, meta.deliveries) == \
        (17, 5, 9, 2)
    long_form = pullstatus.delivered("$JS.ACK.dom.acc.VC_EVENTS.c.1.18.6.1700000000.0.rnd")
    assert (long_form.stream_sequence, long_form.consumer_sequence) == (18, 6)
