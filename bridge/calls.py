"""What every call that publishes a primitive's request shares (ExecutePrimitive,
TextToSpeech, ProcessAudioFile): its conversation, its timing, its request event.

* **Conversation**: the caller's (checked by :mod:`bridge.limits`), else a fresh
  ``bridge-<uuid>``.
* **Timing**: the requested timeout (``≤ 0``: the bridge's default), capped at the
  bridge's maximum; a gRPC deadline shorter than that wins, and its absolute time goes
  into the request (``data.deadline``) so a worker picking it up later does not run it.
* **Request event**: the fields converted to the primitive's ``Request[Params]`` type;
  params that do not fit are :class:`~core.errors.InvalidParams` naming the field, raised
  before anything is published.

Trace ids are :func:`bridge.tracecontext.resolve_trace_id`'s, for every call.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, get_type_hints

import msgspec

from bridge import limits
from core.bus import Bus
from core.errors import BusUnavailable, InvalidParams
from core.primitive import Primitive
from schemas import events, ids

DEFAULT_TIMEOUT_S = 30.0
MAX_TIMEOUT_S = 300.0
"""A requested timeout above this is cut to it (5 minutes)."""
_LATEST_DEADLINE_S = 365 * 24 * 3600.0

_data_types: dict[str, Any] = {}


def request_data_type(prim: Primitive) -> Any:
    """The type of ``data`` in ``prim``'s request event (``Request[Params]``), cached."""
    found = _data_types.get(prim.name)
    if found is None:
        found = _data_types[prim.name] = get_type_hints(prim.requested)["data"]
    return found


def new_conversation_id() -> str:
    """The conversation of a call that named none."""
    return f"bridge-{ids.uuid7().replace('-', '')}"


def require_connected(bus: Bus) -> None:
    if not bus.nc.is_connected:
        raise BusUnavailable("NATS unavailable: not connected")


@dataclass(frozen=True)
class Timing:
    """How long one call waits for its result, and what its request event says of it."""

    timeout: float
    """The request's ``timeout_s`` (the worker enforces it per attempt)."""
    wait: float
    """How long the bridge waits: ``timeout``, or the caller's remaining time if sooner."""
    caller_bound: bool
    """The caller's deadline is sooner than ``timeout`` (waiting out is DEADLINE_EXCEEDED)."""
    deadline: dt.datetime | None
    """The caller's deadline (absolute UTC), when the call has one."""


def timing(requested: float, time_remaining: float | None, *, default: float,
           maximum: float) -> Timing:
    timeout = min(requested if requested > 0 else default, maximum)
    caller_bound = time_remaining is not None and time_remaining < timeout
    wait = min(timeout, time_remaining) if time_remaining is not None else timeout
    deadline = deadline_in(time_remaining) if time_remaining is not None else None
    return Timing(timeout=timeout, wait=wait, caller_bound=caller_bound, deadline=deadline)


def deadline_in(seconds: float) -> dt.datetime:
    """The absolute UTC time ``seconds`` from now, at most a year: a gRPC deadline may be
    thousands of years away, past what a datetime holds."""
    return events.now() + dt.timedelta(seconds=min(seconds, _LATEST_DEADLINE_S))


def request_data(prim: Primitive, params: dict[str, Any], timed: Timing,
                 purpose: str = "") -> Any:
    """``prim``'s request data for ``params``; :class:`InvalidParams` naming the field
    (``<primitive>: params.text is required``) when they do not fit its types."""
    fields: dict[str, Any] = {"params": params, "purpose": purpose, "timeout_s": timed.timeout}
    if timed.deadline is not None:  # a worker picking it up after this answers TIMEOUT
        fields["deadline"] = timed.deadline
    try:
        return msgspec.convert(fields, request_data_type(prim))
    except msgspec.ValidationError as exc:
        raise InvalidParams(f"{prim.name}: {limits.invalid_params(exc, params)}") from None


def request_event(prim: Primitive, data: Any, *, conversation_id: str, trace_id: str,
                  request_id: str | None = None) -> events.Event:
    """The ``<primitive>.requested`` event to publish (a fresh UUIDv7 unless ``request_id``)."""
    return events.new_event(prim.requested, conversation_id=conversation_id,
                            trace_id=trace_id, data=data, event_id=request_id or ids.uuid7())


def result_id(request_id: str) -> str:
    """The id every result of ``request_id`` carries (the worker derives the same)."""
    return ids.derive_id(request_id, "result")
