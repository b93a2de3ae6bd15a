"""Test-only primitives, loaded into worker processes with ``--plugin tests.support.plugin``.

``sleepy`` waits, so a test can kill or stop a worker mid-work; ``flaky`` raises
on its first attempts, so retries with backoff can be observed.
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


class Echo(msgspec.Struct, frozen=True, kw_only=True):
    text: str


class SleepyRequested(Event, frozen=True, kw_only=True, tag="sleepy.requested"):
    data: Request[SleepyParams]


class SleepyCompleted(Event, frozen=True, kw_only=True, tag="sleepy.completed"):
    data: Echo


class SleepyFailed(Event, frozen=True, kw_only=True, tag="sleepy.failed"):
    data: Failure


attempts: Counter[str] = Counter()


async def _sleepy(params: SleepyParams) -> Echo:
    attempts[params.text] += 1
    if attempts[params.text] <= params.fail_times:
        raise RuntimeError(f"flaky failure {attempts[params.text]}")
    await asyncio.sleep(params.seconds)
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
