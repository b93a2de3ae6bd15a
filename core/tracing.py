"""OpenTelemetry at the bus edge: trace ids, ``traceparent`` headers, messaging spans.

Every event carries a ``trace_id`` string. Its OpenTelemetry trace id is:

* the id itself when it is 32 hex digits (a W3C trace id, not all zeros);
* otherwise the first 16 bytes of ``sha256("voicecore-trace:" + trace_id)``, so a
  caller's own id (``test-trace-123``) maps to the same OTel trace everywhere.

Spans are always created through an SDK ``TracerProvider`` (the API's no-op
tracer would drop the context we need to propagate). Exporting is opt-in:
``VOICECORE_TRACE_EXPORTER=console`` or ``otlp`` (standard ``OTEL_EXPORTER_OTLP_*``
variables apply; needs the ``voicecore[otlp]`` extra). With no exporter, spans are
not *recorded* (a recorded span costs ~100 µs per event here), but trace ids and
``traceparent`` still propagate exactly the same way: :func:`start_span` then makes the
SDK's non-recording span itself, at a fifth of the SDK's cost (2 vs 9.5 µs; a worker
opens two spans per request).
"""

from __future__ import annotations

import functools
import hashlib
import os
import random
import re
import secrets
from collections.abc import Mapping, MutableMapping
from contextlib import AbstractContextManager
from contextvars import Token
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, Sampler, SamplingResult
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from core.errors import ConfigError

_W3C_TRACE_ID = re.compile(r"[0-9a-fA-F]{32}")
_PLAIN_TRACEPARENT = re.compile(r"00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")
_propagator = TraceContextTextMapPropagator()
_provider: TracerProvider | None = None
_tracer: trace.Tracer | None = None

PRODUCER = SpanKind.PRODUCER
CONSUMER = SpanKind.CONSUMER


class _RecordWhenExporting(Sampler):
    """Records spans only once something exports them; context propagates either way."""

    recording = False

    def should_sample(self, *args: Any, **kwargs: Any) -> SamplingResult:
        chosen = ALWAYS_ON if self.recording else ALWAYS_OFF
        return chosen.should_sample(*args, **kwargs)

    def get_description(self) -> str:
        return f"RecordWhenExporting(recording={self.recording})"


_sampler = _RecordWhenExporting()


def provider() -> TracerProvider:
    """The process's SDK provider, installed on first use (exporter from the environment)."""
    global _provider
    if _provider is None:
        _provider = TracerProvider(sampler=_sampler)
        exporter = os.environ.get("VOICECORE_TRACE_EXPORTER", "none").strip().lower()
        processor = _exporting_processor(exporter)
        if processor is not None:
            add_span_processor(processor)
        trace.set_tracer_provider(_provider)
    return _provider


def add_span_processor(processor: SpanProcessor) -> None:
    """Export spans through ``processor`` (and start recording them)."""
    provider().add_span_processor(processor)
    _sampler.recording = True


def _exporting_processor(name: str) -> SpanProcessor | None:
    if name in ("", "none"):
        return None
    if name == "console":
        return BatchSpanProcessor(ConsoleSpanExporter())
    if name == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        except ImportError as exc:
            raise ConfigError("OTLP export needs: pip install 'voicecore[otlp]'") from exc
        return BatchSpanProcessor(OTLPSpanExporter())
    raise ConfigError(f"VOICECORE_TRACE_EXPORTER={name!r}: use none, console or otlp")


def tracer() -> trace.Tracer:
    global _tracer
    if _tracer is None:  # get_tracer is costly (it builds an InstrumentationScope): once
        _tracer = provider().get_tracer("voicecore")
    return _tracer


def new_trace_id() -> str:
    return secrets.token_hex(16)


def recording() -> bool:
    """Whether spans are recorded (something exports them): else their attributes are
    dropped unread, and callers need not build them."""
    return _sampler.recording


@functools.lru_cache(maxsize=4096)  # a worker maps each event's trace id twice
def otel_trace_id(trace_id: str) -> int:
    if _W3C_TRACE_ID.fullmatch(trace_id) and int(trace_id, 16) != 0:
        return int(trace_id, 16)
    digest = hashlib.sha256(f"voicecore-trace:{trace_id}".encode()).digest()
    return int.from_bytes(digest[:16], "big") or 1


def inject(headers: MutableMapping[str, str]) -> None:
    """Write the current span's ``traceparent`` (and ``tracestate``) into ``headers``: what
    the W3C propagator writes, formatted here when there is no trace state (a third of its
    cost; a worker injects once per request)."""
    span = trace.get_current_span().get_span_context()
    if span.is_valid and not span.trace_state:
        headers["traceparent"] = (
            f"00-{span.trace_id:032x}-{span.span_id:016x}-{span.trace_flags:02x}")
    else:
        _propagator.inject(headers)


def inject_unrecorded_child(headers: MutableMapping[str, str], trace_id: str) -> None:
    """What :func:`inject` writes inside an unrecorded ``start_span(…,
    context=parent_context(trace_id))``, without making the span: the parent's trace id
    and trace state, a new span id, the parent's flags but "sampled" (a publish's span
    records nothing, so only its ``traceparent`` is seen; a worker publishes per request)."""
    wanted = otel_trace_id(trace_id)
    parent = trace.get_current_span().get_span_context()
    if parent.trace_id != wanted or not parent.is_valid:  # parent_context's own remote parent
        flags, state = 0, None
    else:
        flags, state = parent.trace_flags & TraceFlags.RANDOM_TRACE_ID, parent.trace_state
    headers["traceparent"] = f"00-{wanted:032x}-{_span_id():016x}-{flags:02x}"
    if state:
        headers["tracestate"] = state.to_header()


def parent_context(trace_id: str, headers: Mapping[str, str] | None = None) -> otel_context.Context:
    """The context to start a span in, for an event with ``trace_id``.

    Continues ``traceparent`` from ``headers`` (or the current span) when it belongs
    to the same trace; otherwise starts from a remote parent on the mapped trace id,
    so the OTel trace id always matches the event's ``trace_id``.
    """
    wanted = otel_trace_id(trace_id)
    if headers and (extracted := _remote_parent(headers, wanted)) is not None:
        return extracted
    current = otel_context.get_current()
    if trace.get_current_span(current).get_span_context().trace_id == wanted:
        return current
    remote = SpanContext(
        trace_id=wanted,
        span_id=_span_id(),
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED if _sampler.recording else TraceFlags.DEFAULT),
    )
    return trace.set_span_in_context(NonRecordingSpan(remote))


def _remote_parent(headers: Mapping[str, str], wanted: int) -> otel_context.Context | None:
    """The W3C propagator's ``extract`` of ``headers`` when it is on trace ``wanted``.

    Its common case, a plain version-00 ``traceparent`` and no ``tracestate``, is parsed
    here at a fifth of the propagator's cost (a worker extracts once per request); anything
    else goes to the propagator itself.
    """
    traceparent = headers.get("traceparent")
    if not isinstance(traceparent, str):
        return None
    if "tracestate" in headers or not _PLAIN_TRACEPARENT.fullmatch(traceparent):
        ctx = _propagator.extract(headers)
        return ctx if trace.get_current_span(ctx).get_span_context().trace_id == wanted else None
    span_id = int(traceparent[36:52], 16)
    if int(traceparent[3:35], 16) != wanted or not span_id:
        return None
    remote = SpanContext(trace_id=wanted, span_id=span_id, is_remote=True,
                         trace_flags=TraceFlags(int(traceparent[53:], 16)))
    return trace.set_span_in_context(NonRecordingSpan(remote), otel_context.Context())


def _span_id() -> int:
    """A random span id, as the SDK makes them (a span id needs no cryptographic source)."""
    return random.getrandbits(64) or 1


def start_span(name: str, *, context: otel_context.Context, kind: SpanKind,
               attributes: Mapping[str, Any] | None = None,
               ) -> AbstractContextManager[trace.Span]:
    """``tracer().start_as_current_span``: a child of the span in ``context``, current
    inside the ``with``. Unrecorded, it is what the SDK would make: a ``NonRecordingSpan``
    on the parent's trace id and trace state, not sampled, with a new span id."""
    parent = trace.get_current_span(context).get_span_context()
    if _sampler.recording or not parent.is_valid:
        return tracer().start_as_current_span(name, context=context, kind=kind,
                                              attributes=attributes)
    child = SpanContext(
        trace_id=parent.trace_id,
        span_id=_span_id(),
        is_remote=False,
        trace_flags=TraceFlags(parent.trace_flags & TraceFlags.RANDOM_TRACE_ID),
        trace_state=parent.trace_state,
    )
    return _Current(NonRecordingSpan(child))


class _Current(AbstractContextManager[trace.Span]):
    """``trace.use_span`` for a span that records nothing (so there is no error to record)."""

    def __init__(self, span: NonRecordingSpan) -> None:
        self._span = span
        self._token: Token[otel_context.Context] | None = None

    def __enter__(self) -> trace.Span:
        # Like use_span: the span goes into the *current* context, not the parent's.
        self._token = otel_context.attach(trace.set_span_in_context(self._span))
        return self._span

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            otel_context.detach(self._token)
