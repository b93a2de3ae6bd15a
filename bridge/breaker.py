"""A circuit breaker (one per primitive in the client), with an injectable clock.

closed ──(``failure_threshold`` consecutive failures)──▶ open
open ──(``reset_timeout_s`` elapsed)──▶ half-open (calls go through as trials)
half-open ──(``success_threshold`` successes in a row)──▶ closed
half-open ──(any failure)──▶ open again (the timer restarts)

A "failure" is what the caller says it is (the client counts transport errors,
timeouts and ``PRIMITIVE_FAILED``; a ``NO_MATCH`` is an answer, not a failure).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass


class State(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerConfig:
    failure_threshold: int = 5
    reset_timeout_s: float = 30.0
    success_threshold: int = 2


class CircuitBreaker:
    def __init__(self, config: BreakerConfig | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config or BreakerConfig()
        self._clock = clock
        self._state = State.CLOSED
        self._failures = 0
        self._successes = 0
        self._opened_at = 0.0

    @property
    def state(self) -> State:
        if self._state is State.OPEN and self._clock() - self._opened_at >= \
                self.config.reset_timeout_s:
            self._state = State.HALF_OPEN
            self._successes = 0
        return self._state

    def retry_after(self) -> float:
        """Seconds until an open breaker lets a trial call through (0 when not open)."""
        if self.state is not State.OPEN:
            return 0.0
        return max(0.0, self._opened_at + self.config.reset_timeout_s - self._clock())

    def allow(self) -> bool:
        return self.state is not State.OPEN

    def record_success(self) -> None:
        if self.state is State.HALF_OPEN:
            self._successes += 1
            if self._successes >= self.config.success_threshold:
                self._state = State.CLOSED
                self._failures = 0
            return
        self._failures = 0

    def record_failure(self) -> None:
        state = self.state
        if state is State.HALF_OPEN:
            self._open()
            return
        if state is State.CLOSED:
            self._failures += 1
            if self._failures >= self.config.failure_threshold:
                self._open()

    def _open(self) -> None:
        self._state = State.OPEN
        self._opened_at = self._clock()
        self._failures = 0
        self._successes = 0
