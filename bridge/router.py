"""Results routing: one shared subscription on every result subject, futures by result id.

A result event's id is ``derive_id(request_id, "result")`` and travels in the
``Nats-Msg-Id`` header, so the router matches a message to its waiting call by a
header lookup, without decoding the bodies of other calls' results. Each call
registers its future *before* publishing its request, and removes it when it is
answered or gives up: a late result finds no future and is ignored (it is still an
event in the stream). Several bridges each see every result and keep only theirs.
"""

from __future__ import annotations

import asyncio
import contextlib

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from core import subjects

RESULT_SUBJECTS = (f"{subjects.EVENT_PREFIX}.*.*.completed", f"{subjects.EVENT_PREFIX}.*.*.failed")


class ResultsRouter:
    def __init__(self, nc: NATS) -> None:
        self.nc = nc
        self._waiting: dict[str, list[asyncio.Future[Msg]]] = {}
        self._subs: list[Subscription] = []

    async def start(self) -> None:
        for subject in RESULT_SUBJECTS:
            self._subs.append(await self.nc.subscribe(
                subject, cb=self._on_result, pending_msgs_limit=1_000_000,
                pending_bytes_limit=512 * 1024 * 1024))
        await self.nc.flush()  # the server has our interest before any request is published

    async def stop(self) -> None:
        for sub in self._subs:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        self._subs.clear()
        for futures in self._waiting.values():
            for fut in futures:
                fut.cancel()
        self._waiting.clear()

    @property
    def waiting(self) -> int:
        return sum(len(f) for f in self._waiting.values())

    def expect(self, result_id: str) -> asyncio.Future[Msg]:
        fut: asyncio.Future[Msg] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(result_id, []).append(fut)
        return fut

    def forget(self, result_id: str, fut: asyncio.Future[Msg]) -> None:
        futures = self._waiting.get(result_id)
        if futures is None:
            return
        with contextlib.suppress(ValueError):
            futures.remove(fut)
        if not futures:
            del self._waiting[result_id]

    async def _on_result(self, msg: Msg) -> None:
        headers = msg.headers
        if not headers:
            return
        futures = self._waiting.pop(headers.get(subjects.HEADER_MSG_ID, ""), None)
        for fut in futures or ():
            if not fut.done():
                fut.set_result(msg)
