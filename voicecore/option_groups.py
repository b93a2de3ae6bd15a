"""Several flags received as one parameter: how a command's option group is declared.

A command declares one parameter (``caller: Caller``, ``speech: Speech``, …); typer sees
the group's flags in its place, and the wrapper builds the one value from them. Used by
:mod:`voicecore.options` (NATS identity, gRPC caller and server) and
:mod:`voicecore.speech_options`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

import typer

T = TypeVar("T")


def keyword(name: str, annotation: Any, default: Any = None) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                             annotation=annotation)


_CONTEXT = "option_group_ctx"  # the context's parameter when the command declares none


def option_group(command: Callable[..., T], name: str, flags: list[inspect.Parameter],
                  build: Callable[[typer.Context, dict[str, Any]], Any], *,
                  in_place: bool) -> Callable[..., T]:
    """``command`` with its parameter ``name`` replaced by ``flags`` (typer options; at
    that place or after the others): the wrapper calls it with ``name=build(ctx, values)``."""
    signature = inspect.signature(command, eval_str=True)
    params = list(signature.parameters.values())
    context = next((p.name for p in params if p.annotation is typer.Context), None)
    at = [p.name for p in params].index(name) if in_place else len(params)
    params[at:at] = flags
    params = [p for p in params if p.name != name]
    if context is None:
        params.append(keyword(_CONTEXT, typer.Context))

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        given = {flag.name: kwargs.pop(flag.name) for flag in flags}
        ctx = kwargs[context] if context is not None else kwargs.pop(_CONTEXT)
        return command(*args, **{name: build(ctx, given)}, **kwargs)

    # all keyword-only (typer passes every value by name), so options may stand anywhere
    params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params]
    wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    return wrapper
