"""The gRPC bridge server (grpc.aio): VoiceCore, AudioService, grpc.health.v1 and server
reflection.

:func:`serve_bridge` starts it for a connected :class:`~core.bus.Bus` and stops it
in order: health NOT_SERVING → gRPC stop with a grace period (in-flight calls
finish) → results correlator and presence unsubscribe. The bus itself belongs to
the caller (``voicecore.app.running`` drains it after the workers).

Auth (optional): with a token (``VOICECORE_GRPC_TOKEN``, ``--grpc-token-file``) every
VoiceCore call needs ``authorization: Bearer <token>`` metadata, else
UNAUTHENTICATED. Health and reflection stay open, for probes. TLS (optional, with
mutual TLS): ``BridgeOptions.tls``, see :mod:`bridge.tls`; token and TLS are independent.

Every voicecore error a call raises is answered with ``bridge.errors.status_for``'s
status. The services implement the generated ``VoiceCoreServicer`` and
``AudioServiceServicer`` (``bridge/audio.py``); they are registered by
:func:`bridge.rpc.add_service`, the generated ``add_*Servicer_to_server`` with request
deserializers that never raise.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from bridge._proto import audio_service_pb2
from bridge._proto import voice_core_pb2 as pb
from bridge._proto.voice_core_pb2_grpc import VoiceCoreServicer
from bridge.audio import SERVICE as AUDIO_SERVICE
from bridge.audio import AudioService
from bridge.calls import DEFAULT_TIMEOUT_S, MAX_TIMEOUT_S
from bridge.errors import status_for
from bridge.execute import Executor
from bridge.health import SERVICE_NAME, Health
from bridge.limits import MAX_MESSAGE_BYTES, Malformed
from bridge.listen import Listener
from bridge.rpc import Gate, add_service, parsed
from bridge.speech import Speaker
from bridge.streaming import stream_events
from bridge.tls import listen, server_credentials
from bridge.tracecontext import TRACE_ID_HEADER, resolve_trace_id
from bridge.transcribing import Scribe
from bridge.voices import VoiceBook
from core.audiostore import AudioStore
from core.bus import Bus
from core.config import TlsFiles, check_listen_address
from core.correlator import Correlator
from core.errors import ConfigError, VoiceCoreError
from core.presence import PresenceTracker
from core.tts.settings import TtsSettings
from core.tts.voices import VoiceCatalog

log = logging.getLogger(__name__)

STREAM_READY_HEADER = "vc-stream-ready"
"""StreamEvents sends it as initial metadata once its consumer exists (live starts there)."""


def _version() -> str:
    try:
        return version("voicecore")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True)
class BridgeOptions:
    token: str | None = field(default=None, repr=False)
    tls: TlsFiles | None = None
    """Serve TLS with these files (mutual TLS when ``tls.ca`` is set); ``None``: plaintext."""
    default_timeout_s: float = DEFAULT_TIMEOUT_S
    max_timeout_s: float = MAX_TIMEOUT_S
    grace_s: float = 5.0
    """On stop, in-flight calls get this long to finish."""
    tts: TtsSettings | None = None
    """The voices AudioService offers (its catalogue); ``None``: from ``VOICECORE_*``
    variables, as the worker processes read them."""


class VoiceCoreService(VoiceCoreServicer):
    def __init__(self, bus: Bus, executor: Executor, health: Health, token: str | None) -> None:
        self.bus = bus
        self.executor = executor
        self.health = health
        self.gate = Gate(token)
        self._closing = asyncio.Event()

    def end_streams(self) -> None:
        """Shutdown: StreamEvents never finish on their own, so end them now (UNAVAILABLE)."""
        self._closing.set()

    async def ExecutePrimitive(self, request: pb.ExecutePrimitiveRequest | Malformed,
                               context: Any) -> pb.ExecutePrimitiveResponse:
        metadata = await self.gate.admit(context)
        request = await parsed(request, context)
        try:
            trace_id = resolve_trace_id(request.trace_id, metadata)
            context.set_trailing_metadata(((TRACE_ID_HEADER, trace_id),))
            return await self.executor.execute(request, trace_id, metadata,
                                               context.time_remaining())
        except VoiceCoreError as exc:
            await context.abort(status_for(exc), str(exc))
            raise  # unreachable: abort raises

    async def StreamEvents(self, request: pb.StreamEventsRequest | Malformed,
                           context: Any) -> AsyncIterator[pb.Event]:
        await self.gate.admit(context)
        request = await parsed(request, context)

        async def ready() -> None:
            await context.send_initial_metadata(((STREAM_READY_HEADER, "1"),))

        events = stream_events(self.bus, request, ready)
        closing = asyncio.ensure_future(self._closing.wait())
        step: asyncio.Future[pb.Event] | None = None
        try:
            while True:
                step = asyncio.ensure_future(anext(events))
                await asyncio.wait((step, closing), return_when=asyncio.FIRST_COMPLETED)
                if not step.done():
                    await _cancel(step)  # runs the generator's cleanup (deletes its consumer)
                    await context.abort(grpc.StatusCode.UNAVAILABLE, "bridge shutting down")
                try:
                    event = step.result()
                except StopAsyncIteration:
                    return
                yield event
        except VoiceCoreError as exc:
            await context.abort(status_for(exc), str(exc))
        finally:  # also when the client cancels: stop the pending step before closing
            closing.cancel()
            if step is not None:
                await _cancel(step)
            await events.aclose()

    async def HealthCheck(self, request: pb.HealthCheckRequest | Malformed,
                          context: Any) -> pb.HealthCheckResponse:
        await self.gate.admit(context)
        await parsed(request, context)
        try:
            return await self.health.check()
        except VoiceCoreError as exc:
            await context.abort(status_for(exc), str(exc))
            raise  # unreachable: abort raises


def add_voice_core(servicer: VoiceCoreServicer, server: Any) -> None:
    """``add_VoiceCoreServicer_to_server`` with request deserializers that never raise."""
    add_service(servicer, server, pb, "VoiceCore")


def _audio_service(bus: Bus, presence: PresenceTracker, options: BridgeOptions) -> AudioService:
    catalog = VoiceCatalog(options.tts or TtsSettings.from_env())
    speaker = Speaker(bus, presence, catalog, AudioStore(bus), max_timeout_s=options.max_timeout_s)
    listener = Listener(bus, presence, max_timeout_s=options.max_timeout_s)
    scribe = Scribe(bus, presence, AudioStore(bus), max_timeout_s=options.max_timeout_s)
    return AudioService(speaker, VoiceBook(catalog), options.token, listener, scribe)


async def _cancel(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.cancel()
    await asyncio.gather(future, return_exceptions=True)


@dataclass
class Bridge:
    server: Any
    port: int
    host: str
    executor: Executor
    health: Health
    router: Correlator
    presence: PresenceTracker

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@asynccontextmanager
async def serve_bridge(bus: Bus, addr: str,
                       options: BridgeOptions | None = None) -> AsyncIterator[Bridge]:
    """Serve the bridge on ``addr`` (``HOST:0`` picks a free port) until the block exits."""
    options = options or BridgeOptions()
    host, port = check_listen_address(addr)
    credentials = None if options.tls is None else server_credentials(options.tls)
    presence = PresenceTracker(bus.nc)
    router = Correlator(bus.nc)
    await presence.start()
    await router.subscribe()  # results by id: core.correlator
    executor = Executor(bus, router, presence, default_timeout_s=options.default_timeout_s,
                        max_timeout_s=options.max_timeout_s)
    health = Health(bus, presence, _version())
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0),
                                      ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)])
    service = VoiceCoreService(bus, executor, health, options.token)
    add_voice_core(service, server)
    add_service(_audio_service(bus, presence, options), server, audio_service_pb2,
                "AudioService")
    health_pb2_grpc.add_HealthServicer_to_server(health.standard, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, AUDIO_SERVICE, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
         reflection.SERVICE_NAME), server)
    port = listen(server, addr, credentials)
    if not port:  # taken between the check and now
        await router.stop()
        await presence.stop()
        raise ConfigError(f"cannot listen on {addr} for gRPC (in use?): pass --grpc-addr")
    await server.start()
    await health.start()
    bridge = Bridge(server, port, host, executor, health, router, presence)
    try:
        yield bridge
    finally:
        await health.stop()
        service.end_streams()
        await server.stop(options.grace_s)
        await router.stop()
        await presence.stop()
