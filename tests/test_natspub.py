"""``natspub.publish`` puts on the wire what nats-py's ``Client.publish`` does (real server)."""

from __future__ import annotations

import asyncio
from typing import Any

import nats.errors
import pytest

from core import natspub, natsraw
from core.bus import Bus
from core.natsraw import RawMsg

GUARD_S = 60.0
"""Only stops a regression from hanging the suite; nothing waits this long when it works."""

CASES: list[tuple[str, bytes, str, dict[str, str] | None]] = [
    ("t.plain", b"", "", None),
    ("t.ack", b"+WPI", "r.1", None),
    ("t.event", b'{"id": 1}', "r.2", {"Nats-Msg-Id": "m1", "Vc-Event-Type": "a.requested",
                                       "traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"}),
    ("t.big", b"x" * 100_000, "", {"k": "v"}),
    ("t.utf8", b"\x00\xff", "r.3", {"value": "caf\u00e9 \u00fcber"}),
    # what nats-py rewrites: written by nats-py itself
    ("t.spaced", b"1", "", {"odd": " spaced value "}),
    ("t.newline", b"2", "r.4", {"injected": "a\r\nPUB evil 1\r\nx"}),
    ("t.empty-name", b"3", "", {" ": "dropped", "kept": "v"}),
    ("t.tab\u00a0subject", b"4", "", None),  # odd whitespace nats-py lets through
]


async def test_what_a_subscriber_gets_is_what_nats_py_publishes(bus: Bus) -> None:
    got: list[RawMsg] = []
    all_in = asyncio.Event()

    def on_msg(msg: RawMsg) -> None:
        got.append(msg)
        if len(got) == 2 * len(CASES):
            all_in.set()

    sub = await natsraw.subscribe(bus.nc, "t.>", on_msg)
    for subject, body, reply, headers in CASES:
        await bus.nc.publish(subject, body, reply=reply, headers=headers)
        await natspub.publish(bus.nc, subject, body, reply, headers)
    await asyncio.wait_for(all_in.wait(), GUARD_S)
    await natsraw.unsubscribe(bus.nc, sub)

    def seen(msg: RawMsg) -> tuple[Any, ...]:
        return msg.subject, msg.reply, msg.data, msg.header

    assert [seen(m) for m in got[1::2]] == [seen(m) for m in got[0::2]]  # byte for byte
    assert [m.subject for m in got[::2]] == [case[0] for case in CASES]
    assert got[2 * 5].headers == {"odd": "spaced value"}
    assert got[2 * 6].headers == {"injected": "a  PUB evil 1  x"}


@pytest.mark.parametrize(("subject", "reply", "headers", "error"), [
    ("", "", None, nats.errors.BadSubjectError),
    ("a b", "", None, nats.errors.BadSubjectError),
    ("t.x", "r\r\nPUB evil 1", None, nats.errors.BadSubjectError),
    ("t.x", "", {"bad name": "v"}, nats.errors.BadHeaderError),
])
async def test_what_nats_py_refuses_is_refused_with_its_error(
        bus: Bus, subject: str, reply: str, headers: dict[str, str] | None,
        error: type[Exception]) -> None:
    with pytest.raises(error):
        await natspub.publish(bus.nc, subject, b"x", reply, headers)


async def test_a_payload_over_the_servers_limit_is_refused_as_nats_py_refuses_it(
        bus: Bus) -> None:
    with pytest.raises(nats.errors.MaxPayloadError):
        await natspub.publish(bus.nc, "t.x", b"x" * (bus.nc.max_payload + 1))
