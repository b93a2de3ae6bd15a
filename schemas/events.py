"""Every voicecore event: one envelope, one tagged union, one codec.

An event is a frozen ``msgspec.Struct`` whose JSON looks like::

    {"type": "capture_email.completed", "id": "0193…", "conversation_id": "c42",
     "trace_id": "…", "causation_id": "0193…", "occurred_at": "2026-11-23T16:39:27.1Z",
     "producer": "voicecore/worker@host:123", "schema_version": 1, "data": {…}}

``type`` is ``<source>.<event>`` and is the msgspec tag, so decoding picks the
right class and validates ``data`` against it in one pass.

Schema evolution rules (held by the golden files in ``tests/golden/``):

1. Additive only. Never rename, retype or remove a field, and never reuse a
   ``type`` tag for a different shape.
2. Every new field has a default, so events written before it still decode.
3. Readers ignore unknown fields, so older readers accept newer events.
4. A golden file, once committed, is never edited: a new shape gets a new file.
5. ``schema_version`` is bumped only for a change of the envelope itself; a
   reader treats any version it does not know as "newer, read what you can".

Primitives outside this module (plugins, tests) add their event classes with
:func:`register`; the decoder is rebuilt once after registration, not per call.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, TypeVar, Union

import msgspec

from schemas import ids
from schemas.capture_events import (
    CAPTURE_EVENTS,
    CaptureConfirmationCompleted,
    CaptureConfirmationFailed,
    CaptureConfirmationRequested,
    CaptureDateCompleted,
    CaptureDateFailed,
    CaptureDateRequested,
    CaptureEmailCompleted,
    CaptureEmailFailed,
    CaptureEmailRequested,
    CapturePhoneCompleted,
    CapturePhoneFailed,
    CapturePhoneRequested,
)
from schemas.conversation_events import (
    CONVERSATION_EVENTS,
    ConversationAbandoned,
    ConversationCompleted,
    ConversationHungUp,
    ConversationRequested,
    ConversationStarted,
    ObjectiveCompleted,
    ObjectiveFailed,
    ObjectiveStarted,
    PromptSpoken,
    TurnReceived,
)
from schemas.envelope import (
    CONVERSATION_ID_PATTERN,
    NAME_PATTERN,
    NAME_TOKEN,
    PRODUCER,
    SCHEMA_VERSION,
    TRACE_ID_PATTERN,
    ConversationId,
    Event,
    EventId,
    Producer,
    TraceId,
    type_of,
)
from schemas.limits import Int32, check_depth
from schemas.payloads import (
    Redaction,
)
from schemas.speech_events import (
    SPEECH_EVENTS,
    SynthesizeChunk,
    SynthesizeCompleted,
    SynthesizeFailed,
    SynthesizeRequested,
    TranscribeCompleted,
    TranscribeFailed,
    TranscribeRequested,
    TranscribeStreamChunk,
    TranscribeStreamCompleted,
    TranscribeStreamFailed,
    TranscribeStreamRequested,
)

__all__ = [  # noqa: RUF022 -- grouped: re-exported here, so events are imported from one place
    "CONVERSATION_ID_PATTERN",
    "NAME_PATTERN",
    "NAME_TOKEN",
    "PRODUCER",
    "SCHEMA_VERSION",
    "TRACE_ID_PATTERN",
    "ConversationId",
    "Event",
    "EventId",
    "Producer",
    "TraceId",
    "type_of",
    "CaptureEmailRequested",
    "CaptureEmailCompleted",
    "CaptureEmailFailed",
    "CapturePhoneRequested",
    "CapturePhoneCompleted",
    "CapturePhoneFailed",
    "CaptureConfirmationRequested",
    "CaptureConfirmationCompleted",
    "CaptureConfirmationFailed",
    "CaptureDateRequested",
    "CaptureDateCompleted",
    "CaptureDateFailed",
    "SynthesizeRequested",
    "SynthesizeChunk",
    "SynthesizeCompleted",
    "SynthesizeFailed",
    "TranscribeRequested",
    "TranscribeCompleted",
    "TranscribeFailed",
    "TranscribeStreamRequested",
    "TranscribeStreamChunk",
    "TranscribeStreamCompleted",
    "TranscribeStreamFailed",
    "ConversationRequested",
    "ConversationStarted",
    "ObjectiveStarted",
    "PromptSpoken",
    "TurnReceived",
    "ObjectiveCompleted",
    "ObjectiveFailed",
    "ConversationCompleted",
    "ConversationAbandoned",
    "ConversationHungUp",
]
"""Only the names this module takes from :mod:`schemas.envelope`,
:mod:`schemas.capture_events`, :mod:`schemas.speech_events` and
:mod:`schemas.conversation_events` (everything defined
here is importable as usual)."""

class EventlogRedacted(Event, frozen=True, kw_only=True, tag="eventlog.redacted"):
    """The event log's own record, appended to a conversation it redacted (voicecore never
    publishes it). What it means for a conversation is the fold's (``orchestrator.state``)."""

    data: Redaction


BUILTIN_EVENTS: tuple[type[Event], ...] = (
    *CAPTURE_EVENTS,
    EventlogRedacted,
    *SPEECH_EVENTS,
    *CONVERSATION_EVENTS,
)

# --- Registry and codec -----------------------------------------------------------

_registry: dict[str, type[Event]] = {type_of(c): c for c in BUILTIN_EVENTS}
_decoder: msgspec.json.Decoder[Any] | None = None
_encoder = msgspec.json.Encoder()


class EnvelopeOnly(msgspec.Struct, frozen=True, kw_only=True):
    """The envelope with ``data`` left undecoded: for events whose type is unknown here."""

    type: str
    id: EventId
    conversation_id: str
    trace_id: str = ""
    causation_id: EventId | None = None
    occurred_at: dt.datetime | None = None
    producer: Producer = ""
    schema_version: Int32 = SCHEMA_VERSION
    attempt: Int32 = 1
    data: msgspec.Raw = msgspec.Raw(b"null")


_envelope_decoder = msgspec.json.Decoder(EnvelopeOnly)


class NotAnEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An entry read back that is not an event: undecodable, quarantined, or a body that
    disagrees with its subject. It counts as an entry, never as what it claims to be."""

    at: dt.datetime | None = None
    """When it was logged as having occurred, where the log has a time for it."""


ReadBack = Event | EnvelopeOnly | NotAnEvent
"""One entry of a conversation read back (from the event log, or live): the typed event
where its type is registered here, else its envelope with ``data`` raw, else not an event."""


def register(*classes: type[Event]) -> None:
    """Add event classes to the union (plugins). Re-registering the same class is a no-op."""
    global _decoder
    for cls in classes:
        tag = type_of(cls)
        known = _registry.get(tag)
        if known is not None and known is not cls:
            raise ValueError(f"event type {tag!r} is already registered to {known.__name__}")
        _registry[tag] = cls
    _decoder = None


def event_classes() -> tuple[type[Event], ...]:
    return tuple(_registry.values())


def event_union() -> Any:
    return Union[tuple(_registry.values())]  # noqa: UP007 -- built at run time


def encode(event: Event) -> bytes:
    return _encoder.encode(event)


def decode(body: bytes) -> Event:
    """Decode and validate one event; raises ``msgspec.DecodeError``/``ValidationError``.

    A body nested deeper than :data:`schemas.limits.MAX_DEPTH` is a ``DecodeError``
    (:class:`schemas.limits.TooDeep`), never a ``RecursionError``.
    """
    global _decoder
    if _decoder is None:
        _decoder = msgspec.json.Decoder(event_union())
    check_depth(body)
    event: Event = _decoder.decode(body)
    return event


def decode_envelope(body: bytes) -> EnvelopeOnly:
    """Decode only the envelope (any ``type``); raises like :func:`decode`."""
    check_depth(body)
    return _envelope_decoder.decode(body)


def check_trace_id(trace_id: str) -> str:
    """``trace_id`` if it is a valid :data:`TraceId`, else ``ValueError`` (not echoing it)."""
    if re.fullmatch(TRACE_ID_PATTERN, trace_id) is None:
        raise ValueError("trace id must be 1-64 printable ASCII characters")
    return trace_id


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


E = TypeVar("E", bound=Event)


def new_event(
    cls: type[E],
    *,
    conversation_id: str,
    trace_id: str,
    data: Any,
    causation_id: str | None = None,
    event_id: str | None = None,
    attempt: int = 1,
) -> E:
    """Build an event with a fresh UUIDv7 (or the given id), the current UTC time and producer."""
    return cls(
        id=event_id or ids.uuid7(),
        conversation_id=conversation_id,
        trace_id=trace_id,
        causation_id=causation_id,
        occurred_at=now(),
        producer=PRODUCER,
        attempt=attempt,
        data=data,
    )
