"""The poison-message path: answer the caller if we can, copy the body to VC_DLQ, terminate.

A dead-lettered message keeps its original body byte for byte and its original
headers; the reason, original subject, stream sequence and delivery count are
added as ``Vc-Dlq-*`` headers, so ``nats stream view VC_DLQ`` explains itself.
Its ``Nats-Msg-Id`` is ``VC_EVENTS:<sequence>``: dead-lettering the same message
twice (a worker crashed in between) stores it once.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from nats.aio.msg import Msg

from core import subjects
from core.bus import Bus
from core.errors import BusError
from core.primitive import Primitive
from core.text import one_line
from schemas import events, ids, limits
from schemas.payloads import Failure

log = logging.getLogger(__name__)

_MAX_REASON = 800


async def dead_letter(
    bus: Bus,
    primitive: Primitive,
    *,
    body: bytes,
    headers: dict[str, str] | None,
    subject: str,
    stream_sequence: int,
    deliveries: int,
    reason: str,
) -> None:
    """Answer with ``<primitive>.failed`` when the envelope allows, then copy to the DLQ."""
    reason = one_line(reason, _MAX_REASON)  # a header value: one line, escaped, short
    await answer_failure(bus, primitive, subject, body, reason, deliveries)
    dlq_headers = {k: v for k, v in (headers or {}).items() if k != subjects.HEADER_MSG_ID}
    dlq_headers.update(
        {
            subjects.HEADER_MSG_ID: f"{subjects.EVENTS_STREAM}:{stream_sequence}",
            subjects.HEADER_DLQ_REASON: reason,
            subjects.HEADER_DLQ_SUBJECT: subject,
            subjects.HEADER_DLQ_SEQUENCE: str(stream_sequence),
            subjects.HEADER_DLQ_DELIVERIES: str(deliveries),
        }
    )
    await bus.publish_raw(subjects.dlq_subject(primitive.name), body, dlq_headers)
    log.warning("dead-lettered %s seq=%d: %s", primitive.name, stream_sequence, reason)


async def answer_failure(
    bus: Bus, primitive: Primitive, subject: str, body: bytes, reason: str, deliveries: int
) -> None:
    """Publish ``failed`` for a request whose envelope is readable, so no caller waits forever.

    Only a request that agrees with its subject is answered: the answer goes to the
    conversation the body names, and a body naming another conversation than its
    subject must not be able to put a result into that one.
    """
    envelope = _readable_request(primitive, subject, body)
    if envelope is None:
        return
    code = "PRIMITIVE_FAILED" if reason.startswith("max deliveries") else "INVALID_PARAMS"
    failure = events.new_event(
        primitive.failed,
        conversation_id=envelope.conversation_id,
        trace_id=envelope.trace_id,
        causation_id=envelope.id,
        event_id=ids.derive_id(envelope.id, "result"),
        attempt=deliveries,
        data=Failure(code=code, message=reason, retryable=False),
    )
    try:
        await bus.publish(failure)
    except BusError as exc:  # the DLQ copy below still keeps the request
        log.warning("could not answer dead-lettered request %s: %s", envelope.id, exc)


def _readable_request(primitive: Primitive, subject: str, body: bytes) -> Any:
    try:  # a bracket bomb in ``data`` leaves the envelope readable
        envelope = events.decode_envelope(limits.flatten_too_deep(body))
        subjects.check_conversation_id(envelope.conversation_id)
        events.check_trace_id(envelope.trace_id)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError):
        return None
    if envelope.type != events.type_of(primitive.requested):
        return None
    if subjects.body_mismatch(subject, envelope.conversation_id, envelope.type) is not None:
        return None
    return envelope


def exhausted_advisory_subject(primitive: Primitive) -> str:
    consumer = subjects.consumer_name(primitive.name)
    return subjects.max_deliveries_advisory(subjects.EVENTS_STREAM, consumer)


async def on_exhausted(bus: Bus, primitive: Primitive, advisory: Msg) -> None:
    """JetStream gave up on a request (every delivery died unacked, e.g. the worker was killed).

    The request is answered with ``PRIMITIVE_FAILED`` and copied to the DLQ, so neither the
    caller nor the record is left hanging. Workers listen in one queue group: one handles it.
    """
    try:
        info = msgspec.json.decode(advisory.data)
        sequence, deliveries = int(info["stream_seq"]), int(info["deliveries"])
        stored = await bus.js.get_msg(subjects.EVENTS_STREAM, sequence)
    except Exception as exc:  # an advisory we cannot act on is logged, never fatal
        log.warning("max-deliveries advisory not handled: %s", exc)
        return
    await dead_letter(
        bus,
        primitive,
        body=stored.data or b"",
        headers=stored.headers,
        subject=stored.subject or "",
        stream_sequence=sequence,
        deliveries=deliveries,
        reason=f"max deliveries ({deliveries}) exhausted without an ack",
    )
