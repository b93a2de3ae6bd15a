"""``await pause(seconds)``: the sleep of every long-lived loop (heartbeats, renewals,
retries, scans), which ends the loop once its task has been asked to stop.

Why not plain ``asyncio.sleep``: on Python 3.11, ``asyncio.wait_for`` can return its
inner result while its own task is being cancelled, and the cancellation is lost. nats-py
waits that way on every request (a KV scan, a consumer lookup), so a loop cancelled in
such a request went on to its next ``sleep`` as if never told, and its process did not
stop (seen: ``up``'s orchestrator child killed after 30 s at stop). The task still counts
the request (``Task.cancelling()``), so the lost cancellation is raised here instead.
"""

from __future__ import annotations

import asyncio
from typing import Any


def cancel_requested() -> bool:
    """Whether the running task has been asked to stop (even if the request was lost)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def pause(seconds: float) -> None:
    """``asyncio.sleep(seconds)``, raising :class:`asyncio.CancelledError` at once if the
    running task has been cancelled and its cancellation was swallowed on the way here."""
    if cancel_requested():
        raise asyncio.CancelledError
    await asyncio.sleep(seconds)


async def stop_tasks(*tasks: asyncio.Task[Any] | None, every_s: float = 0.5) -> None:
    """Cancel ``tasks`` and wait until each has ended, cancelling again every ``every_s``
    any that lost its cancellation (above); their exceptions are theirs to log."""
    pending = {task for task in tasks if task is not None}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=every_s)
