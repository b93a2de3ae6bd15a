"""voicecore errors as gRPC statuses: the bridge's branch of :mod:`core.errors`' tree.

:func:`status_for` is the one place a voicecore error becomes a gRPC status, and
every servicer answers with it (``bridge/server.py``); the reverse, a status the
Python client receives becoming an error, is ``bridge.client.error_for_status``.

NATS trouble: :class:`~core.errors.BusUnavailable` (not connected, timed out, no
responders) is ``UNAVAILABLE``, which a client may retry; any other
:class:`~core.errors.BusError` (JetStream refused the API call, e.g. a consumer
config) is ``INTERNAL``: retrying the same call would be refused the same way.
"""

from __future__ import annotations

import grpc

from core.errors import (
    AudioUnavailable,
    BusError,
    BusRefused,
    BusUnavailable,
    ConfigError,
    EmbeddedServerError,
    EngineUnavailable,
    EventLogError,
    InvalidAudio,
    InvalidConversationId,
    InvalidParams,
    LogQueryError,
    LogUnwritable,
    PrimitiveError,
    StreamError,
    UnknownVoice,
    VoiceCoreError,
)


class GrpcError(VoiceCoreError):
    """An error that is a gRPC status (``status``): answered with it, or received as it."""

    status: grpc.StatusCode = grpc.StatusCode.UNKNOWN


class CallError(GrpcError):
    """The call failed as a call: answered with this gRPC status, not with a response."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = code


STATUS: dict[type[VoiceCoreError], grpc.StatusCode] = {
    VoiceCoreError: grpc.StatusCode.INTERNAL,
    ConfigError: grpc.StatusCode.FAILED_PRECONDITION,
    InvalidConversationId: grpc.StatusCode.INVALID_ARGUMENT,
    EmbeddedServerError: grpc.StatusCode.UNAVAILABLE,
    BusError: grpc.StatusCode.INTERNAL,
    BusUnavailable: grpc.StatusCode.UNAVAILABLE,
    BusRefused: grpc.StatusCode.INTERNAL,  # NATS refused the bridge's identity: its config
    StreamError: grpc.StatusCode.INTERNAL,
    PrimitiveError: grpc.StatusCode.INTERNAL,
    InvalidParams: grpc.StatusCode.INVALID_ARGUMENT,
    UnknownVoice: grpc.StatusCode.NOT_FOUND,
    InvalidAudio: grpc.StatusCode.INVALID_ARGUMENT,
    AudioUnavailable: grpc.StatusCode.NOT_FOUND,
    EngineUnavailable: grpc.StatusCode.UNAVAILABLE,
    EventLogError: grpc.StatusCode.INTERNAL,
    LogQueryError: grpc.StatusCode.INVALID_ARGUMENT,
    LogUnwritable: grpc.StatusCode.UNAVAILABLE,
}
"""The status of each class of :mod:`core.errors`; a subclass not listed takes its
nearest listed base's (so ``LogLocked`` is ``UNAVAILABLE`` like ``LogUnwritable``)."""


def status_for(exc: VoiceCoreError) -> grpc.StatusCode:
    """The gRPC status a servicer answers ``exc`` with."""
    if isinstance(exc, GrpcError):
        return exc.status
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    raise AssertionError("unreachable: VoiceCoreError is in STATUS")


_FAILURE_STATUS = {"TIMEOUT": grpc.StatusCode.DEADLINE_EXCEEDED,
                   "NO_MATCH": grpc.StatusCode.NOT_FOUND}
"""Failure codes of no :class:`~core.errors.PrimitiveError` class (the worker's own)."""


def failure_error(code: str, message: str) -> CallError:
    """A streamed call's answer to a ``<primitive>.failed`` result with ``code``: the
    status of the error class with that code (``ENGINE_UNAVAILABLE`` → UNAVAILABLE,
    ``INVALID_PARAMS`` → INVALID_ARGUMENT, …); an unknown code is INTERNAL."""
    status = _FAILURE_STATUS.get(code)
    if status is None:
        classes: list[type[PrimitiveError]] = [PrimitiveError, *_subclasses(PrimitiveError)]
        found = next((cls for cls in classes if cls.code == code), None)
        status = status_for(found(message)) if found else grpc.StatusCode.INTERNAL
    return CallError(status, f"{code}: {message}")


def _subclasses(cls: type[PrimitiveError]) -> list[type[PrimitiveError]]:
    direct = cls.__subclasses__()
    return [*direct, *(sub for child in direct for sub in _subclasses(child))]
