"""Long-lived loops stop when cancelled, even when Python 3.11's ``asyncio.wait_for`` (as
nats-py uses it on every request) swallowed the cancellation on the way."""

from __future__ import annotations

import asyncio

import pytest

from core.pause import cancel_requested, pause, stop_tasks


async def request_answered_as_it_is_cancelled(answer: asyncio.Future[int]) -> int:
    """A request whose answer arrives in the same loop turn as the cancellation: 3.11's
    ``wait_for`` returns the answer and drops the cancellation."""
    return await asyncio.wait_for(answer, 5)


async def scan_loop(answers: asyncio.Queue[asyncio.Future[int]], sleep: object) -> None:
    while True:
        await request_answered_as_it_is_cancelled(await answers.get())
        await sleep(60)  # type: ignore[operator]


async def cancel_in_a_request(sleep: object) -> asyncio.Task[None]:
    answers: asyncio.Queue[asyncio.Future[int]] = asyncio.Queue()
    task = asyncio.create_task(scan_loop(answers, sleep))
    answer = asyncio.get_running_loop().create_future()
    await answers.put(answer)
    for _ in range(3):
        await asyncio.sleep(0)  # the loop now waits on the answer
    answer.set_result(1)
    task.cancel()
    return task


async def test_wait_for_really_loses_a_cancellation_here() -> None:
    """The premise: with ``asyncio.sleep`` the cancelled loop goes on sleeping."""
    task = await cancel_in_a_request(asyncio.sleep)
    done, _ = await asyncio.wait({task}, timeout=0.5)
    assert not done and task.cancelling() == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_pause_raises_the_lost_cancellation() -> None:
    task = await cancel_in_a_request(pause)
    done, _ = await asyncio.wait({task}, timeout=2)
    assert done and task.cancelled()


async def test_stop_tasks_cancels_again_until_each_ends() -> None:
    task = await cancel_in_a_request(asyncio.sleep)  # a loop that does not use pause
    await asyncio.wait_for(stop_tasks(task, None, every_s=0.05), 2)
    assert task.cancelled()


async def test_pause_sleeps_when_not_cancelled() -> None:
    assert not cancel_requested()
    loop = asyncio.get_running_loop()
    started = loop.time()
    await pause(0.05)
    assert loop.time() - started >= 0.04
