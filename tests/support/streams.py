"""Reading what is really in the stream, for assertions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import msgspec
from nats.aio.msg import Msg

from core import subjects
from core.bus import Bus
from core.stored import stored_messages
from schemas import events
from schemas.events import Event


async def stream_messages(bus: Bus, stream: str = subjects.EVENTS_STREAM,
                          subject: str = ">") -> list[Msg]:
    """Every message stored in ``stream`` matching ``subject``, in stream order (read with
    the one pull consumer, ordered mode, until none is pending)."""
    info = await bus.js.stream_info(stream)
    if info.state.messages == 0:
        return []
    return [msg async for msg in stored_messages(bus, stream, subject)]


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
