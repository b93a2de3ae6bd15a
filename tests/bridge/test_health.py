"""HealthCheck (the VoiceCore RPC), the standard grpc.health.v1 service, and reflection."""

from __future__ import annotations

import grpc
from google.protobuf import descriptor_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from bridge._proto import voice_core_pb2 as pb
from bridge.client import VoiceCoreClient
from bridge.server import Bridge, serve_bridge
from core.bus import Bus
from core.worker import Worker
from tests.bridge.conftest import OPTIONS


async def test_health_check_reports_nats_jetstream_and_live_workers(
        sleepy_worker: Worker, client: VoiceCoreClient) -> None:
    health = await client.health()
    components = {c.name: c for c in health.components}
    assert components["nats"].status == pb.SERVING
    assert components["jetstream"].status == pb.SERVING
    assert components["primitive:sleepy"].status == pb.SERVING
    assert components["primitive:sleepy"].detail == "1 live worker"
    assert components["primitive:capture_phone"].status == pb.NOT_SERVING
    assert "sleepy" in health.primitives and "capture_phone" not in health.primitives
    assert health.status == pb.DEGRADED  # capture_* have no worker in this test
    assert health.version


async def test_standard_health_service_serves_and_goes_not_serving_on_shutdown(
        bus: Bus) -> None:
    async with serve_bridge(bus, "127.0.0.1:0", OPTIONS) as bridge, \
            grpc.aio.insecure_channel(bridge.address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for service in ("", "voicecore.v1.VoiceCore"):
            resp = await stub.Check(health_pb2.HealthCheckRequest(service=service))
            assert resp.status == health_pb2.HealthCheckResponse.SERVING
        watch = stub.Watch(health_pb2.HealthCheckRequest(service=""))
        assert (await watch.read()).status == health_pb2.HealthCheckResponse.SERVING
        await bridge.health.stop()  # the first step of shutdown
        assert (await watch.read()).status == health_pb2.HealthCheckResponse.NOT_SERVING
        watch.cancel()


async def test_reflection_lists_services_and_serves_the_contract(
        bridge: Bridge, channel: grpc.aio.Channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    call = stub.ServerReflectionInfo()
    await call.write(reflection_pb2.ServerReflectionRequest(list_services=""))
    listed = await call.read()
    names = {s.name for s in listed.list_services_response.service}
    assert {"voicecore.v1.VoiceCore", "grpc.health.v1.Health",
            "grpc.reflection.v1alpha.ServerReflection"} <= names
    await call.write(reflection_pb2.ServerReflectionRequest(
        file_containing_symbol="voicecore.v1.VoiceCore"))
    answer = await call.read()
    files = [descriptor_pb2.FileDescriptorProto.FromString(raw)
             for raw in answer.file_descriptor_response.file_descriptor_proto]
    [contract] = [f for f in files if f.package == "voicecore.v1"]
    methods = {m.name for m in contract.service[0].method}
    assert methods == {"ExecutePrimitive", "StreamEvents", "HealthCheck"}
    await call.done_writing()
    call.cancel()
