"""Test-only primitives, loaded into worker processes with ``--plugin tests.support.plugin``.

``sleepy`` waits, so a test can kill or stop a worker mid-work; ``flaky`` raises
on its first attempts, so retries with backoff can be observed. A request with
``hold`` waits until a test opens :data:`gate`, so a test can look at a worker that
is exactly full instead of guessing how long a busy machine takes to fill it;
:data:`running` and :data:`peak` count handlers in flight (in-process workers only).
"""

from __future__ import annotations

import asyncio
from collections import Counter

import msgspec

from core.primitive import Primitive, register
from schemas.events import Event
from schemas.payloads import Failure, Request


class SleepyParams(msgspec.Struct, frozen=True, kw_only=True):
    seconds: float = 0.0
    text: str = ""
    fail_times: int = 0
    hold: bool = False


class Echo(msgspec.Struct, frozen=True, kw_only=True):
    text: str


class SleepyRequested(Event, frozen=True, kw_only=True, tag="sleepy.requested"):
    data: Request[SleepyParams]


class SleepyCompleted(Event, frozen=True, kw_only=True, tag="sleepy.completed"):
    data: Echo


class SleepyFailed(Event, frozen=True, kw_only=True, tag="sleepy.failed"):
    data: Failure


attempts: Counter[str] = Counter()
gate = asyncio.Event()
running = 0
peak = 0


async def _sleepy(params: SleepyParams) -> Echo:
    global running, peak
    attempts[params.text] += 1
    if attempts[params.text] <= params.fail_times:
        raise RuntimeError(f"flaky failure {attempts[params.text]}")
    running += 1
    peak = max(peak, running)
    try:
        if params.hold:
            await gate.wait()
        await asyncio.sleep(params.seconds)
    finally:
        running -= 1
    return Echo(text=params.text)


SLEEPY = register(
    Primitive(
        name="sleepy",
        description="test primitive: sleeps, then echoes; can fail its first attempts",
        requested=SleepyRequested,
        completed=SleepyCompleted,
        failed=SleepyFailed,
        handler=_sleepy,
        timeout_s=5.0,
    )
)
