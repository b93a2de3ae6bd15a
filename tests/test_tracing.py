"""Unrecorded spans (no exporter): ``tracing.start_span`` makes what the SDK would make."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from core import tracing

W3C_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENTS = {
    "mapped trace id": ("test-trace-123", None),
    "w3c trace id": (W3C_TRACE, None),
    "traceparent with tracestate and the random flag": (
        W3C_TRACE, {"traceparent": f"00-{W3C_TRACE}-00f067aa0ba902b7-02",
                    "tracestate": "vendor=value"}),
}


@pytest.fixture
def unrecorded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracing._sampler, "recording", False)


Start = Callable[..., AbstractContextManager[trace.Span]]


def child_of(start: Start, trace_id: str, headers: dict[str, str] | None) -> tuple[
        trace.SpanContext, dict[str, str], bool]:
    """(span context, traceparent injected inside, recording?) of one span and its child."""
    with start(f"process {trace_id}", context=tracing.parent_context(trace_id, headers),
               kind=SpanKind.CONSUMER) as span:
        assert trace.get_current_span() is span
        with start("publish", context=tracing.parent_context(trace_id),
                   kind=SpanKind.PRODUCER) as inner:
            injected: dict[str, str] = {}
            tracing.inject(injected)
            assert inner.get_span_context().span_id != span.get_span_context().span_id
        assert trace.get_current_span() is span
    return span.get_span_context(), injected, span.is_recording()


@pytest.mark.parametrize("parent", PARENTS.values(), ids=PARENTS.keys())
def test_an_unrecorded_span_is_the_sdks_non_recording_span(
        unrecorded: None, parent: tuple[str, dict[str, str] | None]) -> None:
    before = trace.get_current_span()
    ours = child_of(tracing.start_span, *parent)
    sdk = child_of(tracing.tracer().start_as_current_span, *parent)
    assert trace.get_current_span() is before
    (ours_ctx, ours_headers, ours_recording), (sdk_ctx, sdk_headers, sdk_recording) = ours, sdk
    assert not ours_recording and not sdk_recording
    for field in ("trace_id", "trace_flags", "trace_state", "is_remote"):
        assert getattr(ours_ctx, field) == getattr(sdk_ctx, field), field
    assert ours_headers.keys() == sdk_headers.keys()
    assert ours_headers.get("tracestate") == sdk_headers.get("tracestate")
    version, trace_hex, _, flags = ours_headers["traceparent"].split("-")
    assert [version, trace_hex, flags] == [
        sdk_headers["traceparent"].split("-")[i] for i in (0, 1, 3)]
    assert int(trace_hex, 16) == tracing.otel_trace_id(parent[0])


def test_an_exception_inside_an_unrecorded_span_restores_the_context(unrecorded: None) -> None:
    before = trace.get_current_span()
    with pytest.raises(ValueError, match="boom"), tracing.start_span(
            "process", context=tracing.parent_context("t"), kind=SpanKind.CONSUMER):
        raise ValueError("boom")
    assert trace.get_current_span() is before


SPAN = "00f067aa0ba902b7"
HEADERS = {
    "plain, sampled": {"traceparent": f"00-{W3C_TRACE}-{SPAN}-01"},
    "plain, not sampled": {"traceparent": f"00-{W3C_TRACE}-{SPAN}-00"},
    "sampled, random trace id": {"traceparent": f"00-{W3C_TRACE}-{SPAN}-03"},
    "with tracestate": {"traceparent": f"00-{W3C_TRACE}-{SPAN}-01", "tracestate": "k=v"},
    "upper-case hex": {"traceparent": f"00-{W3C_TRACE.upper()}-{SPAN}-01"},
    "spaces around": {"traceparent": f" 00-{W3C_TRACE}-{SPAN}-01 "},
    "a later version, more fields": {"traceparent": f"01-{W3C_TRACE}-{SPAN}-01-extra"},
    "version 00, more fields": {"traceparent": f"00-{W3C_TRACE}-{SPAN}-01-extra"},
    "version ff": {"traceparent": f"ff-{W3C_TRACE}-{SPAN}-01"},
    "zero span id": {"traceparent": f"00-{W3C_TRACE}-{'0' * 16}-01"},
    "zero trace id": {"traceparent": f"00-{'0' * 32}-{SPAN}-01"},
    "another trace": {"traceparent": f"00-{'1' * 32}-{SPAN}-01"},
    "too short": {"traceparent": f"00-{W3C_TRACE}-{SPAN}"},
    "no traceparent": {"other": "x"},
}


@pytest.mark.parametrize("headers", HEADERS.values(), ids=HEADERS.keys())
def test_a_parent_read_from_headers_is_the_w3c_propagators(unrecorded: None,
                                                            headers: dict[str, str]) -> None:
    """parent_context parses the plain traceparent itself: what it continues is exactly
    what the propagator's extract gives (or, off the trace, a parent of its own)."""
    extracted = trace.get_current_span(
        TraceContextTextMapPropagator().extract(headers)).get_span_context()
    ours = trace.get_current_span(tracing.parent_context(W3C_TRACE, headers)).get_span_context()
    if extracted.trace_id == int(W3C_TRACE, 16):
        assert ours == extracted
        assert ours.trace_state == extracted.trace_state
    else:  # a remote parent on the event's trace, with a span id of its own
        assert ours.trace_id == int(W3C_TRACE, 16)
        assert ours.span_id not in (0, int(SPAN, 16))


@pytest.mark.parametrize("name", ["plain, sampled", "plain, not sampled", "with tracestate"])
def test_an_injected_traceparent_is_the_w3c_propagators(unrecorded: None, name: str) -> None:
    headers = HEADERS[name]
    with tracing.start_span("publish", context=tracing.parent_context(W3C_TRACE, headers),
                            kind=SpanKind.PRODUCER):
        ours: dict[str, str] = {}
        tracing.inject(ours)
        theirs: dict[str, str] = {}
        TraceContextTextMapPropagator().inject(theirs)
    assert ours == theirs
    assert ours["traceparent"].split("-")[1] == W3C_TRACE


@pytest.mark.parametrize("current", [None, *HEADERS.values()],
                         ids=["no current span", *HEADERS.keys()])
def test_an_unrecorded_childs_traceparent_is_the_one_its_span_would_carry(
        unrecorded: None, current: dict[str, str] | None) -> None:
    """Bus.publish writes the traceparent without the unrecorded span it would carry."""
    def published(write: Callable[[dict[str, str]], None]) -> dict[str, str]:
        headers: dict[str, str] = {}
        if current is None:
            write(headers)
            return headers
        with tracing.start_span("process", context=tracing.parent_context(W3C_TRACE, current),
                                kind=SpanKind.CONSUMER):
            write(headers)
        return headers

    def through_a_span(headers: dict[str, str]) -> None:
        with tracing.start_span("publish", context=tracing.parent_context(W3C_TRACE),
                                kind=SpanKind.PRODUCER):
            tracing.inject(headers)

    ours = published(lambda h: tracing.inject_unrecorded_child(h, W3C_TRACE))
    theirs = published(through_a_span)
    assert ours.keys() == theirs.keys()
    assert ours.get("tracestate") == theirs.get("tracestate")
    ours_parts, their_parts = ours["traceparent"].split("-"), theirs["traceparent"].split("-")
    assert [ours_parts[i] for i in (0, 1, 3)] == [their_parts[i] for i in (0, 1, 3)]
    assert int(ours_parts[2], 16) != 0 and ours_parts[2] != their_parts[2]  # a new span
