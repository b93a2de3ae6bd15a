"""The worker's side of :class:`core.primitive.Call`: chunk events of one request.

Kept out of the worker's hot path (core/worker.py): only a primitive whose handler takes
a :class:`~core.primitive.Call` gets one. A chunk event is published like a result:
on the request's conversation, with its trace id, ``causation_id`` = the request's id,
the attempt number, and the trace headers of the span the handler runs in (the
worker's CONSUMER span). Its id is ``derive_id(request id, "chunk/<index>")``: a
redelivered request that emits again yields the same ids, and JetStream's
``Nats-Msg-Id`` de-duplication keeps one copy of each chunk.
"""

from __future__ import annotations

import functools
from typing import Any

from core.bus import Bus
from core.primitive import Call, Primitive
from schemas import events, ids
from schemas.events import Event


def chunk_id(request_id: str, index: int) -> str:
    """The id of chunk ``index`` of request ``request_id`` (the same on every attempt)."""
    return ids.derive_id(request_id, f"chunk/{index}")


def open_call(bus: Bus, primitive: Primitive, request: Event, attempt: int) -> Call:
    """The :class:`Call` handed to ``primitive``'s handler for this attempt at ``request``."""
    if primitive.chunk is None:
        raise ValueError(f"{primitive.name} declares no chunk event: its handler cannot emit")
    publish = functools.partial(_publish_chunk, bus, primitive.chunk, request, attempt)
    return Call(request.conversation_id, request.id, request.trace_id, attempt, publish)


async def _publish_chunk(bus: Bus, cls: type[Event], request: Event, attempt: int,
                         index: int, data: Any) -> None:
    await bus.publish(events.new_event(
        cls,
        conversation_id=request.conversation_id,
        trace_id=request.trace_id,
        causation_id=request.id,
        event_id=chunk_id(request.id, index),
        attempt=attempt,
        data=data,
    ))
