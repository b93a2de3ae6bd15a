"""Conversations on the real stack: `voicecore up` (NATS, workers, sink, bridge) and
`voicecore orchestrator` processes; the caller's side is the test (tests/support/
conversations.py), speaking the events a gateway or `voicecore converse` would."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from core.bus import Bus
from schemas import conversation_events as ce
from schemas.envelope import Event
from tests.support import proc
from tests.support.conversations import (
    HANG_UP,
    Call,
    Stack,
    contact_flow,
    scripted_call,
    stack,
)
from tests.support.streams import stream_events

pytestmark = pytest.mark.timeout(600)
PHONE = "415 555 2671"
ORCHESTRATOR_SOURCES = frozenset({"conversation", "objective", "prompt"})
"""Sources of the orchestrator's events (the caller's are conversation.requested, turns)."""


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with stack(tmp_path_factory.mktemp("stack")) as running:
        running.orchestrator()
        yield running


@pytest.fixture
async def bus(shared: Stack) -> AsyncIterator[Bus]:
    connected = await Bus.connect(shared.url, auth=proc.admin(shared.data_dir))
    yield connected
    await connected.drain()


def asked(call: Call, objective: str) -> list[str]:
    return [p.kind for p in call.prompts() if p.objective == objective]


def orchestrator_events(events: list[Event]) -> list[Event]:
    return [e for e in events if e.source in ORCHESTRATOR_SOURCES
            and e.event_type != "conversation.requested"]


async def test_happy_path(bus: Bus) -> None:
    call = await scripted_call(bus, contact_flow(), ["john at gmail dot com", "yes", PHONE])
    assert isinstance(call.end, ce.ConversationCompleted)
    assert call.end.data.slots == {"email": "john@gmail.com", "phone": "+14155552671"}
    assert [p.kind for p in call.prompts()] == ["say", "ask", "confirm", "ask", "say"]
    assert call.prompts()[-1].text == "Thank you, we will email john@gmail.com. Goodbye."
    stored = await stream_events(bus, f"vc.ev.{call.conversation_id}.>")
    traces = {e.trace_id for e in stored}
    assert len(traces) == 1, "one trace id per conversation, primitives' events included"
    purposes = {e.data.purpose for e in stored if e.event_type.endswith(".requested")
                and e.source != "conversation"}
    assert purposes == {"objective:email", "objective:email:confirm", "objective:phone"}


async def test_an_email_spelled_after_a_no_match(bus: Bus) -> None:
    call = await scripted_call(bus, contact_flow(), ["I'd rather not say",
                                                     "J O H N at gmail dot com", "yes", PHONE])
    assert call.end.data.slots["email"] == "john@gmail.com"
    assert asked(call, "email") == ["ask", "reprompt", "confirm"]


async def test_a_no_at_confirmation_then_a_correction(bus: Bus) -> None:
    call = await scripted_call(bus, contact_flow(), [
        "john at gmail dot com", "no, it's jane at example dot com", "yes", PHONE])
    assert call.end.data.slots["email"] == "jane@example.com"
    confirms = [p.text for p in call.prompts() if p.kind == "confirm"]
    assert confirms == ["I have john@gmail.com, is that right?",
                        "I have jane@example.com, is that right?"]
    completed = [e for e in call.events if isinstance(e, ce.ObjectiveCompleted)
                 and e.data.objective == "email"]
    assert completed[0].data.confirmed


async def test_a_caller_who_hangs_up_ends_the_conversation_at_once(bus: Bus) -> None:
    """Well before the phone objective's 600 s timeout: abandoned, HUNG_UP, the email kept."""
    call = await scripted_call(bus, contact_flow(), ["john at gmail dot com", "yes", HANG_UP])
    assert isinstance(call.end, ce.ConversationAbandoned)
    assert (call.end.data.code, call.end.data.slots) == ("HUNG_UP", {"email": "john@gmail.com"})
    [failed] = [e for e in call.events if isinstance(e, ce.ObjectiveFailed)]
    assert (failed.data.objective, failed.data.code) == ("phone", "HUNG_UP")
    [hung_up] = [e for e in call.events if isinstance(e, ce.ConversationHungUp)]
    assert call.end.causation_id == failed.causation_id == hung_up.id
    assert asked(call, "phone") == ["ask"] and asked(call, "goodbye") == []


@pytest.mark.parametrize(("on_failure", "end"), [("continue", ce.ConversationCompleted),
                                                 ("end", ce.ConversationAbandoned)])
async def test_max_attempts_fails_the_objective_with_its_reason(
        bus: Bus, on_failure: str, end: type[Event]) -> None:
    call = await scripted_call(bus, contact_flow(on_failure), [
        "john at gmail dot com", "yes", "no idea", "still no idea"])
    [failed] = [e for e in call.events if isinstance(e, ce.ObjectiveFailed)]
    assert (failed.data.objective, failed.data.code, failed.data.reason, failed.data.attempts) \
        == ("phone", "MAX_ATTEMPTS", "no phone number", 2)
    assert isinstance(call.end, end)
    if on_failure == "continue":
        assert call.end.data.failed == ("phone",)
        assert asked(call, "goodbye") == ["say"]
    else:
        assert call.end.data.code == "OBJECTIVE_FAILED"
        assert call.end.data.slots == {"email": "john@gmail.com"}
        assert asked(call, "goodbye") == []


async def test_a_hundred_concurrent_conversations_complete_with_their_slots(bus: Bus) -> None:
    calls = await asyncio.gather(*(
        scripted_call(bus, contact_flow(), [f"user{n} at example dot com", "yes",
                                            f"415 555 2{n:03d}"]) for n in range(100)))
    for n, call in enumerate(calls):
        assert isinstance(call.end, ce.ConversationCompleted), call.end
        assert call.end.data.slots == {"email": f"user{n}@example.com",
                                       "phone": f"+14155552{n:03d}"}


async def test_sigkill_mid_conversation_then_restart_completes_asking_nothing_twice(
        tmp_path: Path) -> None:
    """The orchestrator is killed while the caller is being asked for the email; the
    caller answers while nobody drives the conversation; a new process adopts it once the
    lease expired, reads the answer from the events, and goes on."""
    with stack(tmp_path) as running:
        first = running.orchestrator(lease_ttl=2)
        bus = await Bus.connect(running.url, auth=proc.admin(tmp_path))
        try:
            gate = asyncio.Event()
            call_task = asyncio.create_task(scripted_call(
                bus, contact_flow(), ["john at gmail dot com", "yes", PHONE], pause=gate))
            await _until_asked(bus, call_task, "email")
            proc.stop(first, signal.SIGKILL)  # type: ignore[arg-type]
            gate.set()  # the answer is published while no process owns the conversation
            running.orchestrator(lease_ttl=2)
            call = await call_task
        finally:
            await bus.drain()
    assert call.end.data.slots == {"email": "john@gmail.com", "phone": "+14155552671"}
    started = Counter(e.data.objective for e in call.events if isinstance(e, ce.ObjectiveStarted))
    assert set(started.values()) == {1}, started
    prompts = Counter((p.objective, p.kind, p.attempt) for p in call.prompts())
    assert set(prompts.values()) == {1}, prompts
    producers = [e.producer for e in orchestrator_events(call.events)]
    assert len(set(producers)) == 2, "driven by the killed process, then by the new one"


async def _until_asked(bus: Bus, call: asyncio.Task[Call], objective: str) -> None:
    from tests.support.waiting import until

    async def asked_for() -> bool:
        stored = await stream_events(bus, "vc.ev.*.prompt.spoken")
        return any(e.data.objective == objective and e.data.kind == "ask" for e in stored)

    await until(asked_for, f"{objective} asked", timeout=120)
    assert not call.done()


async def test_two_orchestrators_never_drive_one_conversation(tmp_path: Path) -> None:
    """Every conversation's orchestrator events come from one process (no crash here: one
    lease period). The callers wait until every lease was renewed several times, so each
    process's orphan scan saw every conversation the other one holds: a lease that let a
    second process take a held conversation shows as two producers."""
    with stack(tmp_path) as running:
        running.orchestrator(lease_ttl=2)
        running.orchestrator(lease_ttl=2)
        bus = await Bus.connect(running.url, auth=proc.admin(tmp_path))
        try:
            gate = asyncio.Event()
            tasks = [asyncio.create_task(scripted_call(
                bus, contact_flow(), [f"user{n} at example dot com", "yes", f"415 555 2{n:03d}"],
                pause=gate)) for n in range(40)]
            await _until_all_asked(bus, 40)
            await _until_leases_renewed(bus, times=6, conversations=40)
            gate.set()
            calls = await asyncio.gather(*tasks)
            stored = await stream_events(bus)
        finally:
            await bus.drain()
    by_conversation: dict[str, set[str]] = {}
    for event in orchestrator_events(stored):
        by_conversation.setdefault(event.conversation_id, set()).add(event.producer)
    assert len(by_conversation) == 40
    shared = [[(e.event_type, e.producer[-5:]) for e in orchestrator_events(stored)
               if e.conversation_id == cid]
              for cid, producers in by_conversation.items() if len(producers) > 1]
    assert shared == [], "conversations driven by two processes"
    assert len(set().union(*by_conversation.values())) == 2, "both processes drove some"
    assert all(isinstance(c.end, ce.ConversationCompleted) for c in calls)


async def _until_all_asked(bus: Bus, count: int) -> None:
    from tests.support.waiting import until

    async def all_asked() -> bool:
        stored = await stream_events(bus, "vc.ev.*.prompt.spoken")
        return len({e.conversation_id for e in stored if e.data.kind == "ask"}) >= count

    await until(all_asked, "every conversation asked", timeout=120)


async def _until_leases_renewed(bus: Bus, *, times: int, conversations: int) -> None:
    """Until the lease bucket holds ``times`` writes per conversation (takes, renewals)."""
    from core import subjects
    from tests.support.waiting import until

    async def renewed() -> bool:
        info = await bus.js.stream_info(subjects.kv_stream(subjects.LEASE_BUCKET))
        return (info.state.last_seq or 0) >= times * conversations

    await until(renewed, "leases renewed", timeout=120)
