"""Publish a request event, await the result that answers it: the one correlator.

A result event's id is ``derive_id(request_id, "result")`` (the worker and the
dead-letter path both derive it) and travels in the ``Nats-Msg-Id`` header, so
a message is matched to its waiting call by a header lookup, without decoding the
bodies of other calls' results. A call registers *before* publishing its request
(:meth:`Correlator.expecting`) and is forgotten when it is answered, its deadline
passes, or it is cancelled: a late result finds no waiter and is ignored (it is
still an event in the stream).

The header is only a hint: a waiter registers with a ``read`` function that turns
the message into its answer, or ``None`` when the message is not really its result
(e.g. a forgery on another conversation's subject); then the waiter keeps waiting.

Where results come from is the caller's choice:

* :meth:`Correlator.subscribe`: core NATS subscriptions on result subjects (the
  bridge: every bridge sees every result and keeps only its own; a result stored
  while it was reconnecting is looked up in the stream afterwards);
* :meth:`Correlator.follow`: an ordered :class:`~core.consumer.PullConsumer` (replay:
  every message of the re-run's conversation, from the stream, none missed).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from nats.aio.client import Client as NATS
from nats.aio.subscription import Subscription

from core import natsraw, subjects
from core.consumer import PullConsumer
from core.errors import NATS_ERRORS, nats_errors
from core.ignoring import ignored
from core.natsraw import RawMsg

log = logging.getLogger(__name__)

T = TypeVar("T")
Reader = Callable[[str, bytes], Any]
"""``(subject, body) -> answer``, or ``None`` when the message is not the awaited result."""

RESULT_SUBJECTS = (f"{subjects.EVENT_PREFIX}.*.*.completed", f"{subjects.EVENT_PREFIX}.*.*.failed")


class Correlator:
    def __init__(self, nc: NATS) -> None:
        self.nc = nc
        self._waiting: dict[str, list[tuple[asyncio.Future[Any], Reader]]] = {}
        self._subs: list[Subscription] = []

    async def subscribe(self, on: tuple[str, ...] = RESULT_SUBJECTS) -> None:
        """Take results from core NATS subscriptions on ``on``."""
        with nats_errors():
            for subject in on:
                # Raw: each result straight from the parser, no Msg, queue or task hop per
                # message (every bridge receives every call's result).
                self._subs.append(await natsraw.subscribe(self.nc, subject, self._on_raw))
            await self.nc.flush()  # the server has our interest before any request is published

    async def follow(self, consumer: PullConsumer) -> None:
        """Take results from ``consumer`` (started by the caller) until cancelled."""
        while True:
            msg = await consumer.next()
            consumer.release()
            self.offer(msg.subject, msg.headers, msg.data)

    async def stop(self) -> None:
        """Unsubscribe; every call still waiting is cancelled."""
        for sub in self._subs:
            with ignored(log, "correlator: unsubscribe at stop (the connection may be "
                         "closing)", *NATS_ERRORS, level=logging.DEBUG):
                await natsraw.unsubscribe(self.nc, sub)
        self._subs.clear()
        for waiters in self._waiting.values():
            for fut, _ in waiters:
                fut.cancel()
        self._waiting.clear()

    @property
    def waiting(self) -> int:
        return sum(len(f) for f in self._waiting.values())

    def expect(self, result_id: str, read: Callable[[str, bytes], T | None]
               ) -> asyncio.Future[T]:
        """A future set to ``read(subject, body)`` of the first message with ``result_id``
        for which that is not ``None``; :meth:`forget` it when no longer waiting."""
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(result_id, []).append((fut, read))
        return fut

    def forget(self, result_id: str, fut: asyncio.Future[Any]) -> None:
        waiters = self._waiting.get(result_id)
        if waiters is None:
            return
        waiters[:] = [w for w in waiters if w[0] is not fut]
        if not waiters:
            del self._waiting[result_id]

    @contextmanager
    def expecting(self, result_id: str, read: Callable[[str, bytes], T | None]
                  ) -> Iterator[asyncio.Future[T]]:
        """:meth:`expect` for the block: forgotten (and cancelled if unanswered) on leaving it,
        whether answered, timed out, failed or cancelled."""
        fut = self.expect(result_id, read)
        try:
            yield fut
        finally:
            self.forget(result_id, fut)
            fut.cancel()

    def offer(self, subject: str, headers: dict[str, str] | None, body: bytes) -> None:
        """A message that may answer a waiting call."""
        if not headers:
            return
        result_id = headers.get(subjects.HEADER_MSG_ID, "")
        for fut, read in list(self._waiting.get(result_id, ())):
            if fut.done():
                continue
            answer = read(subject, body)
            if answer is not None:
                fut.set_result(answer)
                self.forget(result_id, fut)

    def _on_raw(self, msg: RawMsg) -> None:
        # Called inside the connection's read loop, which an exception would end: a reader's
        # bug is logged and counted, and that call keeps waiting (then times out).
        with ignored(log, "correlator: reading a result failed (its call keeps waiting)",
                     Exception, level=logging.ERROR):
            self.offer(msg.subject, msg.headers, msg.data)

