"""ExecutePrimitive end to end: real nats-server, real workers, real grpc.aio server and client."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2

from bridge._proto import voice_core_pb2 as pb
from bridge.client import SERVICE, CallRejected, VoiceCoreClient
from bridge.server import Bridge, BridgeOptions, serve_bridge
from core import subjects, tracing
from core.bus import Bus
from core.correlator import Correlator
from core.natsserver import EmbeddedNats
from core.worker import Worker
from schemas import events as ev
from schemas import ids
from tests.bridge.conftest import FAST, OPTIONS, stored_events, wait_stored
from tests.support import plugin
from tests.support.waiting import until


def stub(channel: grpc.aio.Channel) -> grpc.aio.UnaryUnaryMultiCallable:
    return channel.unary_unary(
        SERVICE + "ExecutePrimitive",
        request_serializer=pb.ExecutePrimitiveRequest.SerializeToString,
        response_deserializer=pb.ExecutePrimitiveResponse.FromString)


def sleepy_request(text: str, **fields: object) -> pb.ExecutePrimitiveRequest:
    req = pb.ExecutePrimitiveRequest(objective_type="sleepy", **fields)  # type: ignore[arg-type]
    req.params.update({"text": text})
    return req


async def call(channel: grpc.aio.Channel, req: pb.ExecutePrimitiveRequest,
               metadata: tuple[tuple[str, str], ...] = (),
               timeout: float = 10.0) -> tuple[pb.ExecutePrimitiveResponse, dict[str, str]]:
    """The response and its trailing metadata."""
    unary = stub(channel)(req, metadata=metadata, timeout=timeout)
    resp = await unary
    trailers = {k: v for k, v in (await unary.trailing_metadata() or ())}
    return resp, trailers


async def test_capture_email_end_to_end_with_ordered_traced_events(
        bus: Bus, email_worker: Worker, bridge: Bridge, client: VoiceCoreClient) -> None:
    result = await client.execute(
        "capture_email", {"transcript": "um my email is john dot smith at gmail dot com"},
        conversation_id="conv-email", trace_id="test-trace-123", purpose="billing email")
    assert result.success, result
    assert result.state == "completed"
    assert result.data["value"] == "john.smith@gmail.com"
    assert result.confidence == result.data["confidence"] > 0
    assert result.trace_id == "test-trace-123"
    assert result.result_event_id == ids.derive_id(result.request_event_id, "result")
    found = await wait_stored(bus, lambda f: len(f) >= 2, subject="vc.ev.conv-email.>")
    assert [e.event_type for e in found] == ["capture_email.requested",
                                            "capture_email.completed"]
    assert [e.id for e in found] == [result.request_event_id, result.result_event_id]
    assert {e.trace_id for e in found} == {"test-trace-123"}
    assert found[1].causation_id == found[0].id
    assert found[0].data.purpose == "billing email"


@pytest.mark.parametrize(("field", "metadata", "expected"), [
    ("field-trace-1", (("trace-id", "header-trace"),), "field-trace-1"),
    ("", (("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
          ("trace-id", "header-trace")), "4bf92f3577b34da6a3ce929d0e0e4736"),
    ("", (("trace-id", "test-trace-123"),), "test-trace-123"),
    ("Not:Hex/Trace~42", (), "Not:Hex/Trace~42"),
])
async def test_trace_id_resolution_is_echoed_on_response_trailer_and_events(
        bus: Bus, sleepy_worker: Worker, channel: grpc.aio.Channel, field: str,
        metadata: tuple[tuple[str, str], ...], expected: str) -> None:
    resp, trailers = await call(channel, sleepy_request("traced", trace_id=field,
                                                        conversation_id="conv-trace"), metadata)
    assert resp.success
    assert resp.metadata.trace_id == expected
    assert trailers["trace-id"] == expected
    found = await wait_stored(bus, lambda f: len(f) >= 2, subject="vc.ev.conv-trace.>")
    assert {e.trace_id for e in found} == {expected}


async def test_a_new_trace_id_is_a_w3c_id_when_none_is_given(
        sleepy_worker: Worker, channel: grpc.aio.Channel) -> None:
    resp, trailers = await call(channel, sleepy_request("untraced"))
    trace_id = resp.metadata.trace_id
    assert len(trace_id) == 32 and tracing.otel_trace_id(trace_id) == int(trace_id, 16)
    assert trailers["trace-id"] == trace_id


async def test_timeout_answers_timeout_and_the_late_result_never_answers_a_later_call(
        bus: Bus, sleepy_worker: Worker, client: VoiceCoreClient) -> None:
    slow = await client.execute("sleepy", {"text": "late", "seconds": 0.6}, timeout_s=0.2)
    assert (slow.success, slow.error_code, slow.state) == (False, "TIMEOUT", "timeout")
    # The late result lands while this call waits: it must get its own answer.
    later = await client.execute("sleepy", {"text": "mine", "seconds": 0.8}, timeout_s=3)
    assert later.success and later.data == {"text": "mine"}
    late_request = ids.derive_id(slow.request_event_id, "result")
    found = await wait_stored(bus, lambda f: any(e.id == late_request for e in f))
    [late] = [e for e in found if e.id == late_request]
    # The worker enforces the same timeout per attempt, so the late result is its failure.
    assert late.event_type == "sleepy.failed" and late.causation_id == slow.request_event_id
    assert later.result_event_id != late_request


async def test_the_callers_deadline_wins_over_a_longer_timeout(
        sleepy_worker: Worker, channel: grpc.aio.Channel) -> None:
    req = sleepy_request("deadline", timeout_seconds=20)
    req.params.update({"seconds": 2})
    # The request carries the deadline, so the worker cuts the attempt at it and answers
    # TIMEOUT: that answer may reach the caller a hair before gRPC's own DEADLINE_EXCEEDED.
    try:
        resp, _ = await call(channel, req, timeout=0.3)
        outcome = "TIMEOUT" if not resp.success and resp.error.code == "TIMEOUT" else str(resp)
    except grpc.aio.AioRpcError as err:
        outcome = err.code().name
    assert outcome in ("DEADLINE_EXCEEDED", "TIMEOUT")


async def test_primitive_not_found_is_answered_at_once_and_publishes_nothing(
        bus: Bus, bridge: Bridge, channel: grpc.aio.Channel) -> None:
    # No worker runs at all; a deadline far below the 30 s timeout proves nobody waited for it.
    for name in ("no_such_primitive", "sleepy", "capture_phone"):
        req = sleepy_request("x", timeout_seconds=30, conversation_id="conv-nf")
        req.objective_type = name
        resp, _ = await call(channel, req, timeout=3.0)
        assert not resp.success
        assert resp.error.code == "PRIMITIVE_NOT_FOUND", resp
    assert await stored_events(bus, "vc.ev.conv-nf.>") == []


async def test_not_found_follows_workers_coming_and_going(
        bus: Bus, bridge: Bridge, client: VoiceCoreClient) -> None:
    worker = Worker(bus, plugin.SLEEPY, FAST)
    await worker.start()
    assert (await client.execute("sleepy", {"text": "up"})).success
    await worker.stop()
    gone = await client.execute("sleepy", {"text": "down"}, timeout_s=30)
    assert gone.error_code == "PRIMITIVE_NOT_FOUND"


async def test_invalid_params_are_answered_at_once_and_not_published(
        bus: Bus, sleepy_worker: Worker, client: VoiceCoreClient) -> None:
    for params in ({"text": 42}, {"seconds": "soon"}, {"fail_times": 1.5}):
        result = await client.execute("sleepy", params, conversation_id="conv-bad")
        assert (result.success, result.error_code, result.state) == (
            False, "INVALID_PARAMS", "failed"), result
        assert result.request_event_id == ""
    assert await stored_events(bus, "vc.ev.conv-bad.>") == []


@pytest.mark.parametrize(("fields", "detail"), [
    ({"objective_type": ""}, "objective_type"),
    ({"conversation_id": "has.dots"}, "conversation id"),
    ({"conversation_id": "c1", "trace_id": "x" * 65}, "trace_id"),
    ({"trace_id": "has space"}, "trace_id"),
    ({"idempotency_key": "k1"}, "idempotency_key needs a conversation_id"),
])
async def test_bad_calls_are_invalid_argument(
        bridge: Bridge, channel: grpc.aio.Channel, fields: dict[str, str], detail: str) -> None:
    req = sleepy_request("bad")
    for key, value in fields.items():
        setattr(req, key, value)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call(channel, req)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert detail in (err.value.details() or "")


async def test_idempotency_key_executes_once_and_answers_the_same_result(
        bus: Bus, sleepy_worker: Worker, client: VoiceCoreClient) -> None:
    key_params = {"text": "idem", "seconds": 0.2}
    concurrent = await asyncio.gather(*(
        client.execute("sleepy", key_params, conversation_id="conv-idem", idempotency_key="k1")
        for _ in range(5)))
    again = await client.execute("sleepy", {"text": "ignored"}, conversation_id="conv-idem",
                                 idempotency_key="k1")
    other = await client.execute("sleepy", key_params, conversation_id="conv-idem",
                                 idempotency_key="k2")
    answers = {(r.request_event_id, r.result_event_id) for r in [*concurrent, again]}
    assert len(answers) == 1 and all(r.success for r in [*concurrent, again])
    assert again.data == {"text": "idem"}
    assert other.success and other.request_event_id != again.request_event_id
    found = await stored_events(bus, "vc.ev.conv-idem.>")
    requests = [e for e in found if e.event_type == "sleepy.requested"]
    results = [e for e in found if e.event_type == "sleepy.completed"]
    assert len(requests) == len(results) == 2


async def test_auth_token_is_required_when_configured(bus: Bus, sleepy_worker: Worker) -> None:
    options = BridgeOptions(token="s3cret", default_timeout_s=5.0, grace_s=0.5)
    async with serve_bridge(bus, "127.0.0.1:0", options) as secured:
        async with VoiceCoreClient(secured.address) as anonymous:
            with pytest.raises(CallRejected, match="UNAUTHENTICATED"):
                await anonymous.execute("sleepy", {"text": "no"})
        async with VoiceCoreClient(secured.address, token="s3cret") as allowed:
            assert (await allowed.execute("sleepy", {"text": "yes"})).success


async def test_200_concurrent_calls_over_two_bridges_get_their_own_answers(
        bus: Bus, nats_server: EmbeddedNats, sleepy_worker: Worker, bridge: Bridge) -> None:
    # a second bridge: its own connection
    other_bus = await Bus.connect(nats_server.url, auth=nats_server.identity("admin"))
    try:
        async with serve_bridge(other_bus, "127.0.0.1:0", OPTIONS) as second, \
                VoiceCoreClient(bridge.address) as a, VoiceCoreClient(second.address) as b:
            results = await asyncio.gather(*(
                (a if i % 2 else b).execute(
                    "sleepy", {"text": f"call-{i}", "seconds": 0.01 * (i % 7)},
                    conversation_id=f"conv-x{i % 5}", trace_id=f"trace-{i}")
                for i in range(200)))
    finally:
        await other_bus.drain()
    for i, result in enumerate(results):
        assert result.success, result
        assert result.data == {"text": f"call-{i}"}
        assert result.trace_id == f"trace-{i}"
    assert len({r.result_event_id for r in results}) == 200
    assert bridge.router.waiting == 0


def _requests_and_results(found: list[ev.Event]) -> tuple[set[str], list[str | None]]:
    requests = {e.id for e in found if e.event_type == "sleepy.requested"}
    results = [e.causation_id for e in found if e.event_type != "sleepy.requested"]
    return requests, results


async def publish_result(router: Correlator, subject: str, result_id: str, body: bytes) -> None:
    """A message on a result subject carrying ``result_id`` as its id (what the router keys on)."""
    await router.nc.publish(subject, body, headers={subjects.HEADER_MSG_ID: result_id})


async def test_results_are_routed_by_header_before_decoding(bridge: Bridge) -> None:
    """Only a message whose header names the awaited result id reaches the call's reader;
    one the reader refuses leaves the call waiting for the next."""
    router = bridge.router
    read: list[bytes] = []

    def reader(subject: str, body: bytes) -> bytes | None:
        read.append(body)
        return body if body == b"the result" else None

    result_subject = "vc.ev.c1.sleepy.completed"  # one subscription: delivered in order
    answer = router.expect("result-1", reader)
    try:
        await router.nc.publish(result_subject, b"no header at all")
        await publish_result(router, result_subject, "result-2", b"another call's")
        await publish_result(router, result_subject, "result-1", b"a forgery")
        await publish_result(router, result_subject, "result-1", b"the result")
        assert await asyncio.wait_for(answer, 20) == b"the result"
    finally:
        router.forget("result-1", answer)
    assert read == [b"a forgery", b"the result"]
    assert router.waiting == 0


async def test_a_reader_that_raises_leaves_the_connection_and_other_calls_working(
        bridge: Bridge) -> None:
    """Results are read inside the connection's read loop (raw): a reader's exception is
    logged and counted there, never let out to end the loop (and with it every call)."""
    router = bridge.router

    def broken(subject: str, body: bytes) -> bytes | None:
        raise RuntimeError("a bug in a reader")

    stuck = router.expect("result-broken", broken)
    fine = router.expect("result-fine", lambda subject, body: body)
    try:
        subject = "vc.ev.c1.sleepy.completed"
        for result_id in ("result-broken", "result-fine"):
            await publish_result(router, subject, result_id, result_id.encode())
        assert await asyncio.wait_for(fine, 20) == b"result-fine"
        assert not stuck.done()
        await router.nc.flush(timeout=5)  # the connection still reads (PONG)
    finally:
        router.forget("result-broken", stuck)
        router.forget("result-fine", fine)


async def _waiting(router: Correlator, count: int) -> None:
    await until(lambda: router.waiting == count, f"router holding {count} waiting call(s)")


@pytest.mark.parametrize("ending", ["answered", "timed out", "cancelled"])
async def test_the_router_holds_a_call_only_while_it_waits(
        sleepy_worker: Worker, bridge: Bridge, channel: grpc.aio.Channel, ending: str) -> None:
    req = sleepy_request(ending, timeout_seconds=1.0 if ending == "timed out" else 10.0)
    req.params.update({"seconds": 0.5 if ending == "answered" else 5.0})
    pending = stub(channel)(req, timeout=30.0)
    await _waiting(bridge.router, 1)
    if ending == "cancelled":
        pending.cancel()
        await _waiting(bridge.router, 0)  # the server learns of the cancel in its own time
        return
    resp = await pending
    assert resp.success == (ending == "answered"), resp
    assert bridge.router.waiting == 0  # forgotten before the answer left the server


async def test_nats_restart_under_the_bridge(
        bus: Bus, nats_server: EmbeddedNats, sleepy_worker: Worker, bridge: Bridge,
        channel: grpc.aio.Channel) -> None:
    health = channel.unary_unary("/grpc.health.v1.Health/Check",
                                 request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
                                 response_deserializer=health_pb2.HealthCheckResponse.FromString)

    async def standard_status() -> int:
        resp = await health(health_pb2.HealthCheckRequest(service="voicecore.v1.VoiceCore"))
        return int(resp.status)

    before, _ = await call(channel, sleepy_request("before", conversation_id="conv-r"))
    assert before.success
    in_flight = [asyncio.ensure_future(call(channel, sleepy_request(
        f"inflight-{i}", conversation_id="conv-r", timeout_seconds=1.0)))
        for i in range(10)]
    await asyncio.sleep(0.05)
    await nats_server.stop()

    async def disconnected() -> bool:
        return not bus.nc.is_connected

    await until(disconnected, "the bridge's NATS connection dropped")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call(channel, sleepy_request("while-down", conversation_id="conv-r"))
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE

    async def not_serving() -> bool:
        return bool(await standard_status() == health_pb2.HealthCheckResponse.NOT_SERVING)

    await until(not_serving, "health says NOT_SERVING", every=0.1)
    answered = await asyncio.gather(*in_flight, return_exceptions=True)
    await nats_server.start()

    async def serving_again() -> bool:
        if await standard_status() != health_pb2.HealthCheckResponse.SERVING:
            return False
        try:
            resp, _ = await call(channel, sleepy_request("after", conversation_id="conv-r"))
        except grpc.aio.AioRpcError:
            return False
        return bool(resp.success)

    await until(serving_again, "serving again after the restart", every=0.1)
    # Results still reach the router by its (raw) subscription, not only by the stored-result
    # lookup a call makes when it times out.
    router = bridge.router
    answer = router.expect("after-restart", lambda subject, body: body)
    try:
        await publish_result(router, "vc.ev.conv-r.sleepy.completed", "after-restart", b"heard")
        assert await asyncio.wait_for(answer, 20) == b"heard"
    finally:
        router.forget("after-restart", answer)
    # Every call got exactly one answer (a response or a status), and in the stream
    # every request has at most one result: nothing was answered twice.
    assert len(answered) == 10
    found = await stored_events(bus, "vc.ev.conv-r.>")
    requests, results = _requests_and_results(found)
    assert len(results) == len(set(results))
    assert set(results) <= requests
