"""Bounded input at the edge: every field of a call is checked before anything is published.

Real nats-server, real workers, real grpc.aio server; malformed bytes go through a
generic channel with identity serializers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import grpc
import pytest

from bridge import convert, limits
from bridge._proto import voice_core_pb2 as pb
from bridge.client import SERVICE, VoiceCoreClient
from bridge.server import Bridge
from core.bus import Bus
from core.worker import Worker
from tests.bridge.conftest import stored_events
from tests.bridge.test_execute import call
from tests.bridge.test_stream import open_stream

TRANSCRIPT = "john at gmail dot com"


def email_request(**fields: Any) -> pb.ExecutePrimitiveRequest:
    req = pb.ExecutePrimitiveRequest(objective_type="capture_email", conversation_id="c-lim",
                                     **fields)
    req.params.update({"transcript": TRANSCRIPT})
    return req


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def set_field(name: str, value: object) -> Callable[[pb.ExecutePrimitiveRequest], None]:
    return lambda req: setattr(req, name, value)


def add_params(**params: Any) -> Callable[[pb.ExecutePrimitiveRequest], None]:
    return lambda req: req.params.update(params)


@pytest.mark.parametrize(("change", "field"), [
    (set_field("purpose", "p" * 3_500_000), "purpose"),
    (set_field("purpose", "p" * (limits.MAX_PURPOSE + 1)), "purpose"),
    (set_field("objective_type", "c" * 65), "objective_type"),
    (set_field("objective_type", "c" * 3_000_000), "objective_type"),
    (set_field("idempotency_key", "k" * 257), "idempotency_key"),
    (set_field("conversation_id", "c" * 100_000), "conversation_id"),
    (set_field("trace_id", "t" * 100_000), "trace_id"),
    (set_field("timeout_seconds", float("nan")), "timeout_seconds"),
    (add_params(extra="x" * (limits.MAX_PARAMS_BYTES + 1)), "params"),
    (add_params(extra=nested(limits.MAX_PARAMS_DEPTH)), "params"),
], ids=["purpose-3.5MB", "purpose-1001", "objective_type-65", "objective_type-3MB",
        "idempotency_key-257", "conversation_id-100k", "trace_id-100k", "timeout-nan",
        "params-bytes", "params-depth"])
async def test_every_field_is_bounded_before_publishing(
        bus: Bus, email_worker: Worker, channel: grpc.aio.Channel,
        change: Callable[[pb.ExecutePrimitiveRequest], None], field: str) -> None:
    req = email_request()
    change(req)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call(channel, req)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value
    details = err.value.details() or ""
    assert details.startswith(field), details
    assert len(details) < 300  # never the value itself
    assert await stored_events(bus, "vc.ev.>") == []


async def test_limits_at_the_bounds_are_accepted(
        bus: Bus, email_worker: Worker, channel: grpc.aio.Channel) -> None:
    req = email_request(purpose="p" * limits.MAX_PURPOSE, idempotency_key="k" * 256,
                        trace_id="t" * 64)
    req.params.update({"extra": nested(limits.MAX_PARAMS_DEPTH - 1)})
    resp, _ = await call(channel, req)
    assert resp.success, resp
    [requested, _] = await stored_events(bus, "vc.ev.c-lim.>")
    assert requested.data.purpose == "p" * limits.MAX_PURPOSE


async def test_unknown_fields_count_in_the_whole_request_size(
        bus: Bus, email_worker: Worker, channel: grpc.aio.Channel) -> None:
    field_99 = b"\x9a\x06" + _varint(100_000) + b"u" * 100_000  # field 99, length-delimited
    raw = channel.unary_unary(SERVICE + "ExecutePrimitive", request_serializer=lambda b: b,
                              response_deserializer=lambda b: b)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await raw(email_request().SerializeToString() + field_99, timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (err.value.details() or "").startswith("the request is")
    assert await stored_events(bus, "vc.ev.>") == []


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def deep_struct_request(depth: int) -> bytes:
    req = email_request()
    inner = req.params.fields["extra"].struct_value
    for _ in range(depth):
        inner = inner.fields["a"].struct_value
    return req.SerializeToString()


@pytest.mark.parametrize(("method", "body"), [
    ("ExecutePrimitive", b"\xff\xff\xff\xff"),
    ("ExecutePrimitive", deep_struct_request(90)),
    ("StreamEvents", b"\x0a\xff\xff\xff\xff\x0f"),
    ("HealthCheck", b"\x0a\x05ab"),
], ids=["execute-garbage", "execute-struct-90-deep", "stream-garbage", "health-truncated"])
async def test_malformed_protobuf_is_invalid_argument_without_a_traceback(
        bridge: Bridge, channel: grpc.aio.Channel, caplog: pytest.LogCaptureFixture,
        method: str, body: bytes) -> None:
    caplog.set_level(logging.WARNING)
    identity: Callable[[bytes], bytes] = lambda b: b  # noqa: E731
    if method == "StreamEvents":
        rpc = channel.unary_stream(SERVICE + method, request_serializer=identity,
                                   response_deserializer=identity)
        reply = rpc(body, timeout=10).read()
    else:
        reply = channel.unary_unary(SERVICE + method, request_serializer=identity,
                                    response_deserializer=identity)(body, timeout=10)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await reply
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "is not a valid voicecore.v1." in (err.value.details() or "")
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_empty_params_name_the_missing_field_and_say_how_to_write_a_struct(
        bus: Bus, email_worker: Worker, client: VoiceCoreClient) -> None:
    # What a JavaScript plain object becomes: params {} (protobufjs drops unknown keys).
    result = await client.execute("capture_email", {}, conversation_id="c-empty")
    assert (result.success, result.error_code) == (False, "INVALID_PARAMS")
    assert result.error_message.startswith("capture_email: params.transcript is required")
    assert "stringValue" in result.error_message
    typed = await client.execute("capture_email", {"transcript": TRANSCRIPT, "language": "x" * 999},
                                 conversation_id="c-empty")
    assert typed.error_code == "INVALID_PARAMS" and len(typed.error_message) < 200
    assert "params.language" in typed.error_message
    assert await stored_events(bus, "vc.ev.c-empty.>") == []


def _start_time(when: dt.datetime) -> pb.StreamEventsRequest:
    req = pb.StreamEventsRequest()
    req.start_time.FromDatetime(when)
    return req


def _bad_timestamp(seconds: int = 0, nanos: int = 0) -> pb.StreamEventsRequest:
    req = pb.StreamEventsRequest()
    req.start_time.seconds, req.start_time.nanos = seconds, nanos
    return req


@pytest.mark.parametrize(("req", "field"), [
    (_start_time(dt.datetime(9999, 12, 31)), "start_time"),
    (_start_time(dt.datetime(2263, 1, 1)), "start_time"),
    (_bad_timestamp(seconds=10**12), "start_time"),
    (_bad_timestamp(nanos=-5), "start_time"),
    (pb.StreamEventsRequest(trace_id="t" * 100_000), "trace_id"),
    (pb.StreamEventsRequest(trace_id="has space"), "trace_id"),
    (pb.StreamEventsRequest(event_types=["x" * 100_000]), "event_types"),
    (pb.StreamEventsRequest(event_types=[f"p{i}.completed" for i in range(33)]), "event_types"),
    (pb.StreamEventsRequest(conversation_id="c" * 100_000), "conversation_id"),
    (pb.StreamEventsRequest(start_sequence=1, start_time=_start_time(
        dt.datetime(2026, 1, 1)).start_time), "give start_sequence"),
], ids=["start-9999", "start-2263", "start-invalid-seconds", "start-negative-nanos",
        "trace_id-100k", "trace_id-space", "event_type-100k", "event_types-33",
        "conversation_id-100k", "both-starts"])
async def test_every_stream_filter_is_checked(
        bus: Bus, email_worker: Worker, client: VoiceCoreClient, channel: grpc.aio.Channel,
        req: pb.StreamEventsRequest, field: str) -> None:
    assert (await client.execute("capture_email", {"transcript": TRANSCRIPT})).success
    stream = channel.unary_stream(
        SERVICE + "StreamEvents", request_serializer=pb.StreamEventsRequest.SerializeToString,
        response_deserializer=pb.Event.FromString)(req)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        # A filter nothing matches used to be accepted and wait forever; 9999-12-31
        # replayed the stored events.
        await asyncio.wait_for(stream.read(), 20)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value
    details = err.value.details() or ""
    assert details.startswith(field) and len(details) < 300, details


async def test_a_start_time_far_ahead_but_in_range_starts_after_everything_stored(
        bus: Bus, email_worker: Worker, client: VoiceCoreClient,
        channel: grpc.aio.Channel) -> None:
    assert (await client.execute("capture_email", {"transcript": TRANSCRIPT})).success
    pending = {}
    for year in (2000, 2261):
        stream = open_stream(channel, start_time=_start_time(dt.datetime(year, 12, 31)).start_time)
        await stream.initial_metadata()  # its consumer exists
        [info] = [c for c in await bus.js.consumers_info("VC_EVENTS")
                  if (c.name or "").startswith("vc_bridge_")]
        assert info.delivered is not None and info.num_pending is not None
        pending[year] = info.num_pending + info.delivered.consumer_seq  # stored from there
        stream.cancel()
        await _consumer_gone(bus)
    assert pending == {2000: 2, 2261: 0}


async def _consumer_gone(bus: Bus) -> None:
    for _ in range(400):
        infos = await bus.js.consumers_info("VC_EVENTS")
        if not any((c.name or "").startswith("vc_bridge_") for c in infos):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the stream's consumer was not deleted")


def test_the_struct_depth_bound_fits_what_protobuf_parsers_accept() -> None:
    event = pb.Event()
    event.data.update(nested(convert.MAX_STRUCT_DEPTH))
    assert pb.Event.FromString(event.SerializeToString()).data == event.data
