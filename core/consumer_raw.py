"""The one pull consumer (:mod:`core.consumer`) with deliveries straight from the parser."""

from __future__ import annotations

import functools

from nats.aio.subscription import Subscription

from core import natsraw
from core.consumer import BasePullConsumer
from core.errors import nats_errors


class RawPullConsumer(BasePullConsumer[natsraw.RawMsg]):
    """Deliveries as :class:`~core.natsraw.RawMsg` straight from the connection's parser
    (no ``Msg``, no header parsing, no task hop per message): the event-log sink's mode,
    a fifth of its CPU per event less (README, Event log, Measured; the runs in
    benchmarks/HISTORY.md)."""

    async def _subscribe(self, inbox: str) -> Subscription:
        return await natsraw.subscribe(self.bus.nc, inbox,
                                       functools.partial(self._on_message, inbox))

    async def ack(self, msg: natsraw.RawMsg) -> None:
        """Ack ``msg`` (with ``AckPolicy.ALL``: it and every delivery before it)."""
        with nats_errors():
            await self.bus.nc.publish(msg.reply)
