"""What every servicer of the bridge shares: registration, auth, parsing, error statuses.

:func:`add_service` is the generated ``add_<Service>Servicer_to_server`` with one
difference: the request deserializers never raise (:func:`bridge.limits.parser`), which
the generated functions cannot be given, so the method table is built from the proto's
service descriptor instead (a deserializer that raises answers UNKNOWN and logs a
traceback per hostile request).

:class:`Gate` checks the bearer token (when the bridge has one) and turns unparsable
bytes into INVALID_ARGUMENT; :func:`answered` turns any voicecore error a call raises
into its status (``bridge.errors.status_for``).
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType
from typing import Any, TypeVar

import grpc

from bridge.errors import status_for
from bridge.limits import Malformed, parser
from core.errors import VoiceCoreError

M = TypeVar("M")

_HANDLERS = {  # (client streaming, server streaming) -> grpc's handler factory
    (False, False): grpc.unary_unary_rpc_method_handler,
    (False, True): grpc.unary_stream_rpc_method_handler,
    (True, False): grpc.stream_unary_rpc_method_handler,
    (True, True): grpc.stream_stream_rpc_method_handler,
}


def add_service(servicer: Any, server: Any, module: ModuleType, service_name: str) -> None:
    """Register ``servicer`` for ``service_name`` of the generated ``module`` (``*_pb2``):
    one handler per method of its descriptor, as the generated code does."""
    service = module.DESCRIPTOR.services_by_name[service_name]
    handlers = {}
    for method in service.methods:
        make = _HANDLERS[(method.client_streaming, method.server_streaming)]
        handlers[method.name] = make(
            getattr(servicer, method.name),
            request_deserializer=parser(getattr(module, method.input_type.name)),
            response_serializer=getattr(module, method.output_type.name).SerializeToString)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(service.full_name, handlers),))
    server.add_registered_method_handlers(service.full_name, handlers)


def metadata_of(context: Any) -> dict[str, str]:
    pairs = context.invocation_metadata() or ()
    return {str(k).lower(): v for k, v in pairs if isinstance(v, str)}


class Gate:
    """The bearer token every call of a guarded service must present (``None``: open)."""

    def __init__(self, token: str | None) -> None:
        self._auth = f"Bearer {token}".encode() if token else None

    async def admit(self, context: Any) -> dict[str, str]:
        """The call's metadata, once its token is checked (UNAUTHENTICATED otherwise)."""
        metadata = metadata_of(context)
        if self._auth is not None:
            given = metadata.get("authorization", "").encode()
            if not hmac.compare_digest(given, self._auth):
                await context.abort(grpc.StatusCode.UNAUTHENTICATED,
                                    "missing or wrong 'authorization: Bearer <token>' metadata")
        return metadata


async def parsed(request: M | Malformed, context: Any) -> M:
    """The request, or INVALID_ARGUMENT when its bytes did not parse (see ``limits.parser``)."""
    if isinstance(request, Malformed):
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, request.reason)
        raise AssertionError("unreachable: abort raises")
    return request


@asynccontextmanager
async def answered(context: Any) -> AsyncIterator[None]:
    """A voicecore error raised in the block ends the call with its status."""
    try:
        yield
    except VoiceCoreError as exc:
        await context.abort(status_for(exc), str(exc))
