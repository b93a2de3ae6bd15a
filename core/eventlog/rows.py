"""How a stream message becomes a row of ``log_events``: an event, or a quarantined message.

The log takes every message of the stream. A message is stored as an **event**
when its envelope decodes within the bounds every reader applies
(:mod:`schemas.limits`: nesting depth, 32-bit counters, id lengths), its ``data``
is UTF-8, its id is not one the log reserves, and its body agrees with its subject
(:func:`core.subjects.body_mismatch`). Anything else is stored **quarantined**, so
it can never stop the log and is never taken for what it claims to be:

* ``quarantine_reason`` says why (bounded; it never quotes the body's values);
* ``raw`` holds the body, byte for byte recoverable with :func:`raw_body`;
* ``subject`` and ``headers`` are as received; ``conversation_id``, ``type``,
  ``source`` and ``kind`` are what the *subject* says (the routing key every
  JetStream filter used), never what the rejected body claims;
* ``id`` is ``quarantined-<stream sequence>``, ``data`` is ``null``, ``occurred_at``
  is NULL, ``trace_id`` and ``producer`` are empty, ``attempt`` and
  ``schema_version`` are 0.

Both hash chains cover quarantined rows like any other (the reason included).
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import msgspec

from core import subjects
from schemas import events

QUARANTINE_ID_PREFIX = "quarantined-"
"""Ids of quarantined rows; an event claiming such an id is quarantined itself."""
RAW_BASE64 = "base64:"
REASON_MAX = 300

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


def epoch_us(at: dt.datetime | None) -> int | None:
    if at is None:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return (at - _EPOCH) // _MICROSECOND


def raw_text(body: bytes) -> str:
    """``body`` as the ``raw`` column holds it: the text itself when it is UTF-8.

    Any other body, and UTF-8 text that itself starts with ``base64:``, is held as
    ``base64:<the bytes in base64>``, so :func:`raw_body` gives back every body exactly.
    """
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return RAW_BASE64 + base64.b64encode(body).decode()
    if text.startswith(RAW_BASE64):
        return RAW_BASE64 + base64.b64encode(body).decode()
    return text


def raw_body(raw: str) -> bytes:
    """The body bytes of a ``raw`` value (the inverse of :func:`raw_text`)."""
    if raw.startswith(RAW_BASE64):
        return base64.b64decode(raw[len(RAW_BASE64):])
    return raw.encode()


def row_from_message(seq: int, subject: str, body: bytes,
                     headers: dict[str, str] | None) -> dict[str, Any]:
    """A row without position and hashes (the writer adds those); never raises."""
    headers_json = headers_text(headers)
    try:
        env = events.decode_envelope(body)
        data = bytes(env.data).decode()
    except msgspec.DecodeError as exc:  # also a body nested too deep (schemas.limits.TooDeep)
        return quarantined_row(seq, subject, body, headers_json, f"undecodable: {exc}")
    except UnicodeDecodeError as exc:
        return quarantined_row(seq, subject, body, headers_json,
                               f"data is not valid UTF-8 (byte {exc.start} of data)")
    except Exception as exc:  # a reader bug must not stop the log either
        return quarantined_row(seq, subject, body, headers_json,
                               f"unreadable: {type(exc).__name__}")
    reason = _rejection(subject, env)
    if reason is not None:
        return quarantined_row(seq, subject, body, headers_json, reason)
    source, _, kind = env.type.rpartition(".")
    return {
        "seq": seq, "sub": 0, "subject": subject, "id": env.id, "type": env.type,
        "source": source, "kind": kind, "conversation_id": env.conversation_id,
        "trace_id": env.trace_id, "causation_id": env.causation_id,
        "occurred_us": epoch_us(env.occurred_at), "producer": env.producer,
        "schema_version": env.schema_version, "attempt": env.attempt,
        "headers": headers_json, "data": data, "raw": None, "redacted_by": None,
        "quarantine_reason": None,
    }


def _rejection(subject: str, env: events.EnvelopeOnly) -> str | None:
    """Why a decodable envelope is still not stored as an event (``None``: it is)."""
    mismatch = subjects.body_mismatch(subject, env.conversation_id, env.type)
    if mismatch is not None:
        return f"subject and body disagree: {mismatch}"
    if env.id.startswith(QUARANTINE_ID_PREFIX):
        return f"event id starts with {QUARANTINE_ID_PREFIX!r}, reserved for quarantined rows"
    return None


def quarantined_row(seq: int, subject: str, body: bytes, headers_json: str,
                    reason: str) -> dict[str, Any]:
    """The row of a message that is not stored as an event (see the module docstring)."""
    tokens = subject.split(".", 3)
    conversation = tokens[2] if len(tokens) > 2 else ""
    type_ = tokens[3] if len(tokens) > 3 else "?"
    source, _, kind = type_.rpartition(".")
    return {
        "seq": seq, "sub": 0, "subject": subject, "id": f"{QUARANTINE_ID_PREFIX}{seq}",
        "type": type_, "source": source, "kind": kind, "conversation_id": conversation,
        "trace_id": "", "causation_id": None, "occurred_us": None, "producer": "",
        "schema_version": 0, "attempt": 0, "headers": headers_json, "data": "null",
        "raw": raw_text(body), "redacted_by": None,
        "quarantine_reason": _bounded(reason),
    }


def headers_text(headers: dict[str, str] | None) -> str:
    """The headers as JSON text (keys sorted); undecodable characters escaped, never lost."""
    try:
        return msgspec.json.encode(headers or {}, order="sorted").decode()
    except (UnicodeEncodeError, msgspec.EncodeError, TypeError):
        escaped = {_escaped(k): _escaped(v) for k, v in (headers or {}).items()}
        return msgspec.json.encode(escaped, order="sorted").decode()


def _escaped(value: object) -> str:
    return str(value).encode("utf-8", "backslashreplace").decode()


def _bounded(reason: str) -> str:
    reason = " ".join(reason.split())  # one line
    return reason if len(reason) <= REASON_MAX else reason[:REASON_MAX - 1] + "…"


def redaction_row(conversation_id: str, redaction_id: str, data: str, *, pos: int, seq: int,
                  sub: int, at_us: int) -> dict[str, Any]:
    """The row of the log's own :class:`~schemas.events.EventlogRedacted` record (``data``:
    its JSON), logged at stream sequence ``seq`` as sub-row ``sub`` ≥ 1."""
    type_ = events.type_of(events.EventlogRedacted)
    source, _, kind = type_.rpartition(".")
    return {
        "pos": pos, "seq": seq, "sub": sub,
        # not event_subject(): a quarantined row's conversation may be no valid id
        "subject": f"{subjects.EVENT_PREFIX}.{conversation_id}.{type_}",
        "id": redaction_id,
        "type": type_, "source": source, "kind": kind,
        "conversation_id": conversation_id, "trace_id": f"redaction-{redaction_id}",
        "causation_id": None, "occurred_us": at_us, "producer": "voicecore-eventlog",
        "schema_version": 1, "attempt": 1, "headers": "{}", "data": data, "raw": None,
        "redacted_by": None, "quarantine_reason": None,
    }


Incoming = tuple[int, str, bytes, dict[str, str] | None]
"""(stream sequence, subject, body, headers) of one message."""
