"""What a pull consumer's JetStream status messages and ack subjects mean, in one place.

A pull request (``$JS.API.CONSUMER.MSG.NEXT``) is answered with messages, and with
header-only *status* messages on the same inbox::

    100 Idle Heartbeat           the request is alive, nothing to deliver yet; it names
                                 the consumer's last delivery (Nats-Last-Consumer)
    404 No Messages              (no_wait requests only) the request is over
    408 Request Timeout          the request expired; Nats-Pending-Messages were not delivered
    409 Leadership Change        the request is over (the consumer moved); pull again
    409 Consumer Deleted         the consumer is gone: recreate it (or give up)
    409 Exceeded MaxWaiting, ... the request was refused or cut short; pull again

:func:`classify` turns one into what the consumer does about it; everything that
is not a heartbeat nor a plain end of a request is logged and counted by the
consumer (``core.ignoring.note_ignored``) with the server's description.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

STATUS = "Status"
DESCRIPTION = "Description"
PENDING_MESSAGES = "Nats-Pending-Messages"
LAST_CONSUMER = "Nats-Last-Consumer"


class Action(Enum):
    HEARTBEAT = "heartbeat"
    """The request is alive: nothing to do but note that the server is."""
    REQUEST_OVER = "request over"
    """A request ended; ``undelivered`` of its messages will not come (``None``: unknown)."""
    LOST = "lost"
    """The consumer is gone: recreate it (durable: re-ensure; ordered: from the last sequence)."""


@dataclass(frozen=True)
class Status:
    action: Action
    code: str
    description: str
    undelivered: int | None = None
    last_delivered: int | None = None
    """A heartbeat's consumer sequence of the last message the server delivered."""

    @property
    def noteworthy(self) -> bool:
        """Worth a log line and a count: anything but a heartbeat or a request expiring."""
        return self.action is Action.LOST or self.code not in ("100", "404", "408")


def classify(headers: dict[str, str]) -> Status:
    code = headers.get(STATUS, "")
    description = headers.get(DESCRIPTION, "")
    if code == "100":
        return Status(Action.HEARTBEAT, code, description,
                      last_delivered=_count(headers.get(LAST_CONSUMER)))
    if code == "409" and "consumer deleted" in description.lower():
        return Status(Action.LOST, code, description)
    return Status(Action.REQUEST_OVER, code, description, _count(headers.get(PENDING_MESSAGES)))


def _count(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


class Delivered(NamedTuple):
    """What a delivery's ack subject says (a third of the cost of nats-py's ``Msg.metadata``,
    which the worker paid per request)."""

    stream_sequence: int
    consumer_sequence: int
    pending: int
    """Messages still stored after this one for the consumer's filter (0 = caught up)."""
    deliveries: int


def delivered(reply: str) -> Delivered:
    """Parse ``$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>``
    (9 tokens) or the 12-token form (domain and account hash first, a random token last)."""
    tokens, at = _ack_tokens(reply)
    return Delivered(stream_sequence=int(tokens[at + 3]), consumer_sequence=int(tokens[at + 4]),
                     pending=int(tokens[at + 6]), deliveries=int(tokens[at + 2]))


def stream_sequence(reply: str) -> int:
    """Only the stream sequence of :func:`delivered` (the event-log sink's, per message)."""
    tokens, at = _ack_tokens(reply)
    return int(tokens[at + 3])


def _ack_tokens(reply: str) -> tuple[list[str], int]:
    """The ack subject's tokens, and where the stream's name is."""
    tokens = reply.split(".")
    if len(tokens) not in (9, 11, 12) or tokens[0] != "$JS" or tokens[1] != "ACK":
        raise ValueError(f"not a JetStream ack subject: {reply[:80]!r}")
    return tokens, 2 if len(tokens) == 9 else 4
