"""A driver never publishes on a lease it lost: a process that stalls past the lease's
TTL while a prompt is synthesized finds, before publishing it, that another process
drives the conversation now (real NATS, KV, bridge and workers; the stall is real)."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError

from bridge.client import VoiceCoreClient
from core import subjects
from core.bus import Bus
from orchestrator.driver import stored_events
from orchestrator.lease import Leases
from orchestrator.port import Outcome
from orchestrator.service import Orchestrator
from schemas import conversation_events as ce
from schemas.events import new_event
from tests.support.conversations import contact_flow, request
from tests.test_orchestrator_degrade import core
from voicecore.app import Running
from voicecore.orchestrator_command import BridgePrimitives, load_flow_document

TTL_S = 2.0


class StallingOnce:
    """The bridge port, except that the first synthesis stalls the whole process (the
    event loop blocked, so no renewal runs) until another owner has taken the lease."""

    def __init__(self, port: BridgePrimitives, state: Running) -> None:
        self.port = port
        self.state = state
        self.stalled = asyncio.Event()

    async def execute(self, primitive: str, params: dict[str, Any], **kw: Any) -> Outcome:
        if primitive != "synthesize":
            return await self.port.execute(primitive, params, **kw)
        if not self.stalled.is_set():
            cid = kw["conversation_id"]
            taker = threading.Thread(target=lambda: asyncio.run(self._take(cid)))
            taker.start()
            taker.join()  # blocks this loop: the stall, past the lease's TTL
            self.stalled.set()
        return Outcome(False, code="ENGINE_UNAVAILABLE", reason="no engine in this test")

    async def _take(self, cid: str) -> None:
        """Another process, once the stalled one's lease expired, takes the conversation.
        Its record as active goes too, so no scan adopts it back when that lease lapses:
        every prompt stored after this is the stalled process's."""
        assert self.state.server is not None
        bus = await Bus.connect(self.state.nats_url, auth=self.state.server.identity("admin"))
        try:
            kv = await bus.js.key_value(subjects.LEASE_BUCKET)
            deadline = time.monotonic() + 60
            while True:
                try:
                    await kv.create(cid, b"other")
                    break
                except (KeyWrongLastSequenceError, KeyNotFoundError):  # not expired yet, or
                    # expired between nats-py's refused create and its read of the key
                    assert time.monotonic() < deadline, "the stalled lease never expired"
                    await asyncio.sleep(0.2)
            active = await bus.js.key_value(subjects.ACTIVE_BUCKET)
            await active.delete(cid)
        finally:
            await bus.drain()


async def test_a_driver_stalled_past_its_lease_publishes_nothing_more(tmp_path: Path) -> None:
    async with core(tmp_path) as state, VoiceCoreClient(state.bridge.address) as client:
        port = StallingOnce(BridgePrimitives(client), state)
        driving = Orchestrator(state.bus, port, load_flow_document, lease_ttl_s=TTL_S)
        await driving.start()
        try:
            cid = "lease-stall-1"
            await state.bus.publish(new_event(
                ce.ConversationRequested, conversation_id=cid, trace_id="a" * 32,
                data=request(contact_flow(), speak=True)))
            await asyncio.wait_for(port.stalled.wait(), 120)
            await asyncio.sleep(3 * TTL_S)  # time for a stale publish to show, and for scans
            events = await stored_events(state.bus, cid)
        finally:
            await driving.stop()
    assert [e.event_type for e in events if isinstance(e, ce.PromptSpoken)] == []
    assert cid not in driving.drivers


class _ExpiringLease:
    """A lease bucket whose holder's lease expires while nats-py's ``create`` looks at it:
    refused, then the key it reads is gone (KeyNotFoundError); free on the next try."""

    def __init__(self) -> None:
        self.creates = 0
        self.puts: list[str] = []

    async def create(self, key: str, value: bytes) -> int:
        self.creates += 1
        if self.creates == 1:
            raise KeyNotFoundError
        return 7

    async def put(self, key: str, value: bytes) -> int:
        self.puts.append(key)
        return 1


async def test_a_lease_that_expires_while_it_is_taken_is_taken_on_the_next_try() -> None:
    kv = _ExpiringLease()
    leases = Leases(kv, kv, "me", TTL_S)  # type: ignore[arg-type]
    lease = await leases.take("c1")
    assert lease is not None and lease.revision == 7
    assert (kv.creates, kv.puts) == (2, ["c1"])
