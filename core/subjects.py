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
            f"conversation id {preview(conversation_id)} is not a NATS subject token: "
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


def preview(text: str, limit: int = 64) -> str:
    """``repr`` of untrusted text, cut to ``limit`` characters: never echo unbounded input."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def dlq_subject(primitive: str) -> str:
    return f"{DLQ_PREFIX}.{primitive}"


def consumer_name(primitive: str) -> str:
    return f"primitive_{primitive}"
