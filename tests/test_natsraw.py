"""core/natsraw.py (the parser of every Bus connection) and the raw pull consumer."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import api

from core import natsraw
from core.bus import Bus
from core.consumer import Durable
from core.consumer_raw import RawPullConsumer
from core.natsraw import FastParser, RawMsg, header_dict, header_lines
from core.pullstatus import delivered
from core.subjects import EVENTS_STREAM

GUARD_S = 60.0
"""Only stops a regression from hanging the suite; nothing waits this long when it works."""

CASES: list[tuple[bytes, dict[str, str] | None]] = [
    (b"", None),
    (b"one", {"Nats-Msg-Id": "m1", "Vc-Event-Type": "capture_email.requested"}),
    (b"x" * 100_000, {"k": "v"}),  # longer than one read of the socket (32 KB)
    (b"\r\nMSG a 1 3\r\n", {"odd": " spaced value ", "Status": "408"}),
    (b"\x00\xff", {"value": "caf\u00e9 \u00fcber"}),
]


async def test_a_raw_subscription_gets_what_nats_py_delivers_in_order(bus: Bus) -> None:
    raw: list[RawMsg] = []
    plain: list[Msg] = []
    all_in = asyncio.Event()

    async def on_plain(msg: Msg) -> None:
        plain.append(msg)
        if len(plain) == 2 * len(CASES):
            all_in.set()

    raw_sub = await natsraw.subscribe(bus.nc, "t.>", raw.append)
    await bus.nc.subscribe("t.>", cb=on_plain)
    for _ in range(2):
        for i, (body, headers) in enumerate(CASES):
            await bus.nc.publish(f"t.{i}", body, reply=f"r.{i}" if i % 2 else "", headers=headers)
        await bus.nc.flush()  # a PING and its PONG between the messages
    await asyncio.wait_for(all_in.wait(), GUARD_S)
    await bus.nc.flush()

    def seen(msgs: list[Any]) -> list[tuple[str, str, bytes, dict[str, str] | None]]:
        return [(m.subject, m.reply, m.data, m.headers) for m in msgs]

    assert seen(raw) == seen(plain)
    assert [m.data for m in raw] == [body for body, _ in CASES] * 2
    await natsraw.unsubscribe(bus.nc, raw_sub)
    await bus.nc.publish("t.late", b"after")
    await bus.nc.flush()
    assert len(raw) == 2 * len(CASES)


class Recorder:
    """What nats-py's parser hands its client: only the parser is under test here."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    async def _process_msg(self, sid: int, subject: bytes, reply: bytes, data: bytes,
                           headers: bytes | None) -> None:
        self.calls.append(("msg", sid, bytes(subject), bytes(reply), data, headers))

    async def _process_ping(self) -> None:
        self.calls.append(("ping",))

    async def _process_pong(self) -> None:
        self.calls.append(("pong",))


STREAM = (b"MSG a.b 1 5\r\nhello\r\nPING\r\nHMSG c 2 reply.x 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"
          b"+OK\r\nMSG raw.subject 3 r 4\r\nbody\r\nPONG\r\nHMSG raw.h 3 18 18\r\n"
          b"NATS/1.0\r\nk: v\r\n\r\n\r\n")
EXPECTED = [("msg", 1, b"a.b", b"", b"hello", None), ("ping",),
            ("msg", 2, b"c", b"reply.x", b"hi", b"NATS/1.0\r\n\r\n"), ("raw", "raw.subject", "r",
            b"body", None), ("pong",), ("raw", "raw.h", "", b"", b"NATS/1.0\r\nk: v\r\n\r\n")]


async def test_the_parser_reads_a_stream_cut_anywhere_in_order() -> None:
    for cut in range(1, len(STREAM)):
        for second in (cut, (cut + len(STREAM)) // 2):
            recorder = Recorder()
            parser: Any = FastParser(recorder)
            parser.raw, parser.wanted = {}, 0
            parser.raw[3] = lambda m, r=recorder: r.calls.append(("raw", *m))
            for chunk in (STREAM[:cut], STREAM[cut:second], STREAM[second:]):
                await parser.parse(chunk)
            assert recorder.calls == EXPECTED, cut
            assert not parser.buf


def test_header_lines_are_read_as_nats_py_reads_them() -> None:
    pieces = [b":", b" ", b"\t", b"\r\n", b"\r", b"\n", b"a", b"B", b"\x1c", b"\x0b", b"\x0c",
              b"\xc3\xa9", b"\xff", b"-", b"\x00", b"\x85"]
    names = ["a", "Nats-Msg-Id", "x:y", " k", "k ", "k\tk", "", "\x1c", "\u00e9"]
    values = ["v", " v", "v ", "", "a b", "a:b", "\x1c", "  ", "\u00e9", "\t"]
    rng = random.Random(8)
    for _ in range(20_000):
        block = b"".join(rng.choice(pieces) for _ in range(rng.randrange(14)))
        assert header_lines(block) == Client._parse_header_lines(block), block
        lines = [f"{rng.choice(names)}{rng.choice([': ', ':', ' : '])}{rng.choice(values)}"
                 for _ in range(rng.randrange(4))]
        block = ("\r\n".join(lines) + rng.choice(["\r\n\r\n", "\r\n", ""])).encode()
        assert header_lines(block) == Client._parse_header_lines(block), block


def test_a_status_line_is_read_into_status_and_description() -> None:
    assert header_dict(b"NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 5\r\n\r\n") == {
        "Status": "408", "Description": "Request Timeout", "Nats-Pending-Messages": "5"}
    assert header_dict(b"NATS/1.0 100 Idle Heartbeat\r\n\r\n") == {
        "Status": "100", "Description": "Idle Heartbeat"}
    assert header_dict(b"NATS/1.0\r\n\r\n") is None
    assert header_dict(None) is None


async def test_the_raw_consumer_delivers_in_order_within_its_credit_and_acks_all(
        bus: Bus) -> None:
    await bus.js.add_consumer(EVENTS_STREAM, api.ConsumerConfig(
        durable_name="raw", name="raw", ack_policy=api.AckPolicy.ALL, filter_subject="vc.ev.>"))
    for i in range(30):
        await bus.js.publish("vc.ev.c1.capture_email.requested", f"m{i}".encode(),
                             headers={"n": str(i)})
    consumer = RawPullConsumer(bus, Durable("raw"), credit=8, batch=4, heartbeat_s=0.2)
    await consumer.start()
    seen: list[RawMsg] = []
    try:
        while len(seen) < 30:
            seen.append(await asyncio.wait_for(consumer.next(), GUARD_S))
            assert consumer.credit.held <= 8
            if consumer.credit.held == 8 or len(seen) == 30:
                await consumer.ack(seen[-1])
                consumer.release(consumer.credit.held)
        await asyncio.wait_for(acked(bus, "raw", 30), GUARD_S)
    finally:
        await consumer.stop()
    assert [m.data for m in seen] == [f"m{i}".encode() for i in range(30)]
    assert [(m.headers or {}).get("n") for m in seen] == [str(i) for i in range(30)]


async def acked(bus: Bus, consumer: str, sequence: int) -> None:
    info = await bus.js.consumer_info(EVENTS_STREAM, consumer)
    while info.ack_floor is None or info.ack_floor.stream_seq < sequence:
        await asyncio.sleep(0.02)
        info = await bus.js.consumer_info(EVENTS_STREAM, consumer)


async def test_the_raw_consumers_nak_term_and_in_progress_do_what_jetstreams_acks_say(
        bus: Bus) -> None:
    """nak(delay) comes back after the delay, term never, in_progress holds a message past
    its ack wait: the bytes nats-py's ``Msg`` sends, from the worker's consumer."""
    await bus.js.add_consumer(EVENTS_STREAM, api.ConsumerConfig(
        durable_name="acks", name="acks", ack_policy=api.AckPolicy.EXPLICIT, ack_wait=1.0,
        filter_subject="vc.ev.c1.>"))
    for name in ("nak", "term", "held"):
        await bus.js.publish("vc.ev.c1.capture_email.requested", name.encode())
    consumer = RawPullConsumer(bus, Durable("acks"), credit=8, batch=4, heartbeat_s=0.2)
    await consumer.start()
    loop = asyncio.get_running_loop()
    try:
        first = {m.data: m for m in [await asyncio.wait_for(consumer.next(), GUARD_S)
                                     for _ in range(3)]}
        naked_at = loop.time()
        await consumer.nak(first[b"nak"], 0.6)
        await consumer.term(first[b"term"])
        again: list[tuple[bytes, float, int]] = []
        while loop.time() - naked_at < 2.2:  # two ack waits: "held" is kept by progress only
            await consumer.in_progress(first[b"held"])
            try:
                msg = await asyncio.wait_for(consumer.next(), 0.3)
            except TimeoutError:
                continue
            again.append((msg.data, loop.time() - naked_at, delivered(msg.reply).deliveries))
            await consumer.ack(msg)
        await consumer.ack(first[b"held"])
    finally:
        await consumer.stop()
    assert [(data, deliveries) for data, _, deliveries in again] == [(b"nak", 2)]
    assert again[0][1] >= 0.5
