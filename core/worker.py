"""Worker runtime: one durable pull consumer per primitive, shared by every worker process.

Delivery semantics:

* explicit ack after the result event is stored, so a crash before that means a
  redelivery after ``ack_wait``; long work sends progress heartbeats meanwhile;
* the result id is derived from the request id, so a redelivered request that
  was already answered is de-duplicated by JetStream: one result per request (so are
  the chunk events a primitive may publish before it, :mod:`core.chunks`);
* a failed attempt (exception, timeout) is retried with backoff (``nak`` with a
  delay) until ``max_deliver``, then answered with ``<primitive>.failed``;
* a body that does not decode or validate, or that disagrees with its subject
  (another conversation, another type), is dead-lettered and terminated;
* a request whose caller's ``deadline`` has passed is answered ``TIMEOUT`` without
  running it, so a backlog left by a burst drains at the cost of a publish each;
* delivery: one credit-based pull consumer (:mod:`core.consumer`) granted
  ``concurrency`` credit: at most that many requests are held by this process, and
  each one finished (acked, nak'ed or terminated) returns its credit;
* stop: no new deliveries; what was already delivered to this worker is in flight
  and gets ``shutdown_grace_s`` to finish; the rest is nak'ed at once so another
  worker takes it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import time
from typing import Any

import msgspec
from nats.aio.subscription import Subscription

from core import subjects, tracing
from core.bus import Bus, messaging_attributes
from core.chunks import open_call
from core.config import WorkerOptions
from core.consumer import Durable
from core.consumer_raw import RawPullConsumer
from core.deadletter import dead_letter, exhausted_advisory_subject, on_exhausted
from core.errors import NATS_ERRORS, BusError, PrimitiveError
from core.ignoring import ignored
from core.natsraw import RawMsg
from core.pause import pause, stop_tasks
from core.presence import Announcer
from core.primitive import Primitive
from core.pullstatus import delivered
from schemas import events, ids
from schemas.events import Event
from schemas.payloads import Failure

log = logging.getLogger(__name__)


class Worker:
    def __init__(self, bus: Bus, primitive: Primitive, options: WorkerOptions) -> None:
        self.bus = bus
        self.primitive = primitive
        self.options = options
        self.completed = 0
        self._inflight: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._consumer: RawPullConsumer | None = None
        self._working: dict[int, tuple[RawMsg, float]] = {}
        """Requests being executed (by ``id``), with when they started: for heartbeats."""
        self._heartbeat_loop: asyncio.Task[None] | None = None
        self._loop: asyncio.Task[None] | None = None
        self._presence: Announcer | None = None
        self._exhausted: Subscription | None = None

    async def start(self) -> None:
        if self.primitive.prepare is not None:
            await self.primitive.prepare(self.bus)
        name = await self._ensure_consumer()
        self._consumer = RawPullConsumer(
            self.bus, Durable(name, ensure=self._ensure_consumer),
            # Half-size requests: a new one goes out once a quarter of the slots is free,
            # so the next work is on its way while the rest still runs.
            credit=self.options.concurrency, batch=max(1, self.options.concurrency // 2))
        await self._consumer.start()
        self._heartbeat_loop = asyncio.create_task(self._heartbeats(), name="heartbeats")
        self._exhausted = await self.bus.nc.subscribe(
            exhausted_advisory_subject(self.primitive),
            queue=f"vc_exhausted_{self.primitive.name}",
            cb=functools.partial(on_exhausted, self.bus, self.primitive),
        )
        self._loop = asyncio.create_task(self._fetch_loop(), name=f"fetch {self.primitive.name}")
        self._presence = Announcer(self.bus.nc, self.primitive.name)
        await self._presence.start()  # the bridge answers PRIMITIVE_NOT_FOUND without one

    async def stop(self) -> None:
        """Stop fetching, let in-flight work finish within the grace period, nak the rest."""
        if self._presence is not None:
            await self._presence.stop()  # no new callers are sent our way...
            with ignored(log, "worker: flush at stop (the connection may be closing)",
                         *NATS_ERRORS, level=logging.DEBUG):
                await self.bus.nc.flush(timeout=1)  # ...once the server has our "down"
        self._stopping.set()
        if self._consumer is not None:
            await self._consumer.stop()  # what it delivered already is handled below
        if self._loop is not None:
            await self._loop
        if self._inflight:
            _, late = await asyncio.wait(self._inflight, timeout=self.options.shutdown_grace_s)
            for task in late:
                task.cancel()  # _handle naks on cancellation
            await asyncio.gather(*late, return_exceptions=True)
        await stop_tasks(self._heartbeat_loop)
        if self._exhausted is not None:
            with ignored(log, "worker: unsubscribe at stop (the connection may be closing)",
                         *NATS_ERRORS, level=logging.DEBUG):
                await self._exhausted.unsubscribe()

    @property
    def _acks(self) -> RawPullConsumer:  # it delivered every message handled here
        assert self._consumer is not None
        return self._consumer

    async def _ensure_consumer(self) -> str:
        return await self.bus.ensure_consumer(self.primitive.name, self.options)

    async def _fetch_loop(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        while True:
            await consumer.ready.wait()
            for msg in consumer.take(self.options.concurrency):
                task = asyncio.create_task(self._handle(msg))
                self._inflight.add(task)
                task.add_done_callback(self._finished)
            if self._stopping.is_set() and not consumer.buffer:
                return

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        if self._consumer is not None:
            self._consumer.release()  # acked, nak'ed or terminated: its credit returns

    async def _handle(self, msg: RawMsg) -> None:
        try:
            event = events.decode(msg.data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            await self._reject(msg, f"invalid event: {exc}")
            return
        mismatch = subjects.body_mismatch(msg.subject, event.conversation_id, event.event_type)
        if mismatch is not None or not isinstance(event, self.primitive.requested):
            await self._reject(msg, f"rejected: {mismatch or 'not a request for this primitive'}")
            return
        attempt = delivered(msg.reply).deliveries or 1
        span = tracing.start_span(
            f"process {event.event_type}",
            context=tracing.parent_context(event.trace_id, msg.headers),
            kind=tracing.CONSUMER,
            attributes={
                **messaging_attributes(msg.subject, event, "process"),
                "messaging.consumer.group.name": subjects.consumer_name(self.primitive.name),
                "messaging.message.delivery_count": attempt,
            } if tracing.recording() else None,
        )
        with span:
            try:
                await self._execute(msg, event, attempt)
            except asyncio.CancelledError:
                await _quietly(self._acks.nak(msg))
                raise

    async def _execute(self, msg: RawMsg, request: Event, attempt: int) -> None:
        left = _time_left(request.data.deadline)
        if left is not None and left <= 0:
            # The caller has given up: answering costs one publish, running could cost seconds
            # and would keep every request queued behind it waiting too.
            await self._answer(msg, self._failure(
                request, attempt, "TIMEOUT", "the caller's deadline passed before execution"))
            return
        timeout = request.data.timeout_s or self.primitive.timeout_s
        if left is not None and left < timeout:
            timeout, past_deadline = left, True
        else:
            past_deadline = False
        try:
            if self.primitive.runs_inline(request.data.params):
                # Well under a millisecond, no await: no timeout or heartbeat can be due.
                result = self.primitive.execute_inline(request.data.params)
            else:
                result = await self._run(msg, request, attempt, timeout)
        except PrimitiveError as exc:
            outcome = self._failure(request, attempt, exc.code, str(exc), retryable=exc.retryable)
        except TimeoutError:
            if past_deadline:
                outcome = self._failure(request, attempt, "TIMEOUT",
                                        "the caller's deadline passed during execution")
            elif await self._retry_later(msg, attempt, f"timed out after {timeout:g}s"):
                return
            else:
                outcome = self._failure(request, attempt, "TIMEOUT", f"no result in {timeout:g}s")
        except Exception as exc:
            log.exception("%s failed on %s", self.primitive.name, request.id)
            if await self._retry_later(msg, attempt, repr(exc)):
                return
            outcome = self._failure(request, attempt, "PRIMITIVE_FAILED", f"{exc!r}")
        else:
            outcome = self._result(request, attempt, result)
        await self._answer(msg, outcome)

    async def _run(self, msg: RawMsg, request: Event, attempt: int, timeout: float) -> Any:
        """The handler's answer within ``timeout`` (in progress for :meth:`_heartbeats`)."""
        self._working[id(msg)] = (msg, time.monotonic())
        try:
            async with asyncio.timeout(timeout):  # no task per request (wait_for's)
                if self.primitive.takes_call:  # it publishes chunk events (core/chunks.py)
                    call = open_call(self.bus, self.primitive, request, attempt)
                    return await self.primitive.execute(request.data.params, call)
                return await self.primitive.execute(request.data.params)
        finally:
            del self._working[id(msg)]

    def _result(self, request: Event, attempt: int, result: Any) -> Event:
        if result is None:
            return self._failure(
                request, attempt, "NO_MATCH", "nothing to capture in the transcript", True
            )
        return self._reply(self.primitive.completed, request, attempt, result)

    def _failure(
        self, request: Event, attempt: int, code: str, message: str, retryable: bool = False
    ) -> Event:
        failure = Failure(code=code, message=message, retryable=retryable)
        return self._reply(self.primitive.failed, request, attempt, failure)

    @staticmethod
    def _reply(cls: type[Event], request: Event, attempt: int, data: Any) -> Event:
        return events.new_event(
            cls,
            conversation_id=request.conversation_id,
            trace_id=request.trace_id,
            causation_id=request.id,
            event_id=ids.derive_id(request.id, "result"),
            attempt=attempt,
            data=data,
        )

    async def _answer(self, msg: RawMsg, outcome: Event) -> None:
        try:
            await self.bus.publish(outcome)
        except BusError as exc:
            # Not stored, so not acked: JetStream redelivers and the derived id keeps one result.
            log.warning("%s: result not stored (%s); will be redelivered", self.primitive.name, exc)
            await _quietly(self._acks.nak(msg, self.options.backoff_s[0]))
            return
        await _quietly(self._acks.ack(msg))
        self.completed += 1

    async def _retry_later(self, msg: RawMsg, attempt: int, why: str) -> bool:
        if attempt >= self.options.max_deliver:
            return False
        backoff = self.options.backoff_s
        delay = backoff[min(attempt - 1, len(backoff) - 1)]
        log.warning("%s attempt %d failed (%s); retry in %gs", self.primitive.name, attempt, why,
                    delay)
        await _quietly(self._acks.nak(msg, delay))
        return True

    async def _heartbeats(self) -> None:
        """One loop for all long work (not a task per request): every request running for
        half a period or more is told to JetStream to be in progress, so none is redelivered
        while it runs (at most 1.5 periods = ack_wait / 2 between two of them)."""
        period = self.options.heartbeat_s
        while True:
            await pause(period)
            since = time.monotonic() - period / 2
            for msg, started in list(self._working.values()):
                if started <= since:
                    await _quietly(self._acks.in_progress(msg))

    async def _reject(self, msg: RawMsg, reason: str) -> None:
        md = delivered(msg.reply)
        try:
            await dead_letter(
                self.bus,
                self.primitive,
                body=msg.data,
                headers=msg.headers,
                subject=msg.subject,
                stream_sequence=md.stream_sequence,
                deliveries=md.deliveries or 1,
                reason=reason,
            )
        except BusError as exc:  # not copied yet: leave it to redelivery rather than lose it
            log.warning("dead-letter failed (%s); will retry", exc)
            await _quietly(self._acks.nak(msg, self.options.backoff_s[0]))
            return
        await _quietly(self._acks.term(msg))


def _time_left(deadline: dt.datetime | msgspec.UnsetType) -> float | None:
    """Seconds until the caller's deadline (negative once passed); ``None`` without one."""
    if isinstance(deadline, msgspec.UnsetType):
        return None
    return (deadline - events.now()).total_seconds()


async def _quietly(ack: Any) -> None:
    """Acks are best effort: if the connection is gone, JetStream redelivers anyway."""
    with ignored(log, "worker: ack not sent (JetStream redelivers; the result id is derived, "
                 "so no second result)", BusError, *NATS_ERRORS, level=logging.DEBUG):
        await ack
