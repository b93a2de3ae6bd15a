"""Reading what is really in the stream, for assertions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import msgspec
import nats.errors
from nats.aio.msg import Msg
from nats.js import api

from core import subjects
from core.bus import Bus
from schemas import events
from schemas.events import Event


async def stream_messages(bus: Bus, stream: str = subjects.EVENTS_STREAM,
                          subject: str = ">") -> list[Msg]:
    """Every message stored in ``stream`` matching ``subject``, in stream order."""
    info = await bus.js.stream_info(stream)
    if info.state.messages == 0:
        return []
    sub = await bus.js.pull_subscribe(
        subject, stream=stream,
        config=api.ConsumerConfig(ack_policy=api.AckPolicy.NONE, inactive_threshold=30.0,
                                  deliver_policy=api.DeliverPolicy.ALL),
    )
    found: list[Msg] = []
    try:
        while True:
            try:
                batch = await sub.fetch(500, timeout=0.3)
            except (nats.errors.TimeoutError, TimeoutError):  # nats-py raises either
                break
            found.extend(batch)
    finally:
        await sub.unsubscribe()
    return found


async def stream_events(bus: Bus, subject: str = "vc.ev.>") -> list[Event]:
    """The decodable events in the stream (garbage a test published is skipped)."""
    found = []
    for msg in await stream_messages(bus, subject=subject):
        try:
            found.append(events.decode(msg.data))
        except msgspec.MsgspecError:
            continue
    return found


async def wait_for_events(bus: Bus, predicate: Callable[[list[Event]], bool],
                          timeout: float = 15.0, subject: str = "vc.ev.>") -> list[Event]:
    deadline = time.monotonic() + timeout
    while True:
        found = await stream_events(bus, subject)
        if predicate(found):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {timeout}s; stream has {len(found)} "
                                 f"events: {[e.event_type for e in found][-20:]}")
        await asyncio.sleep(0.1)


def results_for(found: list[Event], request_ids: set[str]) -> list[Event]:
    return [e for e in found if e.causation_id in request_ids]
