"""Degradation on a real stack (NATS, workers, bridge, and the orchestrator in this
process, so the test can stop a primitive's workers and pick the client's breaker): a
core that cannot answer ends the conversation abandoned with the reason, after the
flow's fallback line; a flow that says ``on_unavailable: wait`` goes on once it can."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bridge.breaker import BreakerConfig
from bridge.client import VoiceCoreClient
from core.captures import CAPTURE_CONFIRMATION, CAPTURE_EMAIL, CAPTURE_PHONE
from core.config import Settings
from core.worker import Worker
from orchestrator.port import Outcome
from orchestrator.service import Orchestrator
from schemas import conversation_events as ce
from tests.support import proc
from tests.support.conversations import contact_flow, scripted_call
from voicecore.app import Running, running
from voicecore.orchestrator_command import BridgePrimitives, load_flow_document

PHONE = "415 555 2671"


@dataclass
class Counting:
    """The bridge port, noting each outcome (the test's window on the calls)."""

    port: BridgePrimitives
    outcomes: list[Outcome] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def execute(self, primitive: str, params: dict[str, Any], **kw: Any) -> Outcome:
        outcome = await self.port.execute(primitive, params, **kw)
        self.outcomes.append(outcome)
        self.changed.set()
        return outcome


@asynccontextmanager
async def core(tmp_path: Path) -> AsyncIterator[Running]:
    settings = Settings(data_dir=tmp_path, nats_port=-1, grpc_addr="127.0.0.1:0")
    async with running(settings, [CAPTURE_EMAIL, CAPTURE_PHONE, CAPTURE_CONFIRMATION],
                       grpc_bridge=True) as state:
        yield state


@asynccontextmanager
async def orchestrator(state: Running, target: str,
                       breaker: BreakerConfig | None = None) -> AsyncIterator[Counting]:
    async with VoiceCoreClient(target, breaker=breaker) as client:
        port = Counting(BridgePrimitives(client))
        driving = Orchestrator(state.bus, port, load_flow_document, lease_ttl_s=2)
        await driving.start()
        try:
            yield port
        finally:
            await driving.stop()


def worker_of(state: Running, primitive: str) -> Worker:
    return next(w for w in state.workers if w.primitive.name == primitive)


async def test_workers_that_stop_end_the_conversation_abandoned_with_the_reason(
        tmp_path: Path) -> None:
    async with core(tmp_path) as state, orchestrator(state, state.bridge.address):
        await worker_of(state, "capture_email").stop()
        call = await scripted_call(state.bus, contact_flow(), ["john at gmail dot com"])
    assert isinstance(call.end, ce.ConversationAbandoned)
    assert call.end.data.code == "UNAVAILABLE"
    assert "no live worker serves primitive 'capture_email'" in call.end.data.reason
    [failed] = [e for e in call.events if isinstance(e, ce.ObjectiveFailed)]
    assert (failed.data.objective, failed.data.code) == ("email", "UNAVAILABLE")
    fallback = call.prompts()[-1]
    assert (fallback.kind, fallback.text) == (
        "fallback", "Sorry, we are having technical trouble. Goodbye.")


async def test_the_circuit_opens_and_conversations_end_at_once(tmp_path: Path) -> None:
    """The bridge is unreachable: the first conversation's calls open the client's breaker
    (its retries count); the next one is refused by the open circuit, without a call."""
    nowhere = f"127.0.0.1:{proc.free_port()}"
    async with core(tmp_path) as state, orchestrator(
            state, nowhere, BreakerConfig(failure_threshold=2, reset_timeout_s=600)) as port:
        first = await scripted_call(state.bus, contact_flow(), ["john at gmail dot com"])
        second = await scripted_call(state.bus, contact_flow(), ["john at gmail dot com"])
    for call in (first, second):
        assert isinstance(call.end, ce.ConversationAbandoned)
        assert call.end.data.code == "UNAVAILABLE"
    assert first.end.data.reason.startswith("UNAVAILABLE: voice core unavailable")
    assert second.end.data.reason.startswith("CIRCUIT_BREAKER_OPEN")
    assert len(port.outcomes) == 2


async def test_a_flow_that_waits_goes_on_when_the_workers_are_back(tmp_path: Path) -> None:
    flow = "on_unavailable: wait\n" + contact_flow()
    async with core(tmp_path) as state, orchestrator(state, state.bridge.address) as port:
        await worker_of(state, "capture_email").stop()
        call = asyncio.create_task(scripted_call(
            state.bus, flow, ["john at gmail dot com", "yes", PHONE]))
        while not any(o.unavailable for o in port.outcomes):
            port.changed.clear()
            await port.changed.wait()
        back = Worker(state.bus, CAPTURE_EMAIL, state.settings.worker)
        await back.start()
        try:
            done = await call
        finally:
            await back.stop()
    assert isinstance(done.end, ce.ConversationCompleted)
    assert done.end.data.slots["email"] == "john@gmail.com"


@pytest.mark.parametrize("wait", [False, True])
async def test_no_conversation_hangs_when_the_core_never_comes_back(
        tmp_path: Path, wait: bool) -> None:
    flow = contact_flow().replace("timeout_s: 600\n    confirm: always",
                                  "timeout_s: 3\n    confirm: always", 1)
    flow = ("on_unavailable: wait\n" if wait else "") + flow
    async with core(tmp_path) as state, orchestrator(state, state.bridge.address):
        await worker_of(state, "capture_email").stop()
        call = await scripted_call(state.bus, flow, ["john at gmail dot com"])
    assert isinstance(call.end, ce.ConversationAbandoned)
    assert call.end.data.code == "UNAVAILABLE"
