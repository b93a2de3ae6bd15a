"""Who drives a conversation: a lease per conversation in a JetStream KV bucket.

An orchestrator process drives a conversation only while it holds its lease: the key
``<conversation id>`` of bucket ``VC_LEASES``, created only if absent (``kv.create``)
and renewed by compare-and-set on its revision (``kv.update(last=…)``) every third of
the TTL. The bucket's TTL (its stream's ``max_age``) removes a lease nobody renews, so a
dead owner's conversations become free after at most one TTL. A renewal that finds
another revision means the lease was lost (it expired and was taken): the driver stops
before publishing anything more (:meth:`Lease.ensure`).

Why a lease and not JetStream consumer ownership: a conversation spans many messages on
several subjects (its request, then each turn) over minutes, and JetStream's exclusivity
is per message (one delivery is in flight to one consumer), not per conversation; a
consumer per conversation would make 100 conversations 100 consumers with their own
ownership to arbitrate. The lease is one key per conversation, checked before each step.

``VC_CONVERSATIONS`` holds every conversation being driven (written when taken, deleted
at its end): a process that starts, or looks again every TTL, adopts those whose lease
is free (:meth:`Leases.orphans`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from nats.js import api
from nats.js.errors import (
    BucketNotFoundError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
    NoKeysError,
)
from nats.js.kv import KeyValue

from core import subjects
from core.bus import Bus
from core.errors import BusError, nats_errors
from core.ignoring import ignored

log = logging.getLogger(__name__)

LEASE_TTL_S = 10.0
ACTIVE_TTL_S = 7 * 24 * 3600.0
"""An active record nobody deleted (a bug) goes after the events' own retention."""
RELEASE = "orchestrator lease: release failed (the lease expires on its own)"


class LeaseLost(BusError):
    """Another owner holds the conversation now: stop driving it."""


@dataclass
class Lease:
    conversation_id: str
    revision: int
    leases: Leases = field(repr=False)
    renewed_at: float = field(default_factory=time.monotonic)
    lost: bool = False
    _renewing: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    """One renewal at a time: the driver's (before a step) and the periodic one would
    otherwise both update from the same revision, and the loser would think it lost."""

    async def ensure(self) -> None:
        """Raise :class:`LeaseLost` unless held; renews now when the last renewal is older
        than a third of the TTL (a stalled loop must not publish on an expired lease)."""
        if self.lost:
            raise LeaseLost(f"lease of {self.conversation_id} lost")
        if time.monotonic() - self.renewed_at > self.leases.ttl_s / 3:
            await self.renew()

    async def renew(self) -> None:
        async with self._renewing:
            if self.lost:
                raise LeaseLost(f"lease of {self.conversation_id} lost")
            with nats_errors():
                try:
                    self.revision = await self.leases.kv.update(
                        self.conversation_id, self.leases.owner.encode(), last=self.revision)
                except KeyWrongLastSequenceError:
                    self.lost = True
                    raise LeaseLost(f"lease of {self.conversation_id} taken over") from None
            self.renewed_at = time.monotonic()

    async def release(self, *, ended: bool) -> None:
        """Give the lease up (``ended``: the conversation is over, forget it)."""
        async with self._renewing:
            if not self.lost:
                await self._delete(ended=ended)

    async def _delete(self, *, ended: bool) -> None:
        with ignored(log, RELEASE, BusError), nats_errors():
            await self.leases.kv.delete(self.conversation_id, last=self.revision)
            if ended:
                await self.leases.active.delete(self.conversation_id)


class Leases:
    def __init__(self, kv: KeyValue, active: KeyValue, owner: str, ttl_s: float) -> None:
        self.kv = kv
        self.active = active
        self.owner = owner
        self.ttl_s = ttl_s

    @classmethod
    async def open(cls, bus: Bus, owner: str, ttl_s: float = LEASE_TTL_S) -> Leases:
        """The two buckets (created when missing; an existing one is used as it is, and its
        TTL is the leases' TTL)."""
        kv = await _bucket(bus, subjects.LEASE_BUCKET, ttl_s, "conversation leases")
        active = await _bucket(bus, subjects.ACTIVE_BUCKET, ACTIVE_TTL_S,
                               "conversations being driven")
        with nats_errors():
            status = await kv.status()
        # the bucket's TTL is what expires a lease: renew by it, whoever created the bucket
        return cls(kv, active, owner, status.ttl or ttl_s)

    async def take(self, conversation_id: str) -> Lease | None:
        """The lease if it was free (and the conversation recorded as active), else ``None``."""
        with nats_errors():
            revision = await self._create(conversation_id)
            if revision is None:
                return None
            await self.active.put(conversation_id, self.owner.encode())
        return Lease(conversation_id, revision, self)

    async def _create(self, conversation_id: str) -> int | None:
        """The new lease's revision, or ``None`` while another owner holds it. nats-py's
        ``create``, refused, reads the key (was it deleted?): a lease that expired between
        the two is not found then, so it is free now and is tried once more."""
        for _ in range(2):
            try:
                return await self.kv.create(conversation_id, self.owner.encode())
            except KeyWrongLastSequenceError:
                return None
            except KeyNotFoundError:
                continue
        return None

    async def orphans(self) -> list[str]:
        """Conversations recorded as active (whose leases may have expired: try them)."""
        with nats_errors():
            try:
                return list(await self.active.keys())
            except NoKeysError:
                return []


async def _bucket(bus: Bus, name: str, ttl_s: float, description: str) -> KeyValue:
    with nats_errors():
        try:
            return await bus.js.key_value(name)
        except BucketNotFoundError:
            return await bus.js.create_key_value(api.KeyValueConfig(
                bucket=name, description=description, history=1, ttl=ttl_s,
                storage=api.StorageType.FILE))
