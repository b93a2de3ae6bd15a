"""A lean pull loop for the sink: pull requests kept outstanding, messages on a callback.

``PullSubscription.fetch`` waits for each message with its own timeout task, which
costs more than the log's whole insert path per event. The sink instead keeps one
or two pull requests (``$JS.API.CONSUMER.MSG.NEXT``) outstanding with a reply
inbox, collects deliveries in a callback, and hands the insert loop everything
gathered so far in one list: deliveries and inserts overlap, and a slow insert
simply makes the next batch bigger. Unapplied deliveries are capped
(``max_buffer``), and the consumer's ``max_ack_pending`` caps them on the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from core import subjects

log = logging.getLogger(__name__)


class Puller:
    def __init__(self, nc: NATS, stream: str, consumer: str, *, batch: int = 1000,
                 max_buffer: int = 20_000, expires_s: float = 1.0) -> None:
        self.nc = nc
        self.request_subject = subjects.pull_request_subject(stream, consumer)
        self.batch = batch
        self.max_buffer = max_buffer
        self.expires_s = expires_s
        self.buffer: list[Msg] = []
        self.ready = asyncio.Event()
        self._wake = asyncio.Event()
        self._enough = asyncio.Event()
        self._want = 0
        self._stopped = False
        self._outstanding = 0
        self._renew_at = 0.0
        self._heard_at = time.monotonic()
        self._sub: Any = None
        self._inbox = ""

    async def start(self) -> None:
        self._inbox = self.nc.new_inbox()
        self._sub = await self.nc.subscribe(
            self._inbox, cb=self._on_message,
            pending_msgs_limit=self.max_buffer * 4, pending_bytes_limit=512 * 1024 * 1024)

    async def stop(self) -> None:
        self._stopped = True
        self._enough.set()  # a filled() waiting ends now
        self._wake.set()  # let run() see its stop flag now
        if self._sub is not None:
            try:
                await self._sub.unsubscribe()
            except Exception as exc:
                log.debug("puller unsubscribe: %s", exc)

    async def filled(self, count: int, timeout: float) -> None:
        """Until ``count`` messages are buffered, ``timeout`` passed, or the puller stopped."""
        if timeout <= 0 or len(self.buffer) >= count or self._stopped:
            return
        self._want = count
        self._enough.clear()
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._enough.wait(), timeout)
        finally:
            self._want = 0

    def take(self, limit: int) -> list[Msg]:
        """Up to ``limit`` delivered messages, oldest first."""
        taken, self.buffer = self.buffer[:limit], self.buffer[limit:]
        if not self.buffer:
            self.ready.clear()
        self._wake.set()  # room for more
        return taken

    async def run(self, stopping: asyncio.Event) -> None:
        """Keep requests outstanding until ``stopping`` is set.

        A new request goes out halfway through the life of the last one, so one is
        always waiting on the server: its consumer's ``num_waiting`` is how
        HealthCheck and ``voicecore doctor`` tell a live sink (core/eventlog/progress.py).
        """
        while not stopping.is_set():
            now = time.monotonic()
            if now - self._heard_at > 2 * self.expires_s:
                self._outstanding = 0  # requests expired unanswered (or were lost)
            room = self.max_buffer - len(self.buffer) - self._outstanding
            due = self._outstanding <= self.batch // 2 or now >= self._renew_at
            if due and room >= self.batch:
                try:
                    await self._request()
                except Exception as exc:  # disconnected: retry after a pause
                    log.warning("event log: pull request failed: %s", exc)
                    await asyncio.sleep(self.expires_s)
                    continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.expires_s / 2)

    async def _request(self) -> None:
        body = {"batch": self.batch, "expires": int(self.expires_s * 1e9)}
        await self.nc.publish(self.request_subject, json.dumps(body).encode(), reply=self._inbox)
        self._outstanding += self.batch
        self._renew_at = time.monotonic() + self.expires_s / 2

    async def _on_message(self, msg: Msg) -> None:
        self._heard_at = time.monotonic()
        headers = msg.headers
        if not msg.data and headers and "Status" in headers:
            self._on_status(headers)
            return
        self.buffer.append(msg)
        self._outstanding -= 1
        self.ready.set()
        if self._want and len(self.buffer) >= self._want:
            self._enough.set()
        if self._outstanding <= self.batch // 2:
            self._wake.set()

    def _on_status(self, headers: dict[str, str]) -> None:
        status = headers.get("Status", "")
        if status == "100":  # idle heartbeat / flow control
            return
        # 404 no messages, 408 request expired, 409 leadership change or limits:
        # that request is over; what it did not deliver is no longer outstanding.
        pending = headers.get("Nats-Pending-Messages")
        self._outstanding = max(0, self._outstanding - int(pending)) if pending else 0
        self._wake.set()
