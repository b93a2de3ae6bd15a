"""An asyncio client for the voicecore gRPC bridge (used by ``orchestrator/``).

* **Outcomes vs errors.** A primitive's answer (success or ``NO_MATCH``,
  ``INVALID_PARAMS``, ``TIMEOUT``, ``PRIMITIVE_FAILED``, ``PRIMITIVE_NOT_FOUND``)
  comes back as a :class:`Result`. A failed *call* raises a :class:`CoreError`
  subclass (a :class:`core.errors.VoiceCoreError`, with the gRPC ``status``), chosen
  by :func:`error_for_status`: :class:`CoreUnavailable` (the core or NATS is down;
  raised at once, gRPC does not wait for the server), :class:`CircuitOpen`
  (``CIRCUIT_BREAKER_OPEN``), :class:`CallRejected` (bad arguments, auth),
  :class:`DeadlineExceeded` (the caller's own deadline).
* **Circuit breaker per primitive** (:mod:`bridge.breaker`): transport errors,
  ``TIMEOUT`` and ``PRIMITIVE_FAILED`` count as failures; any other answer counts
  as a success.
* **Retries** with full-jitter exponential backoff, only for retryable failures:
  UNAVAILABLE, and ``TIMEOUT`` when the call has an ``idempotency_key`` (then a
  retry waits for the same execution instead of starting a second one). Every
  attempt carries the same trace id (generated here when the caller gave none)
  and the same idempotency key.
* **TLS**: ``tls=TlsFiles(ca=..., cert=..., key=...)`` (:mod:`bridge.tls`): the CA the
  bridge's certificate must chain to, and a client certificate for mutual TLS; the
  bearer ``token`` works with or without it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc

from bridge import convert
from bridge._proto import voice_core_pb2 as pb
from bridge._proto.audio_service_pb2_grpc import AudioServiceStub
from bridge._proto.voice_core_pb2_grpc import VoiceCoreStub
from bridge.breaker import BreakerConfig, CircuitBreaker
from bridge.errors import GrpcError
from bridge.tls import open_channel
from core.config import TlsFiles
from core.tracing import new_trace_id

SERVICE = "/voicecore.v1.VoiceCore/"
"""The method path prefix, for raw channel methods (custom serializers, e.g. in tests)."""
TRANSPORT_RETRYABLE = frozenset({"UNAVAILABLE"})
BREAKER_FAILURES = frozenset({"TIMEOUT", "PRIMITIVE_FAILED"})


class CoreError(GrpcError):
    """A failed call; ``status`` is the gRPC status it failed with."""

    code = "CORE_ERROR"
    retryable = False

    def __init__(self, message: str, *, trace_id: str = "",
                 status: grpc.StatusCode | None = None) -> None:
        super().__init__(message)
        self.trace_id = trace_id
        if status is not None:
            self.status = status


class CoreUnavailable(CoreError):
    code = "UNAVAILABLE"
    retryable = True
    status = grpc.StatusCode.UNAVAILABLE


class CircuitOpen(CoreError):
    """Refused by this client's breaker, before any call: as if the core were down."""

    code = "CIRCUIT_BREAKER_OPEN"
    status = grpc.StatusCode.UNAVAILABLE


class CallRejected(CoreError):
    code = "REJECTED"
    status = grpc.StatusCode.INVALID_ARGUMENT


class DeadlineExceeded(CoreError):
    code = "DEADLINE_EXCEEDED"
    status = grpc.StatusCode.DEADLINE_EXCEEDED


REJECTED = frozenset({grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.UNAUTHENTICATED,
                      grpc.StatusCode.PERMISSION_DENIED})
"""Statuses that say the call itself is wrong: raised as :class:`CallRejected`."""


@dataclass(frozen=True)
class Result:
    success: bool
    data: dict[str, Any]
    state: str
    trace_id: str
    error_code: str = ""
    error_message: str = ""
    retryable: bool = False
    duration_ms: float = 0.0
    retry_count: int = 0
    confidence: float = 0.0
    request_event_id: str = ""
    result_event_id: str = ""
    attempts: int = 1

    @classmethod
    def from_response(cls, resp: pb.ExecutePrimitiveResponse, attempts: int) -> Result:
        md = resp.metadata
        return cls(success=resp.success, data=convert.from_struct(resp.data), state=md.state,
                   trace_id=md.trace_id, error_code=resp.error.code,
                   error_message=resp.error.message, retryable=resp.error.retryable,
                   duration_ms=md.duration_ms, retry_count=md.retry_count,
                   confidence=md.confidence, request_event_id=md.request_event_id,
                   result_event_id=md.result_event_id, attempts=attempts)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    base_delay_s: float = 0.05
    max_delay_s: float = 1.0
    retry_codes: frozenset[str] = field(default_factory=lambda: frozenset({"TIMEOUT"}))
    """Result codes retried (besides UNAVAILABLE), for calls with an idempotency key."""

    def delay(self, attempt: int) -> float:
        """Full-jitter exponential backoff before attempt ``attempt + 1``."""
        return random.uniform(0, min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)))


def error_for_status(code: grpc.StatusCode, details: str, trace_id: str = "") -> CoreError:
    """The client error for a call that failed with gRPC status ``code`` (the one place)."""
    message = f"{code.name}: {details}".rstrip(": ")
    if code == grpc.StatusCode.UNAVAILABLE:
        return CoreUnavailable(f"voice core unavailable ({message})", trace_id=trace_id)
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return DeadlineExceeded(message, trace_id=trace_id)
    if code in REJECTED:
        return CallRejected(message, trace_id=trace_id, status=code)
    return CoreError(message, trace_id=trace_id, status=code)


def voice_core_stub(channel: grpc.aio.Channel) -> Any:
    """The generated client stub on ``channel``: one attribute per VoiceCore method."""
    # Untyped: grpcio-tools writes no .pyi for the *_grpc module (bridge/_proto).
    return VoiceCoreStub(channel)  # type: ignore[no-untyped-call]


def audio_service_stub(channel: grpc.aio.Channel) -> Any:
    """The generated client stub on ``channel``: one attribute per AudioService method."""
    return AudioServiceStub(channel)  # type: ignore[no-untyped-call]


def _error_for(exc: grpc.aio.AioRpcError, trace_id: str) -> CoreError:
    return error_for_status(exc.code(), exc.details() or "", trace_id)


class VoiceCoreClient:
    def __init__(self, target: str, *, token: str | None = None, tls: TlsFiles | None = None,
                 breaker: BreakerConfig | None = None, retry: RetryPolicy | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.target = target
        self.retry = retry or RetryPolicy()
        self.breaker_config = breaker or BreakerConfig()
        self._clock = clock
        self._sleep = sleep
        self._breakers: dict[str, CircuitBreaker] = {}
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._channel = open_channel(target, tls)
        stub = voice_core_stub(self._channel)
        self._execute = stub.ExecutePrimitive
        self._stream = stub.StreamEvents
        self._health = stub.HealthCheck

    async def __aenter__(self) -> VoiceCoreClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._channel.close()

    def breaker(self, primitive: str) -> CircuitBreaker:
        found = self._breakers.get(primitive)
        if found is None:
            found = self._breakers[primitive] = CircuitBreaker(self.breaker_config, self._clock)
        return found

    async def execute(self, objective_type: str, params: Mapping[str, Any] | None = None, *,
                      conversation_id: str = "", trace_id: str = "", purpose: str = "",
                      timeout_s: float = 0.0, idempotency_key: str = "",
                      deadline_s: float | None = None) -> Result:
        """Run a primitive; retries retryable failures with the same trace id and key."""
        request = pb.ExecutePrimitiveRequest(
            objective_type=objective_type, conversation_id=conversation_id,
            trace_id=trace_id or new_trace_id(), purpose=purpose, timeout_seconds=timeout_s,
            idempotency_key=idempotency_key)
        convert.fill_struct(request.params, dict(params or {}))
        breaker = self.breaker(objective_type)
        attempt = 0
        while True:
            attempt += 1
            if not breaker.allow():
                raise CircuitOpen(f"circuit breaker open for {objective_type!r}; retry in "
                                  f"{breaker.retry_after():.1f}s", trace_id=request.trace_id)
            try:
                result = await self._attempt(request, attempt, deadline_s)
            except CoreError as exc:
                self._record(breaker, failed=not isinstance(exc, CallRejected))
                if not exc.retryable or attempt >= self.retry.max_attempts \
                        or not breaker.allow():
                    raise
            else:
                self._record(breaker, failed=result.error_code in BREAKER_FAILURES)
                if (result.success or result.error_code not in self.retry.retry_codes
                        or not idempotency_key or attempt >= self.retry.max_attempts
                        or not breaker.allow()):
                    return result
            await self._sleep(self.retry.delay(attempt))

    @staticmethod
    def _record(breaker: CircuitBreaker, *, failed: bool) -> None:
        if failed:
            breaker.record_failure()
        else:
            breaker.record_success()

    async def _attempt(self, request: pb.ExecutePrimitiveRequest, attempt: int,
                       deadline_s: float | None) -> Result:
        try:
            resp = await self._execute(request, timeout=deadline_s, metadata=self._metadata)
        except grpc.aio.AioRpcError as exc:
            raise _error_for(exc, request.trace_id) from None
        return Result.from_response(resp, attempt)

    async def health(self, timeout_s: float = 5.0) -> pb.HealthCheckResponse:
        try:
            resp: pb.HealthCheckResponse = await self._health(
                pb.HealthCheckRequest(), timeout=timeout_s, metadata=self._metadata)
        except grpc.aio.AioRpcError as exc:
            raise _error_for(exc, "") from None
        return resp

    async def events(self, *, conversation_id: str = "", trace_id: str = "",
                     event_types: list[str] | None = None, start_sequence: int = 0,
                     start_time: dt.datetime | None = None) -> AsyncIterator[pb.Event]:
        """StreamEvents; stops when the caller stops iterating (the server call is cancelled)."""
        request = pb.StreamEventsRequest(conversation_id=conversation_id, trace_id=trace_id,
                                         event_types=event_types or [],
                                         start_sequence=start_sequence)
        convert.set_timestamp(request.start_time, start_time)
        call = self._stream(request, metadata=self._metadata)
        try:
            async for event in call:
                yield event
        except grpc.aio.AioRpcError as exc:
            raise _error_for(exc, trace_id) from None
        finally:
            call.cancel()
