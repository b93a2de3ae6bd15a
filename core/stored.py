"""Reading what a stream holds now, first to last: the one pull consumer, ordered mode,
until the server says nothing more is pending. For bounded reads of a whole subject
(redaction's erasure, tests' assertions); live reads are StreamEvents' (bridge/reader.py).
And erasing what it holds: :func:`erase_message`, :func:`erase_subject`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from nats.aio.msg import Msg

from core import subjects
from core.bus import Bus
from core.consumer import Ordered, PullConsumer
from core.errors import BusError, nats_errors
from core.pullstatus import delivered

NO_MESSAGE = 10057
"""JetStream's error code for a sequence that holds no message (any more)."""


async def stored_messages(bus: Bus, stream: str, subject: str = ">", *,
                          headers_only: bool = False, credit: int = 500
                          ) -> AsyncIterator[Msg]:
    """Every message of ``stream`` on ``subject`` stored when the read starts, in stream
    order (``headers_only``: without their bodies). Raises :class:`~core.errors.BusError`."""
    consumer = PullConsumer(bus, Ordered((subject,), headers_only=headers_only),
                            credit=credit, reopen=False, stream=stream)
    await consumer.start()
    try:
        pending = consumer.initial_pending
        while pending:
            msg = await consumer.next()
            consumer.release()
            yield msg
            pending = delivered(msg.reply).pending
    finally:
        await consumer.stop()


async def erase_message(bus: Bus, stream: str, seq: int) -> None:
    """Secure-delete one message: nats-server overwrites it on disk."""
    subject = f"{subjects.JS_API}.STREAM.MSG.DELETE.{stream}"
    body = json.dumps({"seq": seq, "no_erase": False}).encode()
    with nats_errors():
        reply = await bus.nc.request(subject, body, timeout=10)
    answer = json.loads(reply.data)
    error = answer.get("error")
    if error and error.get("err_code") != NO_MESSAGE:  # gone already: expired, or erased
        raise BusError(f"JetStream refused to erase {stream} sequence {seq}: "
                       f"{error.get('description', error)}")


async def erase_subject(bus: Bus, stream: str, subject: str) -> int:
    """Secure-delete every message of ``stream`` on ``subject``; how many."""
    sequences = [delivered(msg.reply).stream_sequence
                 async for msg in stored_messages(bus, stream, subject, headers_only=True)]
    for seq in sequences:
        await erase_message(bus, stream, seq)
    return len(sequences)
