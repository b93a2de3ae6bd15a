"""Live-worker presence over core NATS (not stored): who serves which primitive, right now.

Subjects (core NATS, outside every stream)::

    vc.presence.up.<primitive>     a worker's announcement (periodic; "down" on stop)
    vc.presence.ping               "everyone, announce yourselves" (reply: an inbox)
    vc.presence.ping.<primitive>   "anyone serving <primitive>?" (reply: an inbox)

A worker (:class:`Announcer`) announces itself when it starts, every
``interval_s`` while it runs, and says "down" when it stops; it answers pings.
A reader (:class:`PresenceTracker`, used by the gRPC bridge and health checks)
keeps the last announcement per worker and forgets one not heard from for
``3 × interval_s``. When its table has no worker for a primitive it asks
``vc.presence.ping.<primitive>``: with no subscriber NATS answers "no responders"
at once, so a caller learns there is no live worker without waiting.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Annotated

import msgspec
import nats.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from core.errors import NATS_ERRORS
from core.ignoring import ignored
from core.pause import pause, stop_tasks
from core.subjects import (
    PRESENCE_ANNOUNCE_ALL,
    PRESENCE_PING_ALL,
    PRESENCE_PREFIX,
    ping_subject,
)
from core.subjects import (
    announce_subject as announce_subject,  # re-exported: part of this module's API
)
from schemas import ids
from schemas.events import NAME_PATTERN

log = logging.getLogger(__name__)

NOT_SENT = "presence: announcement not sent (best effort: the next interval retries)"
UNSUBSCRIBE = "presence: unsubscribe at stop (the connection may be closing)"

DEFAULT_INTERVAL_S = 2.0
EXPIRY_INTERVALS = 3


MAX_INTERVAL_S = 60.0


class Announcement(msgspec.Struct, frozen=True, kw_only=True):
    """Bounded, because anyone on the bus can send one: an interval of ``inf`` or ``nan``
    would otherwise keep a worker that does not exist "live" forever."""

    primitive: Annotated[str, msgspec.Meta(pattern=NAME_PATTERN)]
    worker: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    up: bool = True
    interval_s: Annotated[float, msgspec.Meta(gt=0.0, le=MAX_INTERVAL_S)] = DEFAULT_INTERVAL_S


_decoder = msgspec.json.Decoder(Announcement)


class Announcer:
    """The worker side: announce ``primitive`` periodically and answer pings."""

    def __init__(self, nc: NATS, primitive: str, interval_s: float = DEFAULT_INTERVAL_S) -> None:
        self.nc = nc
        self.me = Announcement(primitive=primitive, worker=ids.uuid7(), interval_s=interval_s)
        self._body = msgspec.json.encode(self.me)
        self._subs: list[Subscription] = []
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        for subject in (PRESENCE_PING_ALL, ping_subject(self.me.primitive)):
            self._subs.append(await self.nc.subscribe(subject, cb=self._on_ping))
        await self._send(self._body)
        self._task = asyncio.create_task(self._periodic(), name=f"presence {self.me.primitive}")

    async def stop(self) -> None:
        await stop_tasks(self._task)
        for sub in self._subs:
            with ignored(log, UNSUBSCRIBE, *NATS_ERRORS, level=logging.DEBUG):
                await sub.unsubscribe()
        down = msgspec.structs.replace(self.me, up=False)
        await self._send(msgspec.json.encode(down))

    async def _periodic(self) -> None:
        while True:
            await pause(self.me.interval_s)
            await self._send(self._body)

    async def _send(self, body: bytes) -> None:
        with ignored(log, NOT_SENT, *NATS_ERRORS, level=logging.DEBUG):
            await self.nc.publish(announce_subject(self.me.primitive), body)

    async def _on_ping(self, msg: Msg) -> None:
        if msg.reply:
            with ignored(log, NOT_SENT, *NATS_ERRORS, level=logging.DEBUG):
                await self.nc.publish(msg.reply, self._body)


class PresenceTracker:
    """The reader side: which primitives have live workers (bridge, health)."""

    def __init__(self, nc: NATS, clock: Callable[[], float] = time.monotonic) -> None:
        self.nc = nc
        self._clock = clock
        self._seen: dict[str, dict[str, float]] = {}
        """primitive → worker id → time after which it counts as gone."""
        self._subs: list[Subscription] = []

    async def start(self, settle_s: float = 0.1) -> None:
        """Subscribe, ask every worker to announce itself, and give them ``settle_s`` to."""
        self._subs.append(await self.nc.subscribe(PRESENCE_ANNOUNCE_ALL, cb=self._on_message))
        inbox = self.nc.new_inbox()
        self._subs.append(await self.nc.subscribe(inbox, cb=self._on_message))
        await self.nc.publish(PRESENCE_PING_ALL, b"", reply=inbox)
        await self.nc.flush()
        await asyncio.sleep(settle_s)

    async def stop(self) -> None:
        for sub in self._subs:
            with ignored(log, UNSUBSCRIBE, *NATS_ERRORS, level=logging.DEBUG):
                await sub.unsubscribe()
        self._subs.clear()

    async def _on_message(self, msg: Msg) -> None:
        self.observe(msg.data, msg.subject)

    def observe(self, body: bytes, subject: str | None = None) -> None:
        """Record one announcement; ignore what is malformed or names another primitive
        than the subject it came on (a reply to a ping comes on an inbox: no check)."""
        try:
            ann = _decoder.decode(body)
        except msgspec.MsgspecError:
            return
        if subject and subject.startswith(f"{PRESENCE_PREFIX}.up.") and subject != announce_subject(
                ann.primitive):
            return
        workers = self._seen.setdefault(ann.primitive, {})
        if ann.up:
            workers[ann.worker] = self._clock() + EXPIRY_INTERVALS * ann.interval_s
        else:
            workers.pop(ann.worker, None)

    def live(self) -> dict[str, int]:
        """Live workers per primitive (only primitives with at least one)."""
        now = self._clock()
        counts = {}
        for primitive, workers in self._seen.items():
            for worker in [w for w, until in workers.items() if until < now]:
                del workers[worker]
            if workers:
                counts[primitive] = len(workers)
        return counts

    def has_live(self, primitive: str) -> bool:
        now = self._clock()
        return any(until >= now for until in self._seen.get(primitive, {}).values())

    async def serves(self, primitive: str, timeout_s: float = 0.25) -> bool:
        """True when a live worker serves ``primitive``; asks NATS when the table has none.

        With no subscriber on the ping subject NATS answers "no responders" at once.
        """
        if self.has_live(primitive):
            return True
        try:
            reply = await self.nc.request(ping_subject(primitive), b"", timeout=timeout_s)
        except nats.errors.NoRespondersError:
            return False
        except (nats.errors.TimeoutError, TimeoutError):
            return True  # someone subscribes to the ping subject (else: no responders), but slow
        except nats.errors.Error:
            return False
        self.observe(reply.data)
        return True
