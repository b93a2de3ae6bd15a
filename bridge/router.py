"""Results routing: one shared subscription on every result subject, futures by result id.

A result event's id is ``derive_id(request_id, "result")`` and travels in the
``Nats-Msg-Id`` header, so the router matches a message to its waiting call by a
header lookup, without decoding the bodies of other calls' results. Each call
registers its future *before* publishing its request, and removes it when it is
answered or gives up: a late result finds no future and is ignored (it is still an
event in the stream). Several bridges each see every result and keep only theirs.

The header is only a hint: a call registers with a ``read`` function that turns
the message into its answer, or ``None`` when the message is not really its
result (see ``bridge.execute.Call.read_result``); such a message is dropped and
the call keeps waiting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from core import subjects
from core.errors import NATS_ERRORS, ignored

log = logging.getLogger(__name__)

T = TypeVar("T")
Reader = Callable[[str, bytes], Any]
"""``(subject, body) -> answer``, or ``None`` when the message is not the awaited result."""

RESULT_SUBJECTS = (f"{subjects.EVENT_PREFIX}.*.*.completed", f"{subjects.EVENT_PREFIX}.*.*.failed")


class ResultsRouter:
    def __init__(self, nc: NATS) -> None:
        self.nc = nc
        self._waiting: dict[str, list[tuple[asyncio.Future[Any], Reader]]] = {}
        self._subs: list[Subscription] = []

    async def start(self) -> None:
        for subject in RESULT_SUBJECTS:
            self._subs.append(await self.nc.subscribe(
                subject, cb=self._on_result, pending_msgs_limit=1_000_000,
                pending_bytes_limit=512 * 1024 * 1024))
        await self.nc.flush()  # the server has our interest before any request is published

    async def stop(self) -> None:
        for sub in self._subs:
            with ignored(log, "results router: unsubscribe at stop (the connection may be "
                         "closing)", *NATS_ERRORS, level=logging.DEBUG):
                await sub.unsubscribe()
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
        for which that is not ``None``."""
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

    async def _on_result(self, msg: Msg) -> None:
        headers = msg.headers
        if not headers:
            return
        result_id = headers.get(subjects.HEADER_MSG_ID, "")
        for fut, read in list(self._waiting.get(result_id, ())):
            if fut.done():
                continue
            answer = read(msg.subject, msg.data)
            if answer is not None:
                fut.set_result(answer)
                self.forget(result_id, fut)
