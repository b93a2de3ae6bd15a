"""A pull consumer's hand-over to its caller: deliveries buffered until taken.

The subscription's callback appends to the buffer; the caller takes from it with
:meth:`DeliveryBuffer.take` (a batch) or :meth:`DeliveryBuffer.next` (one, waiting).
A failure the consumer meets is not raised in the callback but kept here and raised by
``next`` once the caller has taken everything delivered before it, so nothing that
arrived is lost to an error that came after it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Generic, TypeVar

from nats.aio.msg import Msg

from core import natsraw
from core.errors import BusUnavailable

M = TypeVar("M", Msg, natsraw.RawMsg)


class DeliveryBuffer(Generic[M]):
    """What arrived and is not taken yet; what a delivery is (``M``) is up to the consumer."""

    def __init__(self) -> None:
        self.buffer: deque[M] = deque()
        self.ready = asyncio.Event()
        self._failure: BaseException | None = None
        self._stopped = False
        self._enough = asyncio.Event()
        self._want = 0

    def take(self, limit: int) -> list[M]:
        """Up to ``limit`` buffered deliveries, oldest first (still held until released)."""
        taken = [self.buffer.popleft() for _ in range(min(limit, len(self.buffer)))]
        if not self.buffer and not self._stopped:
            self.ready.clear()
        return taken

    async def gathered(self, count: int, timeout: float) -> None:
        """Until ``count`` deliveries are buffered, ``timeout`` passed, or the consumer stopped
        (a caller that batches waits a little for a fuller batch)."""
        if timeout <= 0 or len(self.buffer) >= count or self._stopped:
            return
        self._want = count
        self._enough.clear()
        try:
            with contextlib.suppress(TimeoutError):  # not wait_for: see core.pause
                async with asyncio.timeout(timeout):
                    await self._enough.wait()
        finally:
            self._want = 0

    async def next(self) -> M:
        """The next delivery (to be released); raises what went wrong (see the module doc)."""
        while not self.buffer:
            self._raise_failure()
            if self._stopped:
                raise BusUnavailable("pull consumer stopped")
            await self.ready.wait()
            if not self.buffer and not self._stopped:
                self.ready.clear()
        return self.buffer.popleft()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure

    def _hand_over(self, msg: M) -> None:
        self.buffer.append(msg)
        self.ready.set()
        if self._want and len(self.buffer) >= self._want:
            self._enough.set()

    def _hand_over_failure(self, exc: BaseException) -> None:
        self._failure = exc  # the caller raises it once it has taken what was delivered
        self.ready.set()

    def _end(self) -> None:
        """No more deliveries: every waiting caller wakes (``next`` then raises)."""
        self._stopped = True
        self.ready.set()
        self._enough.set()
