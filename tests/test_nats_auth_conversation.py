"""Least privilege for conversations: the ``orchestrator`` identity publishes only the
orchestrator's events (and keeps its leases), the ``caller`` identity only asks for
conversations, sends turns and hangs up; neither forges what the other (or a worker) says."""

from __future__ import annotations

import asyncio

import pytest

from core import subjects
from core.bus import Bus
from core.natsserver import EmbeddedNats
from orchestrator.driver import stored_events
from orchestrator.lease import Leases
from orchestrator.service import ensure_requests_consumer
from orchestrator.state import fold
from schemas import conversation as cv
from schemas import conversation_events as ce
from schemas.events import new_event
from tests.support.conversations import contact_flow, request
from tests.test_nats_auth import REFUSAL_WAIT_S, connect_as
from tests.test_nats_auth import server as server  # the fixture

PROMPT = cv.Prompt(objective="email", kind="ask", text="What is your email address?")


async def _refused(server: EmbeddedNats, role: str, subject: str) -> None:
    nc, errors = await connect_as(server, role)
    try:
        await nc.publish(subject, b"{}")
        await asyncio.wait_for(errors.denied.wait(), REFUSAL_WAIT_S)
        assert "permissions violation for publish" in str(errors.last)
    finally:
        await nc.close()


async def test_the_orchestrator_publishes_its_events_and_keeps_its_leases(
        server: EmbeddedNats) -> None:
    caller = await Bus.connect(server.url, auth=server.identity("caller"))
    orchestrator = await Bus.connect(server.url, auth=server.identity("orchestrator"))
    try:
        asked = new_event(ce.ConversationRequested, conversation_id="perm-1", trace_id="t",
                          data=request(contact_flow()))
        await caller.publish(asked)
        await ensure_requests_consumer(orchestrator)
        leases = await Leases.open(orchestrator, "me", ttl_s=5)
        lease = await leases.take("perm-1")
        assert lease is not None and await leases.take("perm-1") is None
        await lease.renew()
        assert await leases.orphans() == ["perm-1"]
        spoken = new_event(ce.PromptSpoken, conversation_id="perm-1", trace_id="t", data=PROMPT)
        await orchestrator.publish(spoken)
        await caller.publish(new_event(ce.TurnReceived, conversation_id="perm-1", trace_id="t",
                                       causation_id=spoken.id, data=cv.Turn(text="hi")))
        hung_up = new_event(ce.ConversationHungUp, conversation_id="perm-1", trace_id="t",
                            causation_id=spoken.id, data=cv.HangUp())
        await caller.publish(hung_up)
        course = fold(await stored_events(orchestrator, "perm-1")).course
        assert course is not None and course.request_id == asked.id
        assert course.hung_up == hung_up.id
        await lease.release(ended=True)
        assert await leases.orphans() == []
    finally:
        await caller.drain()
        await orchestrator.drain()


@pytest.mark.parametrize("kind", [*subjects.CALLER_EVENTS, "capture_email.requested",
                                  "capture_email.completed"])
async def test_the_orchestrator_cannot_speak_for_the_caller_or_a_primitive(
        server: EmbeddedNats, kind: str) -> None:
    await _refused(server, "orchestrator", f"vc.ev.perm-2.{kind}")


@pytest.mark.parametrize("kind", [*subjects.ORCHESTRATOR_EVENTS, "capture_email.requested",
                                  "capture_email.completed"])
async def test_the_caller_cannot_forge_the_orchestrators_events_nor_call_primitives(
        server: EmbeddedNats, kind: str) -> None:
    await _refused(server, "caller", f"vc.ev.perm-3.{kind}")



async def test_leases_last_what_the_bucket_says(server: EmbeddedNats) -> None:
    """A process given another TTL than the bucket's renews by the bucket's (which is what
    expires its leases)."""
    orchestrator = await Bus.connect(server.url, auth=server.identity("orchestrator"))
    try:
        first = await Leases.open(orchestrator, "one", ttl_s=3)
        second = await Leases.open(orchestrator, "two", ttl_s=30)
        assert (first.ttl_s, second.ttl_s) == (3, 3)
    finally:
        await orchestrator.drain()
