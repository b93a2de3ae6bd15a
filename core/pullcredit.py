"""A pull consumer's books: the credit its reader granted, what it holds, what it asked for.

The one invariant: ``held + asked <= granted``. ``held`` counts deliveries the reader
has not released (buffered or being worked on); ``asked`` counts messages that
outstanding pull requests may still deliver. A request is only sent for what is free,
so the server can never deliver more than the reader granted.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field


@dataclass
class Credit:
    granted: int
    batch: int
    """At most this many messages per pull request."""
    held: int = 0
    asked: int = 0
    heard_at: float = field(default_factory=time.monotonic)
    """When the server was last heard on the inbox (a message, a status, a heartbeat)."""
    renew_at: float = 0.0
    """When the last request is half-expired: one more then keeps a request waiting."""

    @property
    def free(self) -> int:
        return self.granted - self.held - self.asked

    def worth_asking(self) -> bool:
        """Enough is free for a request (half a batch: not one round trip per release)."""
        return self.free >= max(1, self.batch // 2)

    def due_for_renewal(self, now: float) -> bool:
        return now >= self.renew_at and self.free >= self.batch

    def silent(self, now: float, limit_s: float) -> bool:
        """A request is outstanding and the server said nothing for ``limit_s``."""
        return bool(self.asked) and now - self.heard_at > limit_s

    def request(self, expires_s: float, heartbeat_s: float) -> tuple[int, bytes]:
        """Book a pull request for what is free (up to a batch): (count, request body)."""
        want = min(self.batch, self.free)
        if want < 1:
            return 0, b""
        now = time.monotonic()
        if not self.asked:
            self.heard_at = now  # heartbeats are due from now on
        self.asked += want
        self.renew_at = now + expires_s / 2
        heartbeat = min(heartbeat_s, expires_s / 2)  # the server's upper bound
        body = {"batch": want, "expires": int(expires_s * 1e9),
                "idle_heartbeat": int(heartbeat * 1e9)}
        return want, json.dumps(body).encode()

    def delivered(self) -> None:
        self.asked = max(0, self.asked - 1)
        self.held += 1

    def request_over(self, undelivered: int) -> None:
        self.asked = max(0, self.asked - undelivered)

    def reset(self) -> None:
        """Outstanding requests are void (a new inbox): nothing more is asked for."""
        self.asked, self.heard_at = 0, time.monotonic()
