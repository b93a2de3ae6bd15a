"""The envelope every event shares, and the one definition of its ids and names.

:mod:`schemas.events` builds the union and the codec on top of it; the event classes
live by domain (captures and the log's own record there, speech in
:mod:`schemas.speech_events`), each a subclass of :class:`Event` with a typed ``data``.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from typing import Annotated, Any

import msgspec

from schemas.limits import Int32

SCHEMA_VERSION = 1

# Every pattern ends ``(?!\n)$``: msgspec matches with ``re.search``, where a bare ``$`` also
# matches before a trailing newline ("c42\n" passed); the lookahead means the same in
# JSON Schema's ECMA-262 regexes, where ``$`` alone would do.
CONVERSATION_ID_PATTERN = r"^[A-Za-z0-9_-]{1,128}(?!\n)$"
"""The one definition of a conversation id (``core.subjects`` checks ids with it too)."""
ConversationId = Annotated[str, msgspec.Meta(pattern=CONVERSATION_ID_PATTERN)]
"""One NATS subject token: letters, digits, ``_`` and ``-``, at most 128 characters."""
NAME_TOKEN = r"[a-z][a-z0-9_]{0,63}"
"""A primitive's name, and each of the two tokens of an event type ``<source>.<event>``."""
NAME_PATTERN = f"^{NAME_TOKEN}(?!\\n)$"
TRACE_ID_PATTERN = r"^[\x21-\x7e]{1,64}(?!\n)$"
"""The one definition of a trace id (the bridge checks the ids it is given with it too)."""
TraceId = Annotated[str, msgspec.Meta(pattern=TRACE_ID_PATTERN)]
"""Up to 64 printable ASCII characters; a 32-hex id is also the OpenTelemetry trace id."""
EventId = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
"""A UUIDv7 when voicecore made it; any 1-128 characters are accepted from elsewhere."""
Producer = Annotated[str, msgspec.Meta(max_length=256)]

PRODUCER = f"voicecore@{socket.gethostname()}:{os.getpid()}"


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """The envelope every event shares. Subclasses add a typed ``data`` and a tag."""

    id: EventId
    conversation_id: ConversationId
    trace_id: TraceId
    causation_id: EventId | None = None
    """Id of the event this one answers (a result names its request)."""
    occurred_at: dt.datetime
    producer: Producer = ""
    schema_version: Int32 = SCHEMA_VERSION
    attempt: Int32 = 1
    """On a result: which delivery of its request produced it (1 = first try)."""

    data: Any

    @property
    def event_type(self) -> str:
        return type_of(type(self))

    @property
    def source(self) -> str:
        return self.event_type.rsplit(".", 1)[0]


def type_of(cls: type[Event]) -> str:
    tag = cls.__struct_config__.tag
    assert isinstance(tag, str), f"{cls.__name__} has no type tag"
    return tag
