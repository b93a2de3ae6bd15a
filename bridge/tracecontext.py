"""Where a call's trace id comes from, and the bridge's SERVER span.

Order: the request's ``trace_id`` field, a W3C ``traceparent`` metadata header,
a ``trace-id`` metadata header, else a new 32-hex trace id. Any id of 1-64
printable ASCII characters is accepted and echoed verbatim; its OpenTelemetry
trace id is the id itself when it is 32 hex digits, else
``sha256("voicecore-trace:" + id)[:16]`` (see :mod:`core.tracing`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import grpc
from opentelemetry.trace import SpanKind

from bridge.errors import CallError
from core import tracing
from schemas import events

TRACE_ID_HEADER = "trace-id"
TRACEPARENT_HEADER = "traceparent"
_TRACEPARENT = re.compile(r"[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}.*")


def check_trace_id(value: str, name: str) -> str:
    """``value`` when it is a valid trace id (the schema's rule), else INVALID_ARGUMENT
    naming ``name``."""
    try:
        return events.check_trace_id(value)
    except ValueError as exc:
        raise CallError(grpc.StatusCode.INVALID_ARGUMENT, f"{name}: {exc}") from None


def resolve_trace_id(field: str, metadata: Mapping[str, str]) -> str:
    if field:
        return check_trace_id(field, "trace_id")
    parent = _TRACEPARENT.fullmatch(metadata.get(TRACEPARENT_HEADER, "").strip().lower())
    if parent and int(parent.group(1), 16) != 0:
        return parent.group(1)
    header = metadata.get(TRACE_ID_HEADER, "").strip()
    if header:
        return check_trace_id(header, "trace-id header")
    return tracing.new_trace_id()


@contextmanager
def server_span(name: str, trace_id: str, metadata: Mapping[str, str],
                service: str = "voicecore.v1.VoiceCore") -> Iterator[None]:
    """A SERVER span of ``service``'s method ``name``, continuing the caller's
    ``traceparent`` when it is the same trace."""
    headers = {TRACEPARENT_HEADER: metadata[TRACEPARENT_HEADER]} \
        if TRACEPARENT_HEADER in metadata else None
    with tracing.start_span(
        f"{service}/{name}",
        context=tracing.parent_context(trace_id, headers),
        kind=SpanKind.SERVER,
        attributes={"rpc.system": "grpc", "rpc.service": service,
                    "rpc.method": name, "voicecore.trace_id": trace_id},
    ):
        yield
