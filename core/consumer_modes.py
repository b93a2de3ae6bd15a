"""The two modes of :class:`core.consumer.PullConsumer`, and where an ordered one starts.

Streaming speech-to-text (a later issue) consumes one utterance's audio chunks in
order with one owner: an :class:`Ordered` consumer filtered on that utterance's
subject (ordered by construction, gap = re-create, one consumer per owner), or, when
the chunks must survive a crash of their owner, a :class:`Durable` with
``max_ack_pending=1`` granted ``credit=1``: one chunk in flight, in order, redelivered
to the next owner if this one dies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from nats.js import JetStreamContext, api
from nats.js.errors import NotFoundError

from core import subjects
from core.errors import nats_errors


@dataclass(frozen=True)
class StartAt:
    """Where an ordered consumer starts: after now (live only), a stream sequence, or a time."""

    sequence: int = 0
    time: dt.datetime | None = None

    def apply(self, config: api.ConsumerConfig, resume_after: int) -> None:
        """Set ``config``'s deliver policy; ``resume_after`` > 0 resumes after that sequence."""
        if resume_after or self.sequence:
            config.deliver_policy = api.DeliverPolicy.BY_START_SEQUENCE
            config.opt_start_seq = resume_after + 1 if resume_after else self.sequence
        elif self.time is not None:
            config.deliver_policy = api.DeliverPolicy.BY_START_TIME
            config.opt_start_time = self.time
        else:
            config.deliver_policy = api.DeliverPolicy.NEW


FROM_THE_START = StartAt(sequence=1)


@dataclass(frozen=True)
class Durable:
    """An existing durable consumer, acked by the caller; ``ensure`` (re)creates it when
    the server has lost it."""

    name: str
    ensure: Callable[[], Awaitable[object]] | None = None

    async def recover(self, js: JetStreamContext, stream: str) -> None:
        """Re-create the consumer if the server lost it (and we know how); raises
        :class:`~core.errors.BusError` while NATS is unreachable."""
        if self.ensure is None:
            return
        with nats_errors():
            try:
                await js.consumer_info(stream, self.name)
            except NotFoundError:
                await self.ensure()


@dataclass(frozen=True)
class Ordered:
    """An ephemeral consumer on ``filters``, no acks, re-created after the last sequence
    delivered whenever it is lost or a gap shows."""

    filters: tuple[str, ...]
    start: StartAt = FROM_THE_START
    prefix: str = subjects.STREAM_READER_PREFIX
    headers_only: bool = False

    def config(self, name: str, resume_after: int, expires_s: float) -> api.ConsumerConfig:
        config = api.ConsumerConfig(
            name=name, ack_policy=api.AckPolicy.NONE, mem_storage=True, num_replicas=1,
            inactive_threshold=max(30.0, 3 * expires_s), headers_only=self.headers_only or None)
        if len(self.filters) == 1:
            config.filter_subject = self.filters[0]
        else:
            config.filter_subjects = list(self.filters)
        self.start.apply(config, resume_after)
        return config
