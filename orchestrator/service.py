"""The orchestrator process's work: take conversations, route turns, adopt orphans.

* **New conversations**: the durable consumer ``orchestrator_requests`` on
  ``vc.ev.*.conversation.requested`` is shared by every orchestrator process (JetStream
  hands each request to one of them); whoever fetches a request takes the
  conversation's lease (:mod:`orchestrator.lease`), then acks. A request whose lease
  someone holds is acked and left to its holder.
* **Turns and hang-ups**: each process reads ``vc.ev.*.turn.received`` and
  ``vc.ev.*.conversation.hung_up`` (an ordered consumer, new messages only) and hands
  them to the conversation's driver if it holds it; others ignore them (their holder
  reads them too; an orphan's are in the events it is rebuilt from).
* **Orphans**: every lease TTL, the active conversations whose lease is free are
  taken over: their course is rebuilt from ``VC_EVENTS`` and driven on.
* Leases are renewed every third of the TTL; a lost one stops its driver.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

import msgspec
from nats.js import api as js_api

from core import subjects
from core.bus import Bus
from core.consumer import Durable, Ordered, PullConsumer, StartAt
from core.errors import BusError, VoiceCoreError, nats_errors
from core.ignoring import ignored
from core.pause import pause, stop_tasks
from orchestrator.driver import Driver, FlowLoader, stored_events
from orchestrator.lease import LEASE_TTL_S, Lease, LeaseLost, Leases
from orchestrator.port import Primitives
from schemas import conversation_events as ce
from schemas.events import PRODUCER, decode

log = logging.getLogger(__name__)

CREDIT = 64
TAKE_CREDIT = 8
"""Requests asked for at once, one per pull request: JetStream serves waiting pull
requests in order, so requests alternate between the processes instead of filling one
process's big batch."""
ACK_WAIT_S = 30.0
CALLERS_LIVE = (subjects.TURN_RECEIVED, subjects.CONVERSATION_HUNG_UP)
"""What the caller's side says during a conversation, handed to its driver."""


class Orchestrator:
    def __init__(self, bus: Bus, port: Primitives, load_flow: FlowLoader, *,
                 lease_ttl_s: float = LEASE_TTL_S, owner: str = PRODUCER) -> None:
        self.bus = bus
        self.port = port
        self.load_flow = load_flow
        self.lease_ttl_s = lease_ttl_s
        self.owner = owner
        self.drivers: dict[str, Driver] = {}
        self.ended = 0
        self._leases: Leases | None = None
        self._consumers: list[PullConsumer] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        self._leases = await Leases.open(self.bus, self.owner, self.lease_ttl_s)
        self.lease_ttl_s = self._leases.ttl_s  # the bucket's, if another process made it
        await ensure_requests_consumer(self.bus)
        requests = PullConsumer(self.bus, Durable(subjects.ORCHESTRATOR_CONSUMER,
                                                  lambda: ensure_requests_consumer(self.bus)),
                                credit=TAKE_CREDIT, batch=1)
        turns = PullConsumer(self.bus, Ordered(
            tuple(map(subjects.events_of_type, CALLERS_LIVE)), StartAt()), credit=CREDIT)
        for consumer in (turns, requests):  # turns first: none is missed once a lease is held
            await consumer.start()
            self._consumers.append(consumer)
        self._spawn(self._take_requests(requests))
        self._spawn(self._route_turns(turns))
        self._spawn(self._renew_leases())
        self._spawn(self._adopt_orphans())

    async def stop(self) -> None:
        """Stop driving; leases are given up so another process adopts at once."""
        await stop_tasks(*self._tasks)
        for consumer in self._consumers:
            await consumer.stop()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _take_requests(self, consumer: PullConsumer) -> None:
        while True:
            msg = await consumer.next()
            try:
                event = decode(msg.data)
                if isinstance(event, ce.ConversationRequested):
                    await self.take(event.conversation_id)
            except (msgspec.DecodeError, msgspec.ValidationError):
                log.warning("orchestrator: an undecodable conversation request (acked)")
            except BusError as exc:  # NATS trouble: redelivered after the ack wait
                log.warning("orchestrator: request not taken now: %s", exc)
                consumer.release()
                continue
            with ignored(log, "orchestrator: ack lost (redelivered; the lease dedups)",
                         BusError), nats_errors():
                await msg.ack()
            consumer.release()

    async def take(self, conversation_id: str) -> bool:
        """Drive the conversation if its lease is free."""
        assert self._leases is not None
        if conversation_id in self.drivers:
            return False
        lease = await self._leases.take(conversation_id)
        if lease is None:
            return False
        driver = self.drivers[conversation_id] = Driver(self.bus, self.port, lease,
                                                        self.load_flow)
        self._spawn(self._drive(driver, lease))
        return True

    async def _drive(self, driver: Driver, lease: Lease) -> None:
        cid = lease.conversation_id
        ended = False
        try:
            course = await driver.run(await stored_events(self.bus, cid))
            ended = course is None or not course.request_id \
                or course.status in ("completed", "abandoned")
        except LeaseLost:
            log.warning("orchestrator: lease lost; another process drives the conversation")
        except VoiceCoreError as exc:  # NATS or a flow that no longer loads: let go
            log.error("orchestrator: conversation given up here: %s", exc)
        except Exception:
            log.exception("orchestrator: bug driving a conversation; lease given up")
        finally:
            self.drivers.pop(cid, None)
            self.ended += ended
            await asyncio.shield(lease.release(ended=ended))

    async def _route_turns(self, consumer: PullConsumer) -> None:
        while True:
            msg = await consumer.next()
            consumer.release()
            try:
                event = decode(msg.data)
            except (msgspec.DecodeError, msgspec.ValidationError):
                continue
            driver = self.drivers.get(event.conversation_id)
            if driver is not None and isinstance(event, ce.TurnReceived | ce.ConversationHungUp):
                driver.deliver(event)

    async def _renew_leases(self) -> None:
        while True:
            await pause(self.lease_ttl_s / 3)
            for driver in list(self.drivers.values()):
                with contextlib.suppress(LeaseLost), ignored(
                        log, "orchestrator: lease renewal failed (retried)", BusError):
                    await driver.lease.renew()

    async def _adopt_orphans(self) -> None:
        assert self._leases is not None
        leases = self._leases
        while True:
            with ignored(log, "orchestrator: orphan scan failed (retried)", BusError):
                for cid in await leases.orphans():
                    await self.take(cid)
            await pause(self.lease_ttl_s)


async def ensure_requests_consumer(bus: Bus, ack_wait_s: float = ACK_WAIT_S) -> str:
    """The durable consumer every orchestrator process shares (create or update)."""
    name = subjects.ORCHESTRATOR_CONSUMER
    config = js_api.ConsumerConfig(
        name=name, durable_name=name, description="orchestrators: new conversations",
        filter_subject=subjects.events_of_type(subjects.CONVERSATION_REQUESTED),
        deliver_policy=js_api.DeliverPolicy.ALL, ack_policy=js_api.AckPolicy.EXPLICIT,
        ack_wait=ack_wait_s, max_ack_pending=10_000)
    with nats_errors():
        await bus.js.add_consumer(subjects.EVENTS_STREAM, config)
    return name

