"""Subject, stream and header layout on NATS: the wire contract, in one place.

Subjects::

    vc.ev.<conversation_id>.<source>.<event>   every event (stream VC_EVENTS)
    vc.dlq.<primitive>                         dead-lettered requests (stream VC_DLQ)

so ``nats sub 'vc.ev.c42.>'`` shows one conversation and
``nats sub 'vc.ev.*.capture_email.>'`` one primitive across conversations.

Conversation ids must already be one subject token (``[A-Za-z0-9_-]{1,128}``);
anything else is rejected with :class:`InvalidConversationId` rather than
silently rewritten, so the id a caller chose is the id on the wire.
"""

from __future__ import annotations

import re

from core.errors import InvalidConversationId

EVENTS_STREAM = "VC_EVENTS"
DLQ_STREAM = "VC_DLQ"
EVENT_PREFIX = "vc.ev"
DLQ_PREFIX = "vc.dlq"

HEADER_MSG_ID = "Nats-Msg-Id"
HEADER_TRACEPARENT = "traceparent"
HEADER_TRACESTATE = "tracestate"
HEADER_EVENT_TYPE = "Vc-Event-Type"
HEADER_DLQ_REASON = "Vc-Dlq-Reason"
HEADER_DLQ_SUBJECT = "Vc-Dlq-Subject"
HEADER_DLQ_SEQUENCE = "Vc-Dlq-Stream-Sequence"
HEADER_DLQ_DELIVERIES = "Vc-Dlq-Deliveries"

_CONVERSATION_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


def check_conversation_id(conversation_id: str) -> str:
    if not _CONVERSATION_ID.fullmatch(conversation_id):
        raise InvalidConversationId(
            f"conversation id {conversation_id!r} is not a NATS subject token: "
            "use 1-128 of A-Z a-z 0-9 _ -"
        )
    return conversation_id


def check_name(name: str) -> str:
    """Primitive names are lowercase snake_case (they become subject tokens and consumer names)."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"primitive name {name!r} must match {_NAME.pattern}")
    return name


def event_subject(conversation_id: str, event_type: str) -> str:
    return f"{EVENT_PREFIX}.{check_conversation_id(conversation_id)}.{event_type}"


def conversation_filter(conversation_id: str) -> str:
    return f"{EVENT_PREFIX}.{check_conversation_id(conversation_id)}.>"


def requests_filter(primitive: str) -> str:
    return f"{EVENT_PREFIX}.*.{primitive}.requested"


def dlq_subject(primitive: str) -> str:
    return f"{DLQ_PREFIX}.{primitive}"


def consumer_name(primitive: str) -> str:
    return f"primitive_{primitive}"
