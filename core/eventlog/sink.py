"""The sink: a durable JetStream consumer that copies VC_EVENTS into the DuckDB log.

Flow: the one pull consumer, in raw mode (:mod:`core.consumer_raw`: deliveries straight
from the NATS parser, headers parsed only to be stored), keeps pull requests (of up to
``fetch_batch``) outstanding on the durable consumer ``eventlog_<log id>`` and
buffers what they deliver, within ``max_ack_pending`` of credit; an insert task
takes what is buffered (merged up to ``max_batch``), applies it on the log's single DB thread
(off the event loop; DuckDB releases the GIL while it inserts, so fetching
overlaps inserting) and acks the last message only after the transaction
committed. The consumer acks with ``AckPolicy.ALL``, so that one ack covers
the batch; a crash before it means redelivery, and the log skips what it
already has (stream sequence at or below the committed one).

While it runs, the sink also answers read-only queries (and redactions) over
NATS request-reply, because DuckDB lets only one process open the file for
writing: see :mod:`core.eventlog.service`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

from nats.js import api as js_api
from nats.js.errors import NotFoundError

from core import subjects
from core.bus import Bus
from core.consumer import Durable
from core.consumer_raw import RawPullConsumer
from core.errors import BusError, nats_errors
from core.eventlog.batch import RowBatch
from core.eventlog.database import LogDatabase
from core.eventlog.gaps import with_gaps_filled
from core.eventlog.progress import CONSUMER_PREFIX
from core.eventlog.rows import Incoming
from core.ignoring import ignored
from core.natsraw import RawMsg
from core.pause import pause
from core.pullstatus import stream_sequence

log = logging.getLogger(__name__)
ACK_LOST = "event log: ack not sent (the batch is stored; its redelivery is skipped)"
T = TypeVar("T")
RETRY_S = 1.0
"""Pause between attempts at a batch the file or NATS refused."""


@dataclass(frozen=True)
class SinkOptions:
    fetch_batch: int = 1000
    """Messages per pull request (one or two requests stay outstanding)."""
    max_batch: int = 10_000
    """At most this many messages per transaction (whatever was delivered meanwhile)."""
    linger_s: float = 0.05
    """At most one transaction starts per ``linger_s`` unless ``linger_batch`` messages wait:
    light traffic costs at most 1/linger_s transactions per second, not one per event (a
    transaction costs milliseconds of CPU whatever its size: README, Event log), and no
    event of light traffic waits longer than ``linger_s`` plus the commit before it."""
    linger_batch: int = 500
    busy_batch: int = 10
    """A transaction of at least this many messages means events arrive faster than one
    transaction per ``linger_s`` can take them one by one (``busy_batch / linger_s``,
    200 events/s): the next transaction then starts ``busy_linger_s`` after it instead."""
    busy_linger_s: float = 0.2
    """The cadence of busy traffic: at most 5 transactions a second whatever the rate.
    Light traffic (20 events/s: a transaction each) keeps ``linger_s`` and its lag."""
    fetch_timeout_s: float = 1.0
    """Expiry of one pull request."""
    ack_wait_s: float = 60.0
    max_ack_pending: int = 30_000

    def cadence(self, batch: int) -> float:
        """Seconds from the start of a transaction of ``batch`` messages to the next one."""
        return self.busy_linger_s if batch >= self.busy_batch else self.linger_s


class Sink:
    """``async with Sink(bus, database):`` copies the stream into the log until exit."""

    def __init__(self, bus: Bus, database: LogDatabase, options: SinkOptions | None = None,
                 *, nats_url: str | None = None) -> None:
        self.bus = bus
        self.db = database
        self.options = options or SinkOptions()
        self.nats_url = nats_url
        self.applied = 0
        self.transactions = 0  # batches stored: a DuckDB transaction each (unless split)
        self.failing_since: float | None = None
        """``time.monotonic()`` of the first failed attempt at the batch being retried."""
        self.last_error: str | None = None
        self._logged_at = 0.0
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._puller: RawPullConsumer | None = None
        self._progress = asyncio.Condition()
        self._service: Any = None

    @property
    def consumer(self) -> str:
        return f"{CONSUMER_PREFIX}{self.db.store.log_id.replace('-', '')[:16]}"

    async def start(self) -> None:
        await self._ensure_consumer()
        o = self.options
        self._puller = RawPullConsumer(self.bus, Durable(self.consumer, self._ensure_consumer),
                                    credit=o.max_ack_pending, batch=o.fetch_batch,
                                    expires_s=o.fetch_timeout_s)
        await self._puller.start()
        self._tasks = [asyncio.create_task(self._insert_loop(), name="eventlog insert")]
        from core.eventlog.service import LogService

        self._service = LogService(self)
        await self._service.start()

    async def stop(self) -> None:
        """Stop fetching, store and ack what was fetched, stop answering queries."""
        if self._service is not None:
            await self._service.stop()
        self._stopping.set()
        if self._puller is not None:
            await self._puller.stop()  # no more deliveries; what arrived is stored below
        await asyncio.gather(*self._tasks)

    async def __aenter__(self) -> Sink:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()

    async def _ensure_consumer(self) -> None:
        """(Re)create the durable consumer at the log's next sequence.

        The log knows exactly what it holds, so at every start the consumer begins
        at ``last_seq + 1``: nothing a dead predecessor fetched is waiting for
        redelivery, and delivery is in sequence order. The file lock guarantees
        this is the only sink of this log.
        """
        with nats_errors():
            with contextlib.suppress(NotFoundError):
                await self.bus.js.delete_consumer(subjects.EVENTS_STREAM, self.consumer)
            start = self.db.store.last_seq + 1
            await self.bus.js.add_consumer(subjects.EVENTS_STREAM, js_api.ConsumerConfig(
                name=self.consumer, durable_name=self.consumer,
                description=f"event log {self.db.store.path}",
                filter_subject=f"{subjects.EVENT_PREFIX}.>",
                deliver_policy=js_api.DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start,
                ack_policy=js_api.AckPolicy.ALL, ack_wait=self.options.ack_wait_s,
                max_ack_pending=self.options.max_ack_pending, max_waiting=16,
            ))

    async def _insert_loop(self) -> None:
        """Commit what was delivered, at most once per ``linger_s``, or ``busy_linger_s`` after
        a busy transaction (see :class:`SinkOptions`).

        The cadence counts from the start of the previous transaction, so an event arriving
        after a quiet spell is committed at once (it used to wait ``linger_s`` for company
        that did not come), and events arriving faster than the cadence share transactions.
        While one batch is written, what arrives is decoded on another thread (DuckDB
        releases the GIL while it writes); the next batch is written only after it.
        """
        puller = self._puller
        assert puller is not None
        next_commit = 0.0  # time.monotonic() before which a new transaction waits
        writing: asyncio.Task[None] | None = None
        try:
            while True:
                if self._stopping.is_set() and not puller.buffer:
                    return
                await puller.ready.wait()
                wait = next_commit - time.monotonic()
                if wait > 0 and not self._stopping.is_set():
                    await puller.gathered(self.options.linger_batch, wait)
                batch, decoded = await self._decode_while(writing)
                if writing is not None:
                    await writing
                    writing = None
                if batch:
                    next_commit = time.monotonic() + self.options.cadence(len(batch))
                    writing = asyncio.create_task(self._apply(batch, decoded))
        finally:
            if writing is not None:
                await writing

    async def _decode_while(self, writing: asyncio.Task[None] | None
                            ) -> tuple[list[RawMsg], RowBatch]:
        """Take and decode deliveries until ``writing`` is done (or ``max_batch`` are taken)."""
        puller = self._puller
        assert puller is not None
        batch: list[RawMsg] = []
        decoded: list[RowBatch] = []
        while len(batch) < self.options.max_batch:
            taken = puller.take(self.options.max_batch - len(batch))
            if taken:
                batch += taken
                decoded.append(await self.db.decode([_incoming(m) for m in taken]))
            if writing is None or writing.done():
                break
            if not taken:
                arrived = asyncio.ensure_future(puller.ready.wait())
                await asyncio.wait((writing, arrived), return_when=asyncio.FIRST_COMPLETED)
                arrived.cancel()
        return batch, RowBatch.joined(decoded)

    async def _apply(self, batch: list[RawMsg], decoded: RowBatch) -> None:
        """Store ``batch`` (:meth:`_store`), then ack it; its credit returns either way."""
        puller = self._puller
        assert puller is not None
        try:
            inserted = await self._store(decoded)
            if inserted is None:
                return
            last = batch[max(range(len(batch)), key=decoded.seqs.__getitem__)]
            # AckPolicy.ALL: acks every sequence up to it, all of them stored. A lost ack only
            # means a redelivery, which the store skips (at or below its last sequence).
            with ignored(log, ACK_LOST, BusError):
                await puller.ack(last)
        finally:
            puller.release(len(batch))
        self.applied += inserted
        self.transactions += 1
        async with self._progress:
            self._progress.notify_all()

    async def _store(self, decoded: RowBatch) -> int | None:
        """Rows inserted, retrying until the batch is stored; ``None`` when the sink stops
        first (not acked: the next start takes it from the stream).

        The store takes every message (what it cannot store as an event it stores
        quarantined), so only a failing file or NATS gets here to retry; while it
        does, the log stands still and HealthCheck and ``voicecore doctor`` say so
        (:mod:`core.eventlog.progress`).
        """
        while True:
            try:
                incoming = await with_gaps_filled(self.bus.js, self.db.store.last_seq, decoded)
                inserted: int = await self.db.write(self.db.store.apply_decoded, incoming)
            except Exception as exc:  # never ack unstored work
                if self._stopping.is_set():
                    log.error("event log: batch not stored at stop (%s); left in the stream", exc)
                    return None
                self._failing(exc)
                await pause(RETRY_S)
            else:
                self._recovered()
                return inserted

    def _failing(self, exc: Exception) -> None:
        """Note a failed attempt: logged when it starts, changes, or every minute."""
        now = time.monotonic()
        error = f"{type(exc).__name__}: {exc}"
        if self.failing_since is None:
            self.failing_since = now
            log.error("event log: cannot store; retrying every %.0f s until it can",
                      RETRY_S, exc_info=exc)
        elif error != self.last_error or now - self._logged_at >= 60:
            log.error("event log: still cannot store after %.0f s: %s",
                      now - self.failing_since, error)
        else:
            return
        self.last_error, self._logged_at = error, now

    def _recovered(self) -> None:
        if self.failing_since is not None:
            log.warning("event log: storing again after %.0f s",
                        time.monotonic() - self.failing_since)
            self.failing_since = self.last_error = None

    async def wait_for(self, sequence: int, timeout: float = 30.0) -> None:
        """Until the log has applied the stream up to ``sequence``."""

        async def reached() -> None:
            async with self._progress:
                await self._progress.wait_for(lambda: self.db.store.last_seq >= sequence)

        await asyncio.wait_for(reached(), timeout)


def _incoming(msg: RawMsg) -> Incoming:
    return (stream_sequence(msg.reply), msg.subject, msg.data, msg.headers)
