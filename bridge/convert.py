"""Conversions between protobuf messages and voicecore's Python/JSON values."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from google.protobuf import struct_pb2, timestamp_pb2

from bridge._proto import voice_core_pb2 as pb
from schemas import events

_MAX_SAFE_INT = 2**53


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


def event_message(subject: str, sequence: int, body: bytes) -> pb.Event | None:
    """The proto ``Event`` for one stored message (``None`` when it is not an event)."""
    try:
        env = events.decode_envelope(body)
        data = msgspec.json.decode(env.data)
    except msgspec.MsgspecError:
        return None
    message = pb.Event(
        id=env.id,
        type=env.type,
        subject=subject,
        sequence=sequence,
        conversation_id=env.conversation_id,
        trace_id=env.trace_id,
        causation_id=env.causation_id or "",
    )
    set_timestamp(message.occurred_at, env.occurred_at)
    fill_struct(message.data, data)
    return message
