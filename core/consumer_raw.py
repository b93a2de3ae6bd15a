"""The one pull consumer (:mod:`core.consumer`) with deliveries straight from the parser."""

from __future__ import annotations

import functools

from nats.aio.subscription import Subscription

from core import natspub, natsraw
from core.consumer import BasePullConsumer
from core.errors import nats_errors

# What nats-py's ``Msg`` sends to a delivery's reply subject (an ack is an empty body).
_ACK, _NAK, _IN_PROGRESS, _TERM = b"", b"-NAK", b"+WPI", b"+TERM"


class RawPullConsumer(BasePullConsumer[natsraw.RawMsg]):
    """Deliveries as :class:`~core.natsraw.RawMsg` straight from the connection's parser
    (no ``Msg``, no header parsing, no task hop per message): the event-log sink's and the
    worker's mode, a fifth of the sink's CPU per event less (README, Event log, Measured;
    the runs in benchmarks/HISTORY.md). Acknowledgements are the consumer's methods, with
    the bytes nats-py's ``Msg.ack``/``nak``/``in_progress``/``term`` send; NATS errors
    become :class:`~core.errors.BusError`."""

    async def _subscribe(self, inbox: str) -> Subscription:
        return await natsraw.subscribe(self.bus.nc, inbox,
                                       functools.partial(self._on_message, inbox))

    async def ack(self, msg: natsraw.RawMsg) -> None:
        """Ack ``msg`` (with ``AckPolicy.ALL``: it and every delivery before it)."""
        await self._acknowledge(msg, _ACK)

    async def nak(self, msg: natsraw.RawMsg, delay_s: float = 0.0) -> None:
        """Ask for ``msg`` again, after ``delay_s`` (0: at once)."""
        delay = f' {{"delay": {int(delay_s * 10**9)}}}'.encode() if delay_s else b""
        await self._acknowledge(msg, _NAK + delay)

    async def in_progress(self, msg: natsraw.RawMsg) -> None:
        """Reset ``msg``'s ack timer: still being worked on (may be sent many times)."""
        await self._acknowledge(msg, _IN_PROGRESS)

    async def term(self, msg: natsraw.RawMsg) -> None:
        """Never deliver ``msg`` again."""
        await self._acknowledge(msg, _TERM)

    async def _acknowledge(self, msg: natsraw.RawMsg, body: bytes) -> None:
        with nats_errors():
            await natspub.publish(self.bus.nc, msg.reply, body)
