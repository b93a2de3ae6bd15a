"""Subject, stream and header layout on NATS: the wire contract, in one place.

Subjects::

    vc.ev.<conversation_id>.<source>.<event>   every event (stream VC_EVENTS); a primitive's
                                               parts before its result are <primitive>.chunk
                                               (e.g. vc.ev.c42.synthesize.chunk)
    vc.dlq.<primitive>                         dead-lettered requests (stream VC_DLQ)
    vc.replay.<conversation_id>.<type>         replayed conversations (stream VC_REPLAY)
    vc.presence.up.<primitive>                 a worker's announcement (core NATS)
    vc.presence.ping[.<primitive>]             "who serves it?" (core NATS, request)
    vc.audio.<conversation_id>.<stream_id>     one streamed utterance's raw audio chunks
                                               (stream VC_AUDIO_IN, core/audioin.py)
    vc.log.<log id>                            the running event log's service (core NATS)
    vc.log.<log id>.admin                      its verbs that change the log (redact)
    $O.VC_AUDIO.M.<base64url of the name>      an audio object's metadata (stream OBJ_VC_AUDIO)
    $O.VC_AUDIO.C.<nuid>                       its chunks (JetStream's object store layout)

so ``nats sub 'vc.ev.c42.>'`` shows one conversation and
``nats sub 'vc.ev.*.capture_email.>'`` one primitive across conversations.
Consumers on VC_EVENTS: ``primitive_<name>`` (workers, durable), ``eventlog_<log id>``
(the event-log sink, durable), ``vc_bridge_<uuid>`` (ordered and ephemeral: StreamEvents,
stored-result lookups, replay re-runs), ``orchestrator_requests`` (every orchestrator
process, durable, on ``vc.ev.*.conversation.requested``).
JetStream KV buckets: ``VC_LEASES`` (who drives a conversation), ``VC_CONVERSATIONS``
(conversations being driven): subjects ``$KV.<bucket>.<conversation id>``.

Conversation ids must already be one subject token (``[A-Za-z0-9_-]{1,128}``);
anything else is rejected with :class:`InvalidConversationId` rather than
silently rewritten, so the id a caller chose is the id on the wire. The patterns
themselves are the event schema's (:mod:`schemas.events`), defined there once.
"""

from __future__ import annotations

import base64
import re

from core.errors import InvalidConversationId, InvalidParams
from core.text import preview as preview  # the one bound on echoed input
from schemas.events import CONVERSATION_ID_PATTERN, NAME_PATTERN, NAME_TOKEN

EVENTS_STREAM = "VC_EVENTS"
DLQ_STREAM = "VC_DLQ"
REPLAY_STREAM = "VC_REPLAY"
AUDIO_IN_STREAM = "VC_AUDIO_IN"
"""Streamed audio chunks (raw bodies, envelope in headers): short-lived, not events."""
AUDIO_IN_PREFIX = "vc.audio"
AUDIO_BUCKET = "VC_AUDIO"
"""The JetStream object store of audio (core/audiostore.py); its stream is ``OBJ_VC_AUDIO``."""
OBJECT_PREFIX = "$O"
OBJECT_STREAM_PREFIX = "OBJ_"
AUDIO_STREAM = f"{OBJECT_STREAM_PREFIX}{AUDIO_BUCKET}"
EVENT_PREFIX = "vc.ev"
DLQ_PREFIX = "vc.dlq"
REPLAY_SUBJECT_PREFIX = "vc.replay"
"""Subjects of replayed events (not to be confused with the ``replay-`` conversation ids
of re-runs, ``orchestrator.replay.REPLAY_CONVERSATION_PREFIX``)."""
CHUNK_KIND = "chunk"
"""The event of a part of a result, published before it (``synthesize.chunk``)."""
ALL_CHUNKS = f"{EVENT_PREFIX}.*.*.{CHUNK_KIND}"
PRESENCE_PREFIX = "vc.presence"
PRESENCE_ANNOUNCE_ALL = f"{PRESENCE_PREFIX}.up.*"
PRESENCE_PING_ALL = f"{PRESENCE_PREFIX}.ping"
LOG_SERVICE_PREFIX = "vc.log"

LEASE_BUCKET = "VC_LEASES"
"""JetStream KV: who drives a conversation (key = conversation id, value = the owner);
entries expire with the bucket's TTL unless renewed (orchestrator/lease.py)."""
ACTIVE_BUCKET = "VC_CONVERSATIONS"
"""JetStream KV: conversations being driven (key = conversation id), deleted at their end:
a (re)started orchestrator adopts those whose lease expired."""
KV_PREFIX = "$KV"
KV_STREAM_PREFIX = "KV_"
ORCHESTRATOR_CONSUMER = "orchestrator_requests"
"""The durable consumer all orchestrator processes share on ``conversation.requested``."""
CONVERSATION_REQUESTED = "conversation.requested"
TURN_RECEIVED = "turn.received"
CONVERSATION_HUNG_UP = "conversation.hung_up"
CALLER_EVENTS = (CONVERSATION_REQUESTED, TURN_RECEIVED, CONVERSATION_HUNG_UP)
"""The event types the caller's side publishes (its NATS role's rights)."""
ORCHESTRATOR_EVENTS = ("conversation.started", "conversation.completed",
                       "conversation.abandoned", "objective.started", "objective.completed",
                       "objective.failed", "prompt.spoken")
"""The event types only the orchestrator publishes (its NATS role's rights)."""
PRIMITIVE_CONSUMER_PREFIX = "primitive_"
EVENTLOG_CONSUMER_PREFIX = "eventlog_"
"""Durable consumers of the event log sink (core/eventlog/sink.py) are named so."""
STREAM_READER_PREFIX = "vc_bridge_"
"""Ephemeral (ordered) consumers: StreamEvents, the bridge's stored-result lookups, and
replay's re-runs (core/consumer.py)."""

JS_API = "$JS.API"
JS_ACK = "$JS.ACK"

HEADER_MSG_ID = "Nats-Msg-Id"
HEADER_TRACEPARENT = "traceparent"
HEADER_TRACESTATE = "tracestate"
HEADER_EVENT_TYPE = "Vc-Event-Type"
HEADER_CONVERSATION = "Vc-Conversation"
HEADER_TRACE_ID = "Vc-Trace-Id"
HEADER_STREAM_SEQUENCE = "Vc-Stream-Seq"
"""A streamed audio chunk's position in its stream: 0, 1, 2, …"""
HEADER_STREAM_FINAL = "Vc-Stream-Final"
"""``1`` on a stream's last chunk (its body may be empty)."""
HEADER_DLQ_REASON = "Vc-Dlq-Reason"
HEADER_DLQ_SUBJECT = "Vc-Dlq-Subject"
HEADER_DLQ_SEQUENCE = "Vc-Dlq-Stream-Sequence"
HEADER_DLQ_DELIVERIES = "Vc-Dlq-Deliveries"

_CONVERSATION_ID = re.compile(CONVERSATION_ID_PATTERN)
_NAME = re.compile(NAME_PATTERN)
_EVENT_TYPE_FILTER = re.compile(rf"({NAME_TOKEN}|\*)\.({NAME_TOKEN}|\*)")


def check_conversation_id(conversation_id: str) -> str:
    if not _CONVERSATION_ID.fullmatch(conversation_id):
        raise InvalidConversationId(
            f"conversation id {preview(conversation_id)} is not a NATS subject token: "
            "use 1-128 of A-Z a-z 0-9 _ -"
        )
    return conversation_id


def check_name(name: str) -> str:
    """Primitive names are lowercase snake_case (they become subject tokens and consumer names)."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"primitive name {name!r} must match {NAME_TOKEN}")
    return name


def is_event_type_filter(text: str) -> bool:
    """``<source>.<event>``, each token a name or ``*`` (e.g. ``*.failed``)."""
    return _EVENT_TYPE_FILTER.fullmatch(text) is not None


def event_subject(conversation_id: str, event_type: str) -> str:
    return f"{EVENT_PREFIX}.{check_conversation_id(conversation_id)}.{event_type}"


def audio_in_subject(conversation_id: str, stream_id: str) -> str:
    """Where the chunks of stream ``stream_id`` of a conversation travel; a stream id is
    one subject token, like a conversation id (else :class:`InvalidParams`)."""
    if not _CONVERSATION_ID.fullmatch(stream_id):
        raise InvalidParams(f"stream id {preview(stream_id)} is not a NATS subject token: "
                            "use 1-128 of A-Z a-z 0-9 _ -")
    return f"{AUDIO_IN_PREFIX}.{check_conversation_id(conversation_id)}.{stream_id}"


def conversation_filter(conversation_id: str) -> str:
    return f"{EVENT_PREFIX}.{check_conversation_id(conversation_id)}.>"


def audio_in_filter(conversation_id: str) -> str:
    """Every streamed chunk of a conversation, whatever its stream (``VC_AUDIO_IN``)."""
    return f"{AUDIO_IN_PREFIX}.{check_conversation_id(conversation_id)}.>"


def requests_filter(primitive: str) -> str:
    return f"{EVENT_PREFIX}.*.{primitive}.requested"


def body_mismatch(subject: str, conversation_id: str, event_type: str) -> str | None:
    """Why a message's body disagrees with the subject it was published on (``None``: agrees).

    ``vc.ev.<conversation_id>.<type>`` is the routing key every filter and
    permission trusts, so a body naming another conversation or another type is
    a forgery or a bug: consumers reject it instead of believing either half.
    """
    prefix, _, rest = subject.partition(f"{EVENT_PREFIX}.")
    if prefix or not rest:
        return f"subject {preview(subject)} is not under {EVENT_PREFIX}."
    on_subject, _, type_on_subject = rest.partition(".")
    if on_subject != conversation_id:
        return (f"body names conversation {preview(conversation_id)} but the "
                f"subject's is {preview(on_subject)}")
    if type_on_subject != event_type:
        return (f"body is a {preview(event_type)} event but the subject says "
                f"{preview(type_on_subject)}")
    return None


def object_stream(bucket: str) -> str:
    """The stream of a JetStream object store's bucket."""
    return f"{OBJECT_STREAM_PREFIX}{bucket}"


def object_meta_subject(bucket: str, name: str) -> str:
    """The subject of an object's metadata in a JetStream object store (as nats-py and
    the ``nats`` CLI write it)."""
    token = base64.urlsafe_b64encode(name.encode()).decode()
    return f"{OBJECT_PREFIX}.{bucket}.M.{token}"


def object_name_of(meta_subject: str) -> str | None:
    """The object name a metadata subject encodes (``None``: not one)."""
    prefix, _, token = meta_subject.rpartition(".")
    if not prefix.startswith(f"{OBJECT_PREFIX}.") or not prefix.endswith(".M"):
        return None
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        return None


def object_chunks_subject(bucket: str, nuid: str) -> str:
    return f"{OBJECT_PREFIX}.{bucket}.C.{nuid}"


def object_metas(bucket: str) -> str:
    """Every object's metadata subject (one token each: base64url has no dot)."""
    return f"{OBJECT_PREFIX}.{bucket}.M.*"


def dlq_subject(primitive: str) -> str:
    return f"{DLQ_PREFIX}.{primitive}"


def consumer_name(primitive: str) -> str:
    return f"{PRIMITIVE_CONSUMER_PREFIX}{primitive}"


def events_of_type(event_type: str) -> str:
    """Every conversation's events of one type (``vc.ev.*.turn.received``)."""
    return f"{EVENT_PREFIX}.*.{event_type}"


def kv_stream(bucket: str) -> str:
    return f"{KV_STREAM_PREFIX}{bucket}"


def kv_keys(bucket: str) -> str:
    """Every key's subject of a JetStream KV bucket (``$KV.<bucket>.>``)."""
    return f"{KV_PREFIX}.{bucket}.>"


def replay_subject(conversation_id: str, event_type: str) -> str:
    return f"{REPLAY_SUBJECT_PREFIX}.{conversation_id}.{event_type}"


def announce_subject(primitive: str) -> str:
    return f"{PRESENCE_PREFIX}.up.{primitive}"


def ping_subject(primitive: str) -> str:
    return f"{PRESENCE_PREFIX}.ping.{primitive}"


def log_service_subject(log_id: str) -> str:
    return f"{LOG_SERVICE_PREFIX}.{log_id.replace('-', '')[:16]}"


def log_admin_subject(service_subject: str) -> str:
    """The service's subject for verbs that change the log: its own, so NATS permissions
    can keep the read-only identity from calling them."""
    return f"{service_subject}.admin"


def pull_request_subject(stream: str, consumer: str) -> str:
    """Where a pull consumer's requests for messages go (``$JS.API.CONSUMER.MSG.NEXT``)."""
    return f"{JS_API}.CONSUMER.MSG.NEXT.{stream}.{consumer}"


def acks_of(stream: str, consumer: str) -> str:
    """Where acks of ``consumer``'s messages go (``$JS.ACK.<stream>.<consumer>.…``)."""
    return f"{JS_ACK}.{stream}.{consumer}.>"


def max_deliveries_advisory(stream: str, consumer: str) -> str:
    """JetStream's advisory when a message of ``consumer`` ran out of deliveries."""
    return f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{stream}.{consumer}"
