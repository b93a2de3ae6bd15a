"""Test-only primitives, loaded into worker processes with ``--plugin tests.support.plugin``.

``sleepy`` waits, so a test can kill or stop a worker mid-work; ``flaky`` raises
on its first attempts, so retries with backoff can be observed. A request with
``hold`` waits until a test opens :data:`gate`, so a test can look at a worker that
is exactly full instead of guessing how long a busy machine takes to fill it;
:data:`running` and :data:`peak` count handlers in flight (in-process workers only).
``chunky`` publishes chunk events through its :class:`~core.primitive.Call` before its
result; it can fail an attempt after its first chunks, or hold after the first chunk
until a test opens :data:`chunk_gate`.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import msgspec

from core.primitive import Call, Primitive, register
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


class ChunkyParams(msgspec.Struct, frozen=True, kw_only=True):
    text: str = ""
    parts: int = 3
    fail_times: int = 0
    """Attempts that fail after emitting their first two chunks."""
    hold: bool = False
    """Wait for :data:`chunk_gate` after the first chunk."""


class Part(msgspec.Struct, frozen=True, kw_only=True):
    index: int
    text: str


class Parts(msgspec.Struct, frozen=True, kw_only=True):
    count: int


class ChunkyRequested(Event, frozen=True, kw_only=True, tag="chunky.requested"):
    data: Request[ChunkyParams]


class ChunkyChunk(Event, frozen=True, kw_only=True, tag="chunky.chunk"):
    data: Part


class ChunkyCompleted(Event, frozen=True, kw_only=True, tag="chunky.completed"):
    data: Parts


class ChunkyFailed(Event, frozen=True, kw_only=True, tag="chunky.failed"):
    data: Failure


chunk_gate = asyncio.Event()
prepared_with: list[object] = []
"""The connections chunky's workers were prepared with (its ``prepare`` hook)."""


async def _prepare_chunky(bus: object) -> None:
    prepared_with.append(bus)


async def _chunky(params: ChunkyParams, call: Call) -> Parts:
    attempts[f"chunky/{params.text}"] += 1
    failing = attempts[f"chunky/{params.text}"] <= params.fail_times
    for index in range(params.parts):
        if failing and index == 2:
            raise RuntimeError(f"chunky failed after {index} chunks")
        await call.emit(Part(index=index, text=f"{params.text}/{index}"))
        if params.hold and index == 0:
            await chunk_gate.wait()
    return Parts(count=call.emitted)


CHUNKY = register(
    Primitive(
        name="chunky",
        description="test primitive: emits chunk events, then answers how many",
        requested=ChunkyRequested,
        completed=ChunkyCompleted,
        failed=ChunkyFailed,
        chunk=ChunkyChunk,
        handler=_chunky,
        prepare=_prepare_chunky,
        timeout_s=10.0,
    )
)
