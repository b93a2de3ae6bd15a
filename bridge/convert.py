"""Conversions between protobuf messages and voicecore's Python/JSON values.

A stored message is only shown as an event when it reads as one: its envelope
decodes within the schema's bounds, its body agrees with its subject, and its
``data`` fits in a ``google.protobuf.Struct`` that every protobuf parser accepts
(and, for StreamEvents, the whole event in what a gRPC client receives by default).
Anything else is :class:`Unreadable`, with a bounded reason that never quotes the
message's content.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from google.protobuf import struct_pb2, timestamp_pb2

from bridge._proto import voice_core_pb2 as pb
from core import subjects
from schemas import events
from schemas.limits import check_depth

_MAX_SAFE_INT = 2**53
MAX_STRUCT_DEPTH = 32
"""Deepest JSON the bridge turns into a Struct. Each JSON object level costs three
protobuf message levels and protobuf parsers stop at 100, so from ~35 levels on a
client could not even parse the message it was sent."""
MAX_EVENT_BYTES = 1024 * 1024
"""Largest ``Event`` StreamEvents sends (NATS's default max payload; gRPC clients refuse
more than 4 MiB by default, and an event they cannot receive would end their stream)."""


class Unreadable(ValueError):
    """A stored message that is not an event the bridge can show (why, in one line)."""


def from_value(value: struct_pb2.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "number_value":
        number = value.number_value
        # Struct has only doubles: give integral numbers back as ints, so an ``int`` param
        # (e.g. ``fail_times: 2``) validates; msgspec accepts ints for ``float`` fields too.
        if number.is_integer() and abs(number) < _MAX_SAFE_INT:
            return int(number)
        return number
    if kind == "bool_value":
        return value.bool_value
    if kind == "struct_value":
        return from_struct(value.struct_value)
    if kind == "list_value":
        return [from_value(v) for v in value.list_value.values]
    return None


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    return {key: from_value(value) for key, value in struct.fields.items()}


def fill_struct(target: struct_pb2.Struct, data: Any) -> None:
    """Copy a JSON object (already plain ``dict``/``list``/scalars) into ``target``."""
    if isinstance(data, dict):
        target.update(data)
    elif data is not None:
        target.update({"value": data})


def set_timestamp(target: timestamp_pb2.Timestamp, when: dt.datetime | None) -> None:
    if when is not None:
        target.FromDatetime(when.astimezone(dt.UTC).replace(tzinfo=None))


def timestamp_to_datetime(ts: timestamp_pb2.Timestamp) -> dt.datetime:
    return ts.ToDatetime(tzinfo=dt.UTC)


def read_stored(subject: str, body: bytes) -> tuple[events.EnvelopeOnly, Any]:
    """The envelope and decoded ``data`` of a stored message; raises :class:`Unreadable`."""
    try:
        env = events.decode_envelope(body)
        check_depth(bytes(env.data), MAX_STRUCT_DEPTH)
        data = msgspec.json.decode(env.data)
    except msgspec.MsgspecError as exc:
        raise Unreadable(f"not a readable event: {_bounded(str(exc))}") from None
    mismatch = subjects.body_mismatch(subject, env.conversation_id, env.type)
    if mismatch is not None:
        raise Unreadable(mismatch)
    return env, data


def fill_data(target: struct_pb2.Struct, data: Any) -> None:
    """:func:`fill_struct` for stored data; :class:`Unreadable` when a Struct cannot hold it."""
    try:
        fill_struct(target, data)
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. a 400-digit integer
        raise Unreadable(f"data does not fit a google.protobuf.Struct: "
                         f"{type(exc).__name__}") from None


def event_message(subject: str, sequence: int, body: bytes) -> pb.Event:
    """The proto ``Event`` for one stored message; raises :class:`Unreadable`."""
    env, data = read_stored(subject, body)
    message = pb.Event(
        id=env.id,
        type=env.type,
        subject=subject,
        sequence=sequence,
        conversation_id=env.conversation_id,
        trace_id=env.trace_id,
        causation_id=env.causation_id or "",
    )
    try:
        set_timestamp(message.occurred_at, env.occurred_at)
    except (ValueError, OverflowError):
        raise Unreadable("occurred_at is outside google.protobuf.Timestamp's range") from None
    fill_data(message.data, data)
    size = message.ByteSize()
    if size > MAX_EVENT_BYTES:
        raise Unreadable(f"event is {size} bytes (StreamEvents sends at most {MAX_EVENT_BYTES})")
    return message


def _bounded(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
