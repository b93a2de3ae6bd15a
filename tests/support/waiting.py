"""Waiting for a condition in a test: poll until it holds, and fail when it never does.

A loop that polls and then falls through silently lets a test pass although the thing it
waited for never happened; :func:`until` raises instead. The timeout only bounds a
failing test: no assertion depends on how fast a busy machine gets there.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

Condition = Callable[[], bool | Awaitable[bool]]


async def until(condition: Condition, what: str, timeout: float = 20.0,
                every: float = 0.05) -> None:
    """Return once ``condition()`` is true; ``AssertionError`` naming ``what`` if it never is."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        held = condition()
        if inspect.isawaitable(held):
            held = await held
        if held:
            return
        if loop.time() > deadline:
            raise AssertionError(f"{what}: not so within {timeout:g}s")
        await asyncio.sleep(every)
