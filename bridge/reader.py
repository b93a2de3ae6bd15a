"""Reading VC_EVENTS in order from a point, then live: one ephemeral pull consumer per reader.

The reader asks JetStream for at most ``batch`` messages more than it has handed
to its caller (pipelined pull requests), so a slow caller only slows its own
consumer: nothing piles up in memory and nobody else waits. Because every message
comes from the same consumer, history and live are one sequence: no gap, no
duplicate at the seam. If the consumer is lost (NATS restarted, no heartbeat), the
reader recreates it from the last stream sequence it delivered + 1; each loss is
logged at INFO and counted (``core.errors.IGNORED``). Anything else going wrong while
reading is a bug: logged at ERROR and raised, never turned into a quiet reopen loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import api

from core import subjects
from core.bus import Bus
from core.errors import NATS_ERRORS, BusError, ignored, nats_errors, note_ignored, translate
from schemas import ids

log = logging.getLogger(__name__)

_HEARTBEAT_S = 1.0
_EXPIRES_S = 30.0
_LOST_AFTER_S = 3 * _HEARTBEAT_S
LOST = "stream reader: consumer lost (it is recreated after the last delivered sequence)"
CLEANUP = "stream reader: cleanup of a consumer being closed (it expires on its own)"


@dataclass(frozen=True)
class StartAt:
    """Where a reader starts: after now (live only), a stream sequence, or a time."""

    sequence: int = 0
    time: dt.datetime | None = None

    def apply(self, config: api.ConsumerConfig, resume_after: int) -> None:
        """Set ``config``'s deliver policy; ``resume_after`` > 0 resumes after that sequence."""
        if resume_after or self.sequence:
            config.deliver_policy = api.DeliverPolicy.BY_START_SEQUENCE
            config.opt_start_seq = resume_after + 1 if resume_after else self.sequence
        elif self.time is not None:
            config.deliver_policy = api.DeliverPolicy.BY_START_TIME
            config.opt_start_time = self.time
        else:
            config.deliver_policy = api.DeliverPolicy.NEW


@dataclass(frozen=True)
class Stored:
    subject: str
    sequence: int
    pending: int
    """Messages still stored after this one for the filter (0 = caught up)."""
    headers: dict[str, str]
    data: bytes


class StreamReader:
    def __init__(self, bus: Bus, filters: list[str], start: StartAt, batch: int = 256) -> None:
        self.bus = bus
        self.filters = filters
        self.start = start
        self.batch = batch
        self.last_sequence = 0
        self.initial_pending = 0
        self._name = ""
        self._sub: Subscription | None = None
        self._credits = 0

    async def open(self) -> None:
        """Create the consumer; raises :class:`BusError` when NATS is unreachable."""
        self._name = f"{subjects.STREAM_READER_PREFIX}{ids.uuid7().replace('-', '')}"
        config = api.ConsumerConfig(
            name=self._name,
            ack_policy=api.AckPolicy.NONE,
            inactive_threshold=30.0,
            mem_storage=True,
            num_replicas=1,
        )
        if len(self.filters) == 1:
            config.filter_subject = self.filters[0]
        else:
            config.filter_subjects = list(self.filters)
        self.start.apply(config, self.last_sequence)
        with nats_errors():
            info = await self.bus.js.add_consumer(subjects.EVENTS_STREAM, config)
            self._sub = await self.bus.nc.subscribe(self.bus.nc.new_inbox())
        self.initial_pending = int(info.num_pending or 0)
        self._credits = 0
        await self._pull()

    async def close(self) -> None:
        sub, self._sub = self._sub, None
        if sub is not None:
            with ignored(log, CLEANUP, *NATS_ERRORS, level=logging.DEBUG):
                await sub.unsubscribe()
        if self._name and self.bus.nc.is_connected:
            with ignored(log, CLEANUP, *NATS_ERRORS, level=logging.DEBUG):
                await self.bus.js.delete_consumer(subjects.EVENTS_STREAM, self._name)

    async def _pull(self) -> None:
        assert self._sub is not None
        want = self.batch + self.batch // 2 - self._credits
        if want < self.batch // 2:
            return
        request = {"batch": want, "expires": int(_EXPIRES_S * 1e9),
                   "idle_heartbeat": int(_HEARTBEAT_S * 1e9)}
        with nats_errors():
            await self.bus.nc.publish(
                subjects.pull_request_subject(subjects.EVENTS_STREAM, self._name),
                json.dumps(request).encode(), reply=self._sub.subject)
        self._credits += want

    async def next(self) -> Stored | None:
        """The next stored message, or ``None`` when the consumer was lost (call :meth:`reopen`).

        Lost: deleted by the server, no message nor heartbeat for a while, or the
        subscription closed under us (reconnect trouble). Any other exception is a bug:
        logged at ERROR and raised.
        """
        assert self._sub is not None
        while True:
            try:
                msg = await self._sub.next_msg(timeout=_LOST_AFTER_S)
                stored = await self._handle(msg)
            except (_Lost, BusError) as exc:
                note_ignored(log, LOST, exc)
                return None
            except NATS_ERRORS as exc:  # a nats-py TimeoutError too: no heartbeat
                note_ignored(log, LOST, translate(exc))
                return None
            except Exception:
                log.exception("stream reader: unexpected error reading consumer %s", self._name)
                raise
            if stored is not None:
                return stored

    async def _handle(self, msg: Msg) -> Stored | None:
        status = (msg.headers or {}).get("Status")
        if status is None and not msg.data and not msg.reply:
            return None
        if status is not None:
            if status in ("408", "409", "404"):
                left = int((msg.headers or {}).get("Nats-Pending-Messages", "0") or 0)
                self._credits = max(0, self._credits - left) if left else 0
                if status == "409" and "Deleted" in (msg.headers or {}).get("Description", ""):
                    raise _Lost()
                await self._pull()
            return None
        md = msg.metadata
        self._credits -= 1
        self.last_sequence = md.sequence.stream
        await self._pull()
        return Stored(subject=msg.subject, sequence=md.sequence.stream,
                      pending=int(md.num_pending or 0), headers=dict(msg.headers or {}),
                      data=msg.data)

    async def reopen(self) -> None:
        """Recreate the consumer after the last delivered sequence; retries until NATS is back."""
        await self.close()
        delay = 0.1
        while True:
            try:
                await self.open()
                return
            except BusError as exc:
                log.info("stream reader: reopen failed (%s); retrying", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def messages(self) -> AsyncIterator[Stored]:
        """Every matching message in stream order, forever (until the caller stops)."""
        while True:
            stored = await self.next()
            if stored is None:
                await self.reopen()
                continue
            yield stored


class _Lost(Exception):
    """The server deleted our consumer."""


async def find_stored(bus: Bus, filters: list[str], wanted: set[str],
                      start: StartAt | None = None,
                      accept: Callable[[Stored], bool] = lambda _: True) -> dict[str, Stored]:
    """The first stored message on ``filters`` per ``Nats-Msg-Id`` in ``wanted`` for which
    ``accept`` holds (a bounded scan: the header alone proves nothing)."""
    reader = StreamReader(bus, filters, start or StartAt(sequence=1), batch=512)
    found: dict[str, Stored] = {}
    try:
        await reader.open()
        if reader.initial_pending == 0:
            return found
        while len(found) < len(wanted):
            stored = await reader.next()
            if stored is None:
                raise BusError("NATS unavailable: stored-result lookup lost its consumer")
            msg_id = stored.headers.get(subjects.HEADER_MSG_ID, "")
            if msg_id in wanted and msg_id not in found and accept(stored):
                found[msg_id] = stored
            if stored.pending == 0:
                break
    finally:
        await reader.close()
    return found
