"""PubAcks matched by token on one wildcard inbox (:class:`PubAcks`), for :class:`core.bus.Bus`.

nats-py's ``js.publish`` makes a random token and a ``wait_for`` per publish; a worker
publishes per request, so here each publish has a counter value, a future and one timer,
and the acks come raw from the parser (:mod:`core.natsraw`: no ``Msg``, no task hop).
"""

from __future__ import annotations

import asyncio
import itertools

import msgspec
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.aio.subscription import Subscription

from core import natspub, natsraw
from core.natsraw import RawMsg


class PubAcks:
    """PubAcks by token on one wildcard inbox: a counter, a future and a timer per publish."""

    def __init__(self, nc: NATS) -> None:
        self.nc = nc
        self._prefix = ""
        self._sub: Subscription | None = None
        self._tokens = itertools.count()
        self._waiting: dict[str, asyncio.Future[RawMsg]] = {}
        self._subscribing = asyncio.Lock()

    async def request(self, subject: str, body: bytes, headers: dict[str, str],
                      timeout: float) -> RawMsg:
        if self._sub is None:
            await self._subscribe()
        token = str(next(self._tokens))
        loop = asyncio.get_running_loop()
        ack: asyncio.Future[RawMsg] = loop.create_future()
        self._waiting[token] = ack
        timer = loop.call_later(timeout, _time_out, ack)
        try:
            await natspub.publish(self.nc, subject, body, self._prefix + token, headers)
            return await ack
        finally:
            timer.cancel()
            del self._waiting[token]

    async def _subscribe(self) -> None:
        """The inbox, once: publishes started together (an object's chunks) share it."""
        async with self._subscribing:
            if self._sub is None:
                prefix = f"{self.nc.new_inbox()}."
                self._sub = await natsraw.subscribe(self.nc, f"{prefix}*", self._on_ack)
                self._prefix = prefix

    def _on_ack(self, msg: RawMsg) -> None:
        ack = self._waiting.get(msg.subject[len(self._prefix):])
        if ack is not None and not ack.done():
            ack.set_result(msg)


def _time_out(ack: asyncio.Future[RawMsg]) -> None:
    if not ack.done():
        ack.set_exception(nats.errors.TimeoutError())


def stored_at(reply: RawMsg) -> tuple[int, bool]:
    """(sequence, duplicate) from a PubAck; raises nats-py's error for a refusal."""
    if (reply.headers or {}).get("Status") == "503":
        raise nats.js.errors.NoStreamResponseError  # no stream takes this subject
    answer = msgspec.json.decode(reply.data)
    if "error" in answer:
        raise nats.js.errors.APIError.from_error(answer["error"])
    return int(answer["seq"]), bool(answer.get("duplicate"))
