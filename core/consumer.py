"""The one JetStream pull consumer: credit-based, pull requests kept outstanding.

Every reader of the event stream goes through :class:`PullConsumer`: the worker and
the event-log sink (``Durable``: bound to a durable consumer, explicit acks by the
caller), StreamEvents, the bridge's stored-result lookup and replay (``Ordered``: an
ephemeral consumer, no acks, re-created from the last stream sequence on any gap).

Flow control by credit: the caller grants ``credit`` deliveries; the consumer keeps
pull requests outstanding for at most what is free of it (``credit`` minus what it
holds and what it already asked for) and gets credit back when the caller
:meth:`~PullConsumer.release`\\ s a delivery it finished. So the consumer never holds
more deliveries than granted, and a slow caller slows only its own consumer.
Deliveries arrive on one inbox subscription (no task or timer per message) as nats-py
``Msg`` objects (:class:`PullConsumer`) or raw (:class:`core.consumer_raw.RawPullConsumer`);
the caller takes them with :meth:`~PullConsumer.take` or :meth:`~PullConsumer.next`
(:class:`core.pullbuffer.DeliveryBuffer`, the consumer's base).

An ordered consumer's gap shows at the next delivery (its consumer sequence skips),
or, when the lost one was the last, at the next idle heartbeat, which names the
server's last delivery: either way it is re-created after the last sequence received.

Status codes (:mod:`core.pullstatus`) are handled here only. The consumer is *lost*
when the server deletes it (409), or no message nor idle heartbeat came for
``3 * heartbeat_s`` while a request was outstanding (server restart, network); it is
then re-opened on a new inbox (a durable: re-ensured if gone; an ordered one:
re-created after the last sequence delivered), unless made with ``reopen=False``
(a bounded lookup), where the next :meth:`~PullConsumer.next` raises
:class:`~core.errors.BusUnavailable`. Every loss is logged and counted
(``core.ignoring.IGNORED[LOST]``); a bug in handling a message is logged at ERROR and
raised to the caller, never turned into a quiet reopen loop.
"""

from __future__ import annotations

import abc
import asyncio
import functools
import logging
import time
from collections.abc import Coroutine
from typing import Any

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from core import natsraw, subjects
from core.bus import Bus
from core.consumer_modes import Durable, Ordered, StartAt
from core.errors import NATS_ERRORS, BusError, BusUnavailable, nats_errors
from core.ignoring import ignored, note_ignored
from core.pause import pause, stop_tasks
from core.pullbuffer import DeliveryBuffer, M
from core.pullcredit import Credit
from core.pullstatus import Action, Status, classify, delivered
from schemas import ids

__all__ = ["LOST", "BasePullConsumer", "Durable", "Ordered", "PullConsumer", "StartAt"]

log = logging.getLogger(__name__)

LOST = "pull consumer: consumer lost (re-opened on a new inbox; ordered: after the last " \
       "sequence delivered)"
STATUS = "pull consumer: JetStream status ended a pull request (pulled again)"
CLEANUP = "pull consumer: cleanup of a consumer being closed (it expires on its own)"


class BasePullConsumer(DeliveryBuffer[M], abc.ABC):
    """The consumer; what a delivery is (``M``) is up to the subclass's subscription."""

    def __init__(self, bus: Bus, mode: Durable | Ordered, *, credit: int,
                 batch: int | None = None, expires_s: float = 30.0, heartbeat_s: float = 1.0,
                 reopen: bool = True, stream: str = subjects.EVENTS_STREAM) -> None:
        super().__init__()
        self.bus = bus
        self.mode = mode
        self.stream = stream
        self.expires_s = expires_s
        self.heartbeat_s = heartbeat_s
        self.reopen_on_loss = reopen
        self.name = mode.name if isinstance(mode, Durable) else ""
        self.last_sequence = 0
        """Stream sequence of the last delivery (ordered: in order, no gap)."""
        self.initial_pending = 0
        """Messages stored for the filter when the consumer was created (ordered)."""
        self.credit = Credit(credit, min(batch or credit, credit))
        """``credit.held``: deliveries the caller has not released yet (what ``credit`` bounds)."""
        self._sub: Subscription | None = None
        self._expected = 1  # the next consumer sequence (ordered)
        self._pulling = False
        self._watchdog: asyncio.Task[None] | None = None
        self._reopening: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Open (create the ordered consumer, subscribe, pull); raises :class:`BusError`."""
        await self._open()
        self._watchdog = asyncio.create_task(self._watch(), name=f"watch {self.name}")

    async def stop(self) -> None:
        """No more deliveries; what is buffered stays for :meth:`take`."""
        self._end()
        await stop_tasks(self._watchdog, self._reopening, *self._background)
        await self._close()

    def release(self, count: int = 1) -> None:
        """The caller finished ``count`` deliveries (acked, or handed on): credit returns."""
        self.credit.held -= count
        self._pull_soon()

    async def _open(self) -> None:
        self.credit.reset()
        if isinstance(self.mode, Ordered):
            self.name = f"{self.mode.prefix}{ids.uuid7().replace('-', '')}"
            config = self.mode.config(self.name, self.last_sequence, self.expires_s)
            with nats_errors():
                info = await self.bus.js.add_consumer(self.stream, config)
            self.initial_pending, self._expected = int(info.num_pending or 0), 1
        with nats_errors():
            self._sub = await self._subscribe(self.bus.nc.new_inbox())
        await self._pull()

    @abc.abstractmethod
    async def _subscribe(self, inbox: str) -> Subscription:
        """Subscribe ``inbox`` the way this consumer receives (nats-py ``Msg`` or raw)."""

    async def _close(self) -> None:
        sub, self._sub = self._sub, None
        await self._forget(sub)

    async def _forget(self, sub: Subscription | None) -> None:
        if sub is not None:
            with ignored(log, CLEANUP, *NATS_ERRORS, level=logging.DEBUG):
                await natsraw.unsubscribe(self.bus.nc, sub)
        if isinstance(self.mode, Ordered) and self.name and self.bus.nc.is_connected:
            with ignored(log, CLEANUP, BusError, level=logging.DEBUG), nats_errors():
                await self.bus.js.delete_consumer(self.stream, self.name)

    def _pull_soon(self) -> None:
        if self.credit.worth_asking() and self._sub is not None and not self._pulling:
            self._pulling = True
            self._spawn(self._pull_quietly())

    async def _pull_quietly(self) -> None:
        try:
            with ignored(log, "pull consumer: pull request not sent (the watchdog pulls "
                         "again when NATS is back)", BusError, level=logging.DEBUG):
                await self._pull()
        finally:
            self._pulling = False

    async def _pull(self) -> None:
        sub = self._sub
        if sub is None or self._stopped:
            return
        want, request = self.credit.request(self.expires_s, self.heartbeat_s)
        if not want:
            return
        try:
            with nats_errors():
                await self.bus.nc.publish(subjects.pull_request_subject(self.stream, self.name),
                                          request, reply=sub.subject)
        except BusError:
            self.credit.request_over(want)
            raise

    def _on_message(self, inbox: str, msg: M) -> None:
        if self._sub is None or inbox != self._sub.subject:
            return  # a delivery to an inbox already replaced: the server redelivers it
        self.credit.heard_at = time.monotonic()
        try:
            if not msg.reply:
                self._on_status(classify(msg.headers or {}))
            else:
                self._on_delivery(msg)
        except Exception as exc:
            log.exception("pull consumer %s: unexpected error handling a message", self.name)
            self._fail(exc)

    def _on_delivery(self, msg: M) -> None:
        if isinstance(self.mode, Ordered):
            meta = delivered(msg.reply)
            if meta.consumer_sequence != self._expected:
                self._lost(f"ordered consumer gap: consumer sequence "
                           f"{meta.consumer_sequence}, expected {self._expected}")
                return
            self._expected += 1
            self.last_sequence = meta.stream_sequence
        self.credit.delivered()
        if self.credit.asked <= self.credit.batch // 2:
            self._pull_soon()  # the next request waits on the server before this one ends
        self._hand_over(msg)

    def _on_status(self, status: Status) -> None:
        if status.action is Action.HEARTBEAT:
            self._check_tail(status.last_delivered)
            return
        if status.action is Action.LOST:
            self._lost(f"{status.code} {status.description}")
            return
        if status.noteworthy:
            note_ignored(log, STATUS, BusError(f"{status.code} {status.description}"))
        if status.undelivered is None:  # which request ended is unknown: start afresh, after
            # a pause (a refusal such as "Exceeded MaxWaiting" would come straight back)
            self._lost(f"{status.code} {status.description} without a pending count",
                       pause_s=self.heartbeat_s)
            return
        self.credit.request_over(status.undelivered)
        self._pull_soon()

    def _check_tail(self, last_delivered: int | None) -> None:
        """Ordered: a gap shows at the next delivery, but a lost *last* delivery has no
        next one (a stream's final chunk). The server's heartbeat names its last delivery,
        and comes after it on the same inbox: one we never saw is lost."""
        if isinstance(self.mode, Ordered) and last_delivered is not None \
                and last_delivered >= self._expected:
            self._lost(f"ordered consumer gap at the tail: the server delivered consumer "
                       f"sequence {last_delivered}, the last received is {self._expected - 1}")

    def _lost(self, why: str, pause_s: float = 0.0) -> None:
        note_ignored(log, LOST, BusUnavailable(why))
        old, self._sub = self._sub, None  # what still arrives on it is dropped (see above)
        if not self.reopen_on_loss:
            self._fail(BusUnavailable(f"NATS unavailable: pull consumer lost ({why})"))
        self._reopening = asyncio.get_running_loop().create_task(self._reopen(old, pause_s))

    def _fail(self, exc: BaseException) -> None:
        self._hand_over_failure(exc)
        old, self._sub = self._sub, None
        if old is not None:
            self._spawn(self._forget(old))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)  # referenced until done (the loop keeps weak references)
        task.add_done_callback(self._background.discard)

    async def _reopen(self, old: Subscription | None, pause_s: float) -> None:
        """On a new inbox (late deliveries to the old one are dropped and redelivered)."""
        await self._forget(old)  # an ordered consumer is deleted: a new one is made below
        await pause(pause_s)
        if not self.reopen_on_loss:
            return
        delay = 0.1
        while not self._stopped:
            try:
                if isinstance(self.mode, Durable):
                    await self.mode.recover(self.bus.js, self.stream)
                await self._open()
                return
            except BusError as exc:
                log.info("pull consumer %s: re-open failed (%s); retrying", self.name, exc)
                await self._close()
                await pause(delay)
                delay = min(2 * delay, 2.0)

    async def _watch(self) -> None:
        """A request outstanding and nothing heard for three heartbeats: lost."""
        tick = min(self.heartbeat_s, self.expires_s / 2)
        while not self._stopped:
            slept_from = time.monotonic()
            await pause(tick)
            credit, now = self.credit, time.monotonic()
            if self._sub is None or now - slept_from > 2 * tick:
                continue  # re-opening or failed; or this loop itself stalled: heartbeats that
                # came meanwhile may still wait in the socket, so silence proves nothing now
            if credit.silent(now, 3 * self.heartbeat_s):
                self._lost(f"no message nor heartbeat for {3 * self.heartbeat_s:g}s")
            elif not credit.asked or credit.due_for_renewal(now):
                self._pull_soon()  # nothing waiting (a pull failed while disconnected?), or
                # the waiting request is about to expire: keep one waiting on the server


class PullConsumer(BasePullConsumer[Msg]):
    """Deliveries as nats-py ``Msg`` objects (acked by the caller: ``msg.ack()``, …)."""

    async def _subscribe(self, inbox: str) -> Subscription:
        return await self.bus.nc.subscribe(
            inbox, cb=functools.partial(self._on_msg, inbox),
            pending_msgs_limit=4 * self.credit.granted + 1000,
            pending_bytes_limit=512 * 1024 ** 2)

    async def _on_msg(self, inbox: str, msg: Msg) -> None:
        self._on_message(inbox, msg)

