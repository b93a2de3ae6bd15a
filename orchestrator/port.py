"""The orchestrator's one way to the voice core: a port the composition root fills.

The orchestrator does not import ``bridge`` (layers: it sits beside it); ``voicecore``
gives it an object with :meth:`Primitives.execute` — in ``voicecore up`` the bridge's
Python client (``voicecore.orchestrator_command.BridgePrimitives``), in unit tests any
stand-in. Retries of retryable failures and the circuit breaker live behind the port
(the client has them): the orchestrator never retries a call itself, except while a
flow says ``on_unavailable: wait``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

UNAVAILABLE = "UNAVAILABLE"
"""An :class:`Outcome`'s code when the voice core could not be reached (circuit open,
bridge or NATS down): the call never reached a primitive."""
NO_MATCH = "NO_MATCH"


@dataclass(frozen=True)
class Outcome:
    """What a primitive call came to: ``data`` on success, else a failure ``code``."""

    success: bool
    data: dict[str, Any] = field(default_factory=dict)
    code: str = ""
    reason: str = ""
    """A failure's message (never a transcript or a value: it may be logged)."""
    request_id: str = ""
    result_id: str = ""
    """The call's request and result events (empty: the call left none, e.g. refused
    before it was published, or the core could not be reached)."""

    @property
    def unavailable(self) -> bool:
        return self.code == UNAVAILABLE


class Primitives(Protocol):
    async def execute(self, primitive: str, params: dict[str, Any], *, conversation_id: str,
                      trace_id: str, purpose: str, timeout_s: float,
                      idempotency_key: str) -> Outcome:
        """Run ``primitive``; a voice core that cannot be reached is an :class:`Outcome`
        with code :data:`UNAVAILABLE`, not an exception."""
        ...
