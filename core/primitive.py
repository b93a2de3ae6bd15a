"""What a primitive is, and the registry of the ones this process can run.

A primitive is a name, three event classes (``<name>.requested``/``.completed``/
``.failed``) and one handler: ``params -> result data`` or ``None`` (nothing
captured → ``NO_MATCH``). Handlers never see NATS. A plain ``def`` handler is
treated as blocking and runs in a worker thread (unless declared ``inline``); an
``async def`` runs on the loop.

A primitive whose work comes out in parts (``synthesize``: a sentence's audio at a
time) also declares a ``chunk`` event class (``<name>.chunk``), and its ``async``
handler takes a second argument, a :class:`Call`: the request's ids and
:meth:`Call.emit`, which publishes one chunk event before the result. Chunk ids are
derived from the request id and the chunk's index, so a redelivered request that
emits again re-publishes the same ids and JetStream keeps one copy of each.

The registry holds what was registered: the four built-in captures register when
:mod:`core.captures` is imported (the composition root, :mod:`voicecore.app`, does),
plugins when ``--plugin`` imports them. This module imports neither, so the registry
does not depend on what it registers.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from core.subjects import check_name
from schemas import events
from schemas.events import Event

if TYPE_CHECKING:
    from core.bus import Bus

Handler = Callable[[Any], Any] | Callable[[Any], Awaitable[Any]]
CallHandler = Callable[[Any, "Call"], Awaitable[Any]]
"""An ``async`` handler that also takes the :class:`Call` (to emit chunk events)."""


class Call:
    """One execution of a request, as its handler sees it (handlers that take a second
    argument): whose request it is, and a way to publish its intermediate parts."""

    __slots__ = ("_publish", "attempt", "conversation_id", "emitted", "request_id", "trace_id")

    def __init__(self, conversation_id: str, request_id: str, trace_id: str, attempt: int,
                 publish: Callable[[int, Any], Awaitable[None]]) -> None:
        self.conversation_id = conversation_id
        self.request_id = request_id
        self.trace_id = trace_id
        self.attempt = attempt
        """1 for the first delivery of the request; more when it is redelivered."""
        self._publish = publish
        self.emitted = 0
        """Chunk events published so far (the next one's index)."""

    async def emit(self, data: Any) -> None:
        """Publish ``data`` as the next chunk event (index 0, 1, … in call order); returns
        once JetStream has stored it. Raises :class:`~core.errors.BusError` if it could not
        be stored (the attempt fails and is retried: the same ids again)."""
        index = self.emitted
        self.emitted += 1
        await self._publish(index, data)


@dataclass(frozen=True)
class Primitive:
    name: str
    description: str
    requested: type[Event]
    completed: type[Event]
    failed: type[Event]
    handler: Handler | CallHandler
    timeout_s: float = 30.0
    """Default execution timeout of one attempt (a request's ``timeout_s`` overrides it)."""
    inline: Callable[[Any], bool] | None = None
    """For a plain ``def`` handler: run it on the event loop when ``inline(params)`` is true.
    Only for pure functions that then finish in well under a millisecond, where a thread hop
    costs more than the work (measured: ~140 µs of CPU per capture_email event)."""
    chunk: type[Event] | None = None
    """``<name>.chunk``: the event :meth:`Call.emit` publishes (its data is the chunk's)."""
    volatile: tuple[str, ...] = ()
    """Fields of the result (dotted paths; ``*`` for every item of a list) that differ on
    every run by nature: audio, its timing. ``replay --rerun`` compares results without them."""
    prepare: Callable[[Bus], Awaitable[None]] | None = None
    """Awaited by each worker at start, before it takes a request, with its connection: for
    a primitive with resources of its own (``synthesize``: its audio bucket, and the
    default voice loaded so that the first call does not pay for it)."""
    blocking: bool = field(init=False)
    takes_call: bool = field(init=False)
    """The handler takes ``(params, call)``: the worker passes it a :class:`Call`."""

    def __post_init__(self) -> None:
        check_name(self.name)
        for cls, suffix in self.event_classes():
            if events.type_of(cls) != f"{self.name}.{suffix}":
                raise ValueError(f"{cls.__name__} must be tagged {self.name}.{suffix}")
        is_async = inspect.iscoroutinefunction(self.handler)
        takes_call = _positional_parameters(self.handler) >= 2
        if takes_call and not is_async:
            # emit awaits a publish: only a handler on the event loop can await it
            raise ValueError(f"{self.name}: a handler that takes a Call must be async")
        object.__setattr__(self, "blocking", not is_async)
        object.__setattr__(self, "takes_call", takes_call)

    def event_classes(self) -> list[tuple[type[Event], str]]:
        found = [(self.requested, "requested"), (self.completed, "completed"),
                 (self.failed, "failed")]
        return [*found, (self.chunk, "chunk")] if self.chunk is not None else found

    def runs_inline(self, params: Any) -> bool:
        """Whether ``params`` are handled on the event loop, synchronously (:attr:`inline`)."""
        return self.blocking and self.inline is not None and self.inline(params)

    def execute_inline(self, params: Any) -> Any:
        """The handler's answer, here and now (only when :meth:`runs_inline`)."""
        return cast(Handler, self.handler)(params)

    async def execute(self, params: Any, call: Call | None = None) -> Any:
        if self.takes_call:
            if call is None:
                raise ValueError(f"{self.name}: its handler needs a Call (core.chunks)")
            return await cast(CallHandler, self.handler)(params, call)
        handler = cast(Handler, self.handler)
        if self.blocking and not self.runs_inline(params):
            return await asyncio.to_thread(handler, params)
        result = handler(params)
        return await result if inspect.isawaitable(result) else result


_registry: dict[str, Primitive] = {}


def register(primitive: Primitive) -> Primitive:
    known = _registry.get(primitive.name)
    if known is not None and known != primitive:
        raise ValueError(f"primitive {primitive.name!r} is already registered")
    events.register(*(cls for cls, _ in primitive.event_classes()))
    _registry[primitive.name] = primitive
    return primitive


def get(name: str) -> Primitive | None:
    return _registry.get(name)


def all_primitives() -> list[Primitive]:
    return sorted(_registry.values(), key=lambda p: p.name)


def load_plugins(modules: Iterable[str]) -> None:
    """Import modules that call :func:`register` (``--plugin`` / ``VOICECORE_PLUGINS``)."""
    for module in modules:
        importlib.import_module(module)


def _positional_parameters(handler: Handler | CallHandler) -> int:
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
               for p in inspect.signature(handler).parameters.values())
