"""Bounds on every field of a call, checked before anything is published or subscribed.

A call outside them is refused with ``INVALID_ARGUMENT`` naming the field; the
message gives sizes, never the value (at most a :func:`core.subjects.preview`).
The string bounds are the event schema's own (``schemas/``), so a request the
bridge accepts is one every worker and reader accepts too.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any, get_args

import grpc
import msgspec
from google.protobuf import message as protobuf

from bridge import convert
from bridge._proto import voice_core_pb2 as pb
from bridge.errors import CallError
from bridge.tracecontext import check_trace_id
from core import subjects
from core.errors import InvalidConversationId
from schemas.limits import TooDeep, check_depth
from schemas.payloads import Purpose

MAX_MESSAGE_BYTES = 4 * 1024 * 1024
"""What the gRPC server receives at all (its default, made explicit): a bigger message is
refused by gRPC itself with RESOURCE_EXHAUSTED before any bridge code runs."""
MAX_REQUEST_BYTES = 64 * 1024
"""A whole ExecutePrimitive/StreamEvents request, serialized (unknown fields included)."""
MAX_OBJECTIVE_TYPE = 64
"""Primitive names are 1-64 characters (``core.subjects.check_name``)."""
MAX_PURPOSE: int = get_args(Purpose)[1].max_length
"""``Request.purpose`` in the schema: 1,000 characters."""
MAX_IDEMPOTENCY_KEY = 256
MAX_PARAMS_BYTES = 32 * 1024
"""``params`` serialized; a transcript (at most 4,000 characters) fits many times over."""
MAX_PARAMS_DEPTH = 16
"""``params`` as JSON nests at most this deep: well inside ``convert.MAX_STRUCT_DEPTH``,
so StreamEvents can show the request event itself."""
MAX_EVENT_TYPES = 32
EARLIEST_START = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST_START = dt.datetime(2262, 1, 1, tzinfo=dt.UTC)
"""nats-server turns a start time into int64 nanoseconds, which overflow after
2262-04-11: a later time (say 9999-12-31) wrapped round and replayed from the start."""

assert MAX_PARAMS_DEPTH < convert.MAX_STRUCT_DEPTH


class Malformed:
    """What the request deserializer gives instead of raising: the handler answers
    INVALID_ARGUMENT with ``reason`` (a deserializer exception would be UNKNOWN plus an
    ERROR traceback per request)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def parser(message_type: Any) -> Any:
    """A request deserializer for ``message_type`` that never raises."""
    name = message_type.DESCRIPTOR.full_name

    def parse(data: bytes) -> Any:
        try:
            return message_type.FromString(data)
        except protobuf.DecodeError as exc:
            why = "nested too deep" if "Depth" in str(exc) else "malformed"
            return Malformed(f"the request is not a valid {name} ({why})")

    return parse


def invalid(message: str) -> CallError:
    return CallError(grpc.StatusCode.INVALID_ARGUMENT, message)


def check_length(field: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise invalid(f"{field} is {len(value)} characters (the limit is {limit})")


def check_request_size(req: protobuf.Message) -> None:
    """Last, after the fields (so an over-long field is named): unknown fields count too."""
    size = req.ByteSize()
    if size > MAX_REQUEST_BYTES:
        raise invalid(f"the request is {size} bytes (the limit is {MAX_REQUEST_BYTES})")


def check_conversation(value: str, field: str = "conversation_id") -> str:
    try:
        return subjects.check_conversation_id(value)
    except InvalidConversationId as exc:
        raise invalid(f"{field}: {exc}") from None


def check_execute(req: pb.ExecutePrimitiveRequest) -> dict[str, Any]:
    """Every ExecutePrimitive field but ``trace_id`` (resolved with the metadata); the
    params as JSON values."""
    if not req.objective_type:
        raise invalid("objective_type is required")
    check_length("objective_type", req.objective_type, MAX_OBJECTIVE_TYPE)
    if req.conversation_id:
        check_conversation(req.conversation_id)
    check_length("idempotency_key", req.idempotency_key, MAX_IDEMPOTENCY_KEY)
    check_length("purpose", req.purpose, MAX_PURPOSE)
    if math.isnan(req.timeout_seconds):
        raise invalid("timeout_seconds is NaN (use 0 for the default)")
    params = checked_params(req)
    check_request_size(req)
    return params


def checked_params(req: pb.ExecutePrimitiveRequest) -> dict[str, Any]:
    size = req.params.ByteSize()
    if size > MAX_PARAMS_BYTES:
        raise invalid(f"params is {size} bytes (the limit is {MAX_PARAMS_BYTES})")
    params = convert.from_struct(req.params)  # protobuf's parser already bounded its depth
    try:
        check_depth(msgspec.json.encode(params), MAX_PARAMS_DEPTH)
    except TooDeep as exc:
        raise invalid(f"params: {exc}") from None
    return params


def check_stream(req: pb.StreamEventsRequest) -> None:
    """The StreamEvents filters that do not become subject filters (those are checked
    there); the request size is checked after all of them."""
    if req.trace_id:
        check_trace_id(req.trace_id, "trace_id")
    if len(req.event_types) > MAX_EVENT_TYPES:
        raise invalid(f"event_types has {len(req.event_types)} entries "
                      f"(the limit is {MAX_EVENT_TYPES})")
    if req.HasField("start_time") and req.start_sequence:
        raise invalid("give start_sequence or start_time, not both")


def start_time(req: pb.StreamEventsRequest) -> dt.datetime | None:
    if not req.HasField("start_time"):
        return None
    ts = req.start_time
    if not 0 <= ts.nanos < 1_000_000_000:
        raise invalid("start_time.nanos must be 0-999999999")
    if not EARLIEST_START.timestamp() <= ts.seconds < LATEST_START.timestamp():
        raise invalid(f"start_time must be from {EARLIEST_START:%Y-%m-%d} "
                      f"to before {LATEST_START:%Y-%m-%d}")
    return EARLIEST_START + dt.timedelta(seconds=ts.seconds, microseconds=ts.nanos // 1000)


_AT = re.compile(r"(.*?) - at `\$\.?(.*)`", re.S)
_MISSING = re.compile(r"Object missing required field `(.*)`")


def invalid_params(exc: msgspec.ValidationError, params: Mapping[str, Any]) -> str:
    """msgspec's message with the path as the field (``params.transcript``), bounded.

    msgspec may quote the bad value (``Invalid enum value '…'``); that part is cut.
    """
    text, path = str(exc), ""
    at = _AT.fullmatch(text)
    if at:
        text, path = at.group(1), at.group(2)
    missing = _MISSING.fullmatch(text)
    if missing:
        field = ".".join(p for p in (path, missing.group(1)) if p)
        hint = " (params arrived empty: is it a google.protobuf.Struct? in JavaScript " \
            "write {fields: {name: {stringValue: '...'}}})" if not params else ""
        return f"{field} is required{hint}"
    text = text if len(text) <= 100 else text[:100] + "…"
    return f"{path}: {text}" if path else text
