"""Reading VC_EVENTS in order from a point, then live: an ordered pull consumer per reader.

The reader is :mod:`core.consumer`'s ordered mode granted ``batch`` credit: JetStream
delivers at most that many messages more than the reader has handed to its caller,
so a slow caller only slows its own consumer: nothing piles up in memory and nobody
else waits. Because every message comes from the same consumer, history and live
are one sequence: no gap, no duplicate at the seam. If the consumer is lost (NATS
restarted, no heartbeat, deleted) or a sequence gap shows, it is re-created from the
last stream sequence delivered + 1; each loss is logged at INFO and counted
(``core.ignoring.IGNORED[core.consumer.LOST]``). Anything else going wrong while reading
is a bug: logged at ERROR and raised, never turned into a quiet reopen loop.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from nats.aio.msg import Msg

from core import subjects
from core.bus import Bus
from core.consumer import Ordered, PullConsumer
from core.consumer import StartAt as StartAt  # where StreamEvents starts
from core.pullstatus import delivered

log = logging.getLogger(__name__)

_HEARTBEAT_S = 1.0
_EXPIRES_S = 30.0


@dataclass(frozen=True)
class Stored:
    subject: str
    sequence: int
    pending: int
    """Messages still stored after this one for the filter (0 = caught up)."""
    headers: dict[str, str]
    data: bytes


class StreamReader:
    def __init__(self, bus: Bus, filters: list[str], start: StartAt, batch: int = 256,
                 *, reopen: bool = True) -> None:
        self.consumer = PullConsumer(
            bus, Ordered(tuple(filters), start), credit=batch,
            expires_s=_EXPIRES_S, heartbeat_s=_HEARTBEAT_S, reopen=reopen)

    @property
    def initial_pending(self) -> int:
        """Messages stored for the filters when the consumer was created."""
        return self.consumer.initial_pending

    async def open(self) -> None:
        """Create the consumer; raises :class:`~core.errors.BusError` when NATS is
        unreachable or JetStream refuses."""
        await self.consumer.start()

    async def close(self) -> None:
        await self.consumer.stop()

    async def next(self) -> Stored:
        """The next stored message (waits for it); raises what the consumer raises."""
        msg = await self.consumer.next()
        self.consumer.release()  # handed over: the reader holds nothing
        return _stored(msg)

    async def messages(self) -> AsyncIterator[Stored]:
        """Every matching message in stream order, forever (until the caller stops)."""
        while True:
            yield await self.next()


def _stored(msg: Msg) -> Stored:
    meta = delivered(msg.reply)
    return Stored(subject=msg.subject, sequence=meta.stream_sequence, pending=meta.pending,
                  headers=dict(msg.headers or {}), data=msg.data)


async def find_stored(bus: Bus, filters: list[str], wanted: set[str],
                      start: StartAt | None = None,
                      accept: Callable[[Stored], bool] = lambda _: True) -> dict[str, Stored]:
    """The first stored message on ``filters`` per ``Nats-Msg-Id`` in ``wanted`` for which
    ``accept`` holds (a bounded scan: the header alone proves nothing)."""
    reader = StreamReader(bus, filters, start or StartAt(sequence=1), batch=512, reopen=False)
    found: dict[str, Stored] = {}
    try:
        await reader.open()
        if reader.initial_pending == 0:
            return found
        while len(found) < len(wanted):
            stored = await reader.next()  # a lost consumer raises BusUnavailable
            msg_id = stored.headers.get(subjects.HEADER_MSG_ID, "")
            if msg_id in wanted and msg_id not in found and accept(stored):
                found[msg_id] = stored
            if stored.pending == 0:
                break
    finally:
        await reader.close()
    return found
