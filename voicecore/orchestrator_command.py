"""``voicecore orchestrator``: one orchestrator process (``up`` runs one as a child).

Composition: the orchestrator (``orchestrator/service.py``) gets NATS as the
``orchestrator`` identity and its :class:`~orchestrator.port.Primitives` port filled
with the bridge's Python client (:class:`BridgePrimitives`): the circuit breaker and the
retries of retryable failures are the client's; a call that cannot reach the core
(:class:`~bridge.client.CircuitOpen`, :class:`~bridge.client.CoreUnavailable`, a
deadline) or that no worker can answer (:data:`CANNOT_ANSWER`) becomes an
``UNAVAILABLE`` outcome, which the flow's degradation handles.
"""

from __future__ import annotations

import asyncio
import dataclasses
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import typer

from core.bus import Bus
from core.config import Settings
from core.errors import ConfigError
from core.natsauth import NatsAuth, masked_url
from orchestrator.flow import Flow
from orchestrator.flowfile import parse_flow
from orchestrator.lease import LEASE_TTL_S
from orchestrator.port import UNAVAILABLE, Outcome
from orchestrator.service import Orchestrator
from voicecore.options import (
    Caller,
    DataDir,
    NatsUrl,
    run_async,
    settings,
    with_grpc_caller,
    with_nats_auth,
)

READY = "voicecore ready: orchestrator"
CANNOT_ANSWER = frozenset({"PRIMITIVE_NOT_FOUND", "TIMEOUT"})
"""Answers that say the core cannot serve the call now (no live worker; no answer in time
after the client's own retries): for a conversation, as if the core were down."""
LeaseTtl = Annotated[float, typer.Option(
    "--lease-ttl", min=1.0, max=3600.0, envvar="VOICECORE_LEASE_TTL",
    help="Seconds a conversation's lease lasts unless renewed (a dead orchestrator's "
         "conversations are adopted after it)")]


def load_flow_document(document: str) -> Flow:
    """The typed flow of a conversation request's flow document (YAML), checked as
    ``voicecore flow check`` checks a file."""
    return parse_flow(document, "flow document").flow


class BridgePrimitives:
    """The orchestrator's port on the bridge client (``bridge.client.VoiceCoreClient``)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def execute(self, primitive: str, params: dict[str, Any], *, conversation_id: str,
                      trace_id: str, purpose: str, timeout_s: float,
                      idempotency_key: str) -> Outcome:
        from bridge.client import CoreError

        try:
            result = await self.client.execute(
                primitive, params, conversation_id=conversation_id, trace_id=trace_id,
                purpose=purpose, timeout_s=timeout_s, idempotency_key=idempotency_key)
        except CoreError as exc:  # could not reach a primitive: the flow degrades
            return Outcome(False, code=UNAVAILABLE, reason=f"{exc.code}: {exc}"[:1000])
        events = {"request_id": result.request_event_id, "result_id": result.result_event_id}
        if result.success:
            return Outcome(True, result.data, **events)
        code = result.error_code or "PRIMITIVE_FAILED"
        if code in CANNOT_ANSWER:
            return Outcome(False, code=UNAVAILABLE, reason=f"{code}: {result.error_message}")
        return Outcome(False, result.data, code, result.error_message, **events)


@asynccontextmanager
async def orchestrating(bus: Bus, caller: Caller, lease_ttl_s: float = LEASE_TTL_S
                        ) -> AsyncIterator[Orchestrator]:
    """An orchestrator on ``bus`` calling the bridge at ``caller``, until the block ends."""
    from bridge.client import VoiceCoreClient

    async with VoiceCoreClient(caller.addr, token=caller.token, tls=caller.tls) as client:
        orchestrator = Orchestrator(bus, BridgePrimitives(client), load_flow_document,
                                    lease_ttl_s=lease_ttl_s)
        await orchestrator.start()
        try:
            yield orchestrator
        finally:
            await orchestrator.stop()


DRAIN_S = 5.0
"""How long the connection may drain at stop: every step is already in the stream, and a
conversation's lease expires on its own, so nothing waits on a longer drain (up's
supervisor kills a child after 30 s)."""


@with_nats_auth
@with_grpc_caller
def orchestrator_command(
    nats_auth: NatsAuth,
    nats_url: NatsUrl = None,
    data_dir: DataDir = None,
    lease_ttl: LeaseTtl = LEASE_TTL_S,
    *,
    caller: Caller,
) -> None:
    """Drive conversations (their flows) against a running NATS and gRPC bridge (default:
    the `voicecore up` of --data-dir); any number of these processes share them."""
    from core.eventlog.client import service_url

    chosen = settings(data_dir, nats_url, nats_auth=nats_auth)
    chosen = dataclasses.replace(chosen, nats_url=chosen.nats_url
                                 or service_url(chosen.data_dir))
    if chosen.nats_url is None:
        raise ConfigError("orchestrator needs --nats-url (or VOICECORE_NATS_URL), or a "
                          "running `voicecore up` for --data-dir")
    run_async(_serve(chosen, caller, lease_ttl))
    print("voicecore stopped", flush=True)


async def _serve(chosen: Settings, caller: Caller, lease_ttl_s: float) -> None:
    assert chosen.nats_url is not None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    bus = await Bus.connect(chosen.nats_url, name="voicecore-orchestrator",
                            auth=chosen.identity("orchestrator"))
    try:
        async with orchestrating(bus, caller, lease_ttl_s):
            print(f"{READY}: nats {masked_url(chosen.nats_url)}, bridge {caller.addr}",
                  flush=True)
            await stop.wait()
    finally:
        await bus.drain(timeout_s=DRAIN_S)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def register(app: typer.Typer) -> None:
    app.command("orchestrator")(orchestrator_command)
