"""One corpus of hostile and odd messages, run against every consumer of VC_EVENTS.

The worker, the event-log sink, StreamEvents and the log's CLI tools are each
tested against *all* of these (a body that breaks one of them must not reach the
next one untested). Every entry is a request for ``capture_email`` on its own
conversation ``h-<name>`` (except where the entry is about the subject itself), so a
test can look each one up by conversation.

``worker`` says what the worker must do with it:

* ``answered``: dead-lettered with a reason **and** answered ``capture_email.failed``
  (its envelope is readable, so a caller is waiting for it);
* ``silent``: dead-lettered with a reason, no answer (nothing says who would wait);
* ``processed``: a valid request, odd only in what it shows; it is executed.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from typing import Any, Literal

PRIMITIVE = "capture_email"
REQUEST_TYPE = f"{PRIMITIVE}.requested"
WorkerOutcome = Literal["answered", "silent", "processed"]

DEEP = 5000
"""Nesting depth of the bracket bombs (Python's recursion limit is 1000)."""
MARKUP_TRANSCRIPT = "[/] [bold]john[/bold] :x: [redacted] \x1b[31m at gmail dot com"
"""Rich markup, an emoji code, our own redaction marker and a terminal escape."""


@dataclass(frozen=True)
class Hostile:
    name: str
    body: bytes
    worker: WorkerOutcome
    subject: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def conversation_id(self) -> str:
        return f"h-{self.name}"

    @property
    def event_id(self) -> str:
        return event_id(self.name)

    def subject_or_default(self) -> str:
        return self.subject or f"vc.ev.{self.conversation_id}.{REQUEST_TYPE}"


def event_id(name: str) -> str:
    """The request id of entry ``name`` (stable across processes, unlike ``hash``)."""
    return f"0193a000-0000-7000-8000-{zlib.crc32(name.encode()):012d}"


def envelope(name: str, **overrides: Any) -> dict[str, Any]:
    """A valid ``capture_email.requested`` body for conversation ``h-<name>``."""
    body: dict[str, Any] = {
        "type": REQUEST_TYPE,
        "id": event_id(name),
        "conversation_id": f"h-{name}",
        "trace_id": f"hostile-{name}",
        "occurred_at": "2026-11-23T10:00:00Z",
        "producer": "hostile-test",
        "data": {"params": {"transcript": "john at gmail dot com"}},
    }
    body.update(overrides)
    return body


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


def _with_raw_data(name: str, raw: bytes, **overrides: Any) -> bytes:
    """The envelope with ``data`` replaced by ``raw`` bytes (which json.dumps cannot write)."""
    marker = "__RAW_DATA__"
    text = _json(envelope(name, data=marker, **overrides))
    return text.replace(json.dumps(marker).encode(), raw)


def _nested(depth: int) -> dict[str, Any]:
    """A JSON object ``depth`` levels deep."""
    nested: dict[str, Any] = {}
    for _ in range(depth - 1):
        nested = {"a": nested}
    return nested


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def corpus() -> list[Hostile]:
    return [
        Hostile("garbage", b"\x00\xffnot json at all", "silent"),
        Hostile("empty", b"", "silent"),
        Hostile("json_array", b"[1, 2, 3]", "silent"),
        Hostile("json_string", b'"just a string"', "silent"),
        Hostile("truncated", _json(envelope("truncated"))[:-7], "silent"),
        Hostile("deep_data", _with_raw_data("deep_data", _deep(DEEP)), "answered"),
        Hostile("deep_params",
                _with_raw_data("deep_params", b'{"params": ' + _deep(DEEP) + b"}"), "answered"),
        Hostile("deep_everywhere", _deep(DEEP), "silent"),
        Hostile("attempt_overflow", _json(envelope("attempt_overflow", attempt=2**31)),
                "silent"),
        Hostile("schema_version_overflow",
                _json(envelope("schema_version_overflow", schema_version=2**40)), "silent"),
        Hostile("negative_attempt", _json(envelope("negative_attempt", attempt=-1)), "silent"),
        Hostile("invalid_utf8_in_data",
                _with_raw_data("invalid_utf8_in_data",
                               b'{"params": {"transcript": "john\xff\xfe at gmail dot com"}}'),
                "answered"),
        Hostile("invalid_utf8_in_producer",
                _json(envelope("invalid_utf8_in_producer", producer="PRODUCER")).replace(
                    b'"PRODUCER"', b'"bad \xc3\x28 bytes"'), "silent"),
        Hostile("huge_id", _json(envelope("huge_id", id="i" * 100_000)), "silent"),
        Hostile("huge_purpose",
                _json(envelope("huge_purpose", data={
                    "params": {"transcript": "john at gmail dot com"},
                    "purpose": "p" * 200_000})), "answered"),
        Hostile("transcript_too_long",
                _json(envelope("transcript_too_long", data={
                    "params": {"transcript": "a" * 5000}})), "answered"),
        Hostile("null_occurred_at", _json(envelope("null_occurred_at", occurred_at=None)),
                "answered"),
        Hostile("year_9999", _json(envelope("year_9999", occurred_at="9999-12-31T23:59:59Z")),
                "processed"),
        Hostile("missing_data", _json({k: v for k, v in envelope("missing_data").items()
                                       if k != "data"}), "answered"),
        Hostile("unknown_type",
                _json(envelope("unknown_type", type="capture_email.exploded")), "silent",
                subject="vc.ev.h-unknown_type.capture_email.requested"),
        Hostile("conversation_mismatch",
                _json(envelope("conversation_mismatch", conversation_id="h-victim")), "silent"),
        Hostile("type_mismatch",
                _json(envelope("type_mismatch", type="capture_email.completed",
                               causation_id="0193a000-0000-7000-8000-000000000001",
                               data={"value": "forged@example.com", "confidence": 1.0,
                                     "needs_confirmation": False, "readback": "forged"})),
                "silent"),
        Hostile("header_type_mismatch", _json(envelope("header_type_mismatch")), "processed",
                headers={"Vc-Event-Type": "capture_email.completed"}),
        Hostile("markup_transcript",
                _json(envelope("markup_transcript", data={
                    "params": {"transcript": MARKUP_TRANSCRIPT}, "purpose": "[bold]x[/]"})),
                "processed"),
        Hostile("nul_in_transcript",
                _json(envelope("nul_in_transcript", data={
                    "params": {"transcript": "john\u0000 at gmail dot com"}})), "processed"),
        # Within the decode depth limit, but deeper than a google.protobuf.Struct that
        # protobuf parsers accept (they stop at 100 message levels, 3 per JSON object).
        Hostile("deep_below_limit",
                _json(envelope("deep_below_limit", data={
                    "params": {"transcript": "john at gmail dot com", "extra": _nested(50)}})),
                "processed"),
        # A JSON integer no float holds (a Struct number is a double).
        Hostile("huge_integer",
                _with_raw_data("huge_integer", b'{"params": {"transcript": "john at gmail '
                               b'dot com", "extra": 1' + b"0" * 400 + b"}}"), "processed"),
        # Bigger than a gRPC client receives by default (4 MiB); NATS's default is 1 MB,
        # voicecore's embedded server allows 8 MB.
        Hostile("over_4_mib",
                _json(envelope("over_4_mib", data={
                    "params": {"transcript": "a" * (4_500_000)}})), "answered"),
    ]


def by_name(name: str) -> Hostile:
    return next(h for h in corpus() if h.name == name)
