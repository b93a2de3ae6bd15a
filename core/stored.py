"""Reading what a stream holds now, first to last: the one pull consumer, ordered mode,
until the server says nothing more is pending. For bounded reads of a whole subject
(redaction's erasure, tests' assertions); live reads are StreamEvents' (bridge/reader.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from nats.aio.msg import Msg

from core.bus import Bus
from core.consumer import Ordered, PullConsumer
from core.pullstatus import delivered


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
