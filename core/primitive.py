"""What a primitive is, and the registry of the ones this process can run.

A primitive is a name, three event classes (``<name>.requested``/``.completed``/
``.failed``) and one handler: ``params -> result data`` or ``None`` (nothing
captured → ``NO_MATCH``). Handlers never see NATS. A plain ``def`` handler is
treated as blocking and runs in a worker thread (unless declared ``inline``); an
``async def`` runs on the loop.

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
from typing import Any

from core.subjects import check_name
from schemas import events
from schemas.events import Event

Handler = Callable[[Any], Any] | Callable[[Any], Awaitable[Any]]


@dataclass(frozen=True)
class Primitive:
    name: str
    description: str
    requested: type[Event]
    completed: type[Event]
    failed: type[Event]
    handler: Handler
    timeout_s: float = 30.0
    """Default execution timeout of one attempt (a request's ``timeout_s`` overrides it)."""
    inline: Callable[[Any], bool] | None = None
    """For a plain ``def`` handler: run it on the event loop when ``inline(params)`` is true.
    Only for pure functions that then finish in well under a millisecond, where a thread hop
    costs more than the work (measured: ~140 µs of CPU per capture_email event)."""
    blocking: bool = field(init=False)

    def __post_init__(self) -> None:
        check_name(self.name)
        for cls, suffix in ((self.requested, "requested"), (self.completed, "completed"),
                            (self.failed, "failed")):
            if events.type_of(cls) != f"{self.name}.{suffix}":
                raise ValueError(f"{cls.__name__} must be tagged {self.name}.{suffix}")
        is_async = inspect.iscoroutinefunction(self.handler)
        object.__setattr__(self, "blocking", not is_async)

    async def execute(self, params: Any) -> Any:
        if self.blocking and not (self.inline is not None and self.inline(params)):
            return await asyncio.to_thread(self.handler, params)
        result = self.handler(params)
        return await result if inspect.isawaitable(result) else result


_registry: dict[str, Primitive] = {}


def register(primitive: Primitive) -> Primitive:
    known = _registry.get(primitive.name)
    if known is not None and known != primitive:
        raise ValueError(f"primitive {primitive.name!r} is already registered")
    events.register(primitive.requested, primitive.completed, primitive.failed)
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
