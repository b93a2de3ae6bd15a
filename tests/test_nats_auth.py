"""NATS authentication and least privilege, on a real nats-server with the generated config.

The attack of issue 9: a local client subscribed to a primitive's requests and published a
``completed`` event under the derived result id before the real worker; the bridge
handed the forged value to its caller. Now only the primitive's worker identity may
publish its results, the read-only ``cli`` identity cannot call ``redact``, and an
anonymous client is refused with one line naming the authorization failure.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.aio.client import Client as NATS
from nats.js import api as js_api
from nats.js.errors import BadRequestError

from core import subjects
from core.bus import Bus, ServerErrors, open_connection
from core.captures import CAPTURE_EMAIL
from core.config import StreamLimits, WorkerOptions
from core.errors import BusRefused
from core.eventlog.client import ServiceSource, open_log
from core.natsauth import ROLES, NatsAuth
from core.natsserver import EmbeddedNats
from core.worker import Worker
from schemas import events as ev
from schemas import ids
from schemas.payloads import CaptureParams, CaptureResult, Request
from tests.support import proc
from tests.support.eventlog import caught_up, running_sink
from tests.support.streams import results_for, stream_messages, wait_for_events

FAST = WorkerOptions(concurrency=4, ack_wait_s=2.0, max_deliver=2, backoff_s=(0.05,),
                     fetch_timeout_s=0.1, shutdown_grace_s=2.0)
REFUSAL_WAIT_S = 30.0
"""How long to wait for the server's -ERR (it comes at once; the bound only ends a hang)."""


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[EmbeddedNats]:
    """An authenticating server whose worker identity serves capture_email only."""
    started = EmbeddedNats(tmp_path, port=-1, primitives=["capture_email"])
    await started.start()
    admin = await Bus.connect(started.url, auth=started.identity("admin"))
    await admin.ensure_streams(StreamLimits())
    await admin.drain()
    yield started
    await started.stop()


async def connect_as(server: EmbeddedNats, role: str) -> tuple[NATS, ServerErrors]:
    """A connection as ``role`` whose error callback says when the server refused a publish."""
    errors = ServerErrors(logging.getLogger(__name__), quiet=True)
    nc = await open_connection(server.url, server.identity(role), errors, name=f"test-{role}")
    return nc, errors


def request_event(conversation_id: str) -> ev.Event:
    return ev.new_event(ev.CaptureEmailRequested, conversation_id=conversation_id, trace_id="t",
                        data=Request(params=CaptureParams(transcript="ann at example dot com")))


def forged_result(request: ev.Event) -> ev.Event:
    """A ``completed`` under the request's derived result id, as the attacker sent."""
    return ev.new_event(
        ev.CaptureEmailCompleted, conversation_id=request.conversation_id,
        trace_id=request.trace_id, causation_id=request.id,
        event_id=ids.derive_id(request.id, "result"),
        data=CaptureResult(value="attacker@evil.example", confidence=1.0,
                           needs_confirmation=False, readback="attacker"))


async def test_an_anonymous_client_is_refused_with_one_clear_line(server: EmbeddedNats) -> None:
    with pytest.raises(BusRefused, match="authorization violation") as refused:
        await Bus.connect(server.url)
    assert "no servers available" not in str(refused.value)
    assert "\n" not in str(refused.value)


async def test_wrong_credentials_are_one_line_naming_the_authorization_failure(
        server: EmbeddedNats, tmp_path: Path) -> None:
    with pytest.raises(BusRefused, match="authorization violation"):
        await Bus.connect(server.url, auth=NatsAuth(user="voicecore-cli", password="wrong"))
    done = await asyncio.to_thread(
        proc.run, "worker", "--nats-url", server.url, "--data-dir", str(tmp_path / "elsewhere"),
        env={"VOICECORE_NATS_USER": "voicecore-worker", "VOICECORE_NATS_PASSWORD": "wrong"})
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("voicecore: error: NATS refused the connection: "
                                  "authorization violation (user voicecore-worker"), done.stderr
    assert "wrong" not in done.stderr


@pytest.mark.parametrize("role", [r for r in ROLES if r not in ("worker", "admin")])
async def test_only_the_worker_may_publish_a_result(server: EmbeddedNats, role: str) -> None:
    """The forged-result attack, for every identity but the primitive's worker (and the
    admin, which holds every right by design)."""
    request = request_event(f"forge-{role}")
    forged = forged_result(request)
    nc, errors = await connect_as(server, role)
    try:
        for kind in ("completed", "failed"):
            errors.denied.clear()
            await nc.publish(f"vc.ev.{request.conversation_id}.capture_email.{kind}",
                             ev.encode(forged), headers={subjects.HEADER_MSG_ID: forged.id})
            await asyncio.wait_for(errors.denied.wait(), REFUSAL_WAIT_S)
            assert "permissions violation for publish" in str(errors.last)
    finally:
        await nc.close()
    admin = await Bus.connect(server.url, auth=server.identity("admin"))
    try:
        assert await stream_messages(admin, subject=f"vc.ev.{request.conversation_id}.>") == []
    finally:
        await admin.drain()


async def test_the_worker_publishes_results_of_its_primitives_only(server: EmbeddedNats) -> None:
    request = request_event("worker-own")
    worker = await Bus.connect(server.url, auth=server.identity("worker"))
    nc, errors = await connect_as(server, "worker")
    try:
        stored = await worker.publish(forged_result(request))
        assert not stored.duplicate
        await nc.publish("vc.ev.worker-own.capture_phone.completed", b"{}")
        await asyncio.wait_for(errors.denied.wait(), REFUSAL_WAIT_S)
        await nc.publish("vc.ev.worker-own.capture_email.requested", b"{}")
        errors.denied.clear()
        await asyncio.wait_for(errors.denied.wait(), REFUSAL_WAIT_S)
    finally:
        await nc.close()
        await worker.drain()


async def test_each_role_does_its_part(server: EmbeddedNats, tmp_path: Path) -> None:
    """bridge publishes a request and sees the result; the worker answers it through its
    durable consumer; the sink logs both; the cli identity watches and reads the log."""
    bridge, worker_bus, sink_bus, cli = [
        await Bus.connect(server.url, auth=server.identity(role))
        for role in ("bridge", "worker", "sink", "cli")]
    watched = await cli.nc.subscribe("vc.ev.>")
    results = await bridge.nc.subscribe("vc.ev.*.*.completed")
    data = tmp_path / "data"
    worker = Worker(worker_bus, CAPTURE_EMAIL, FAST)
    try:
        async with running_sink(sink_bus, data) as sink:
            await worker.start()
            request = request_event("roles")
            await bridge.publish(request)
            found = await wait_for_events(bridge, lambda f: bool(results_for(f, {request.id})))
            assert results_for(found, {request.id})[0].data.value == "ann@example.com"
            assert (await results.next_msg(timeout=REFUSAL_WAIT_S)).subject.endswith(".completed")
            assert (await watched.next_msg(timeout=REFUSAL_WAIT_S)).subject.endswith(".requested")
            await caught_up(sink, bridge)
            shown = await asyncio.to_thread(_read_as_cli, server, data)
            assert shown == ["capture_email.requested", "capture_email.completed"]
    finally:
        await worker.stop()
        for bus in (bridge, worker_bus, sink_bus, cli):
            await bus.drain()


def _read_as_cli(server: EmbeddedNats, data: Path) -> list[str]:
    source = open_log(data, auth=server.identity("cli"))
    try:
        assert source.via == "service"
        return [str(t) for t in source.table("timeline", conversation_id="roles").column("type")
                .to_pylist()]
    finally:
        source.close()


async def test_the_cli_identity_cannot_redact_and_the_admin_can(
        server: EmbeddedNats, tmp_path: Path) -> None:
    admin = await Bus.connect(server.url, auth=server.identity("admin"))
    sink_bus = await Bus.connect(server.url, auth=server.identity("sink"))
    data = tmp_path / "data"
    try:
        async with running_sink(sink_bus, data) as sink:
            request = request_event("to-redact")
            await admin.publish(request)
            await caught_up(sink, admin)
            refused, sneaked = await asyncio.to_thread(_redact_as, server, data, "cli")
            assert isinstance(refused, BusRefused), refused
            assert "permissions violation for publish" in str(refused)
            assert "answered on" in str(sneaked) and ".admin only" in str(sneaked)
            done, _ = await asyncio.to_thread(_redact_as, server, data, "admin")
            assert isinstance(done, dict) and done["redacted_events"] == 1, done
    finally:
        await sink_bus.drain()
        await admin.drain()


def _redact_as(server: EmbeddedNats, data: Path, role: str) -> tuple[object, object]:
    """``redact`` as ``role``: on the admin subject, then (the cli) on the read subject."""
    info = json.loads((data / "eventlog.service.json").read_text())
    source = ServiceSource(info["nats_url"], info["subject"], timeout=REFUSAL_WAIT_S,
                           auth=server.identity(role))
    try:
        try:
            first: object = source.call("redact", conversation_id="to-redact")
        except Exception as exc:
            first = exc
        if role != "cli":
            return first, None
        try:  # the same verb sent to the read subject the cli may publish to
            body = json.dumps({"op": "redact", "args": {"conversation_id": "to-redact"}})
            reply = source.loop.run_until_complete(
                source.nc.request(info["subject"], body.encode(), timeout=REFUSAL_WAIT_S))
            second: object = (reply.headers or {}).get("Vc-Log-Error")
        except Exception as exc:
            second = exc
        return first, second
    finally:
        source.close()


@pytest.mark.parametrize("role", ["bridge", "sink"])
async def test_consumers_cannot_deliver_stored_events_onto_result_subjects(
        server: EmbeddedNats, role: str) -> None:
    """The identities that may create consumers cannot make JetStream republish stored
    events (a request body forged to look like a result) onto a result subject."""
    bus = await Bus.connect(server.url, auth=server.identity(role))
    try:
        with pytest.raises(BadRequestError, match="cycle"):
            await bus.js.add_consumer(subjects.EVENTS_STREAM, js_api.ConsumerConfig(
                name=f"replayer_{role}", filter_subject="vc.ev.>",
                deliver_subject="vc.ev.c1.capture_email.completed",
                ack_policy=js_api.AckPolicy.NONE))
    finally:
        await bus.drain()
