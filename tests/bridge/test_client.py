"""The Python client: circuit breaker (fake clock), retries, typed errors when the core is down."""

from __future__ import annotations

import pytest

from bridge.breaker import BreakerConfig, CircuitBreaker, State
from bridge.client import (
    CallRejected,
    CircuitOpen,
    CoreUnavailable,
    RetryPolicy,
    VoiceCoreClient,
)
from bridge.server import Bridge
from core.bus import Bus
from core.worker import Worker
from tests.bridge.conftest import stored_events
from tests.support.proc import free_port


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def state(breaker: CircuitBreaker) -> State:
    return breaker.state  # through a call, so mypy does not narrow it between steps


def test_breaker_state_machine_with_defaults() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(clock=clock)
    for _ in range(4):
        breaker.record_failure()
    assert state(breaker) is State.CLOSED
    breaker.record_success()  # a success resets the consecutive count
    for _ in range(4):
        breaker.record_failure()
    assert state(breaker) is State.CLOSED and breaker.allow()
    breaker.record_failure()
    assert state(breaker) is State.OPEN and not breaker.allow()
    clock.now += 29.9
    assert state(breaker) is State.OPEN and breaker.retry_after() == pytest.approx(0.1)
    clock.now += 0.1
    assert state(breaker) is State.HALF_OPEN and breaker.allow()
    breaker.record_failure()  # a failed trial opens it again, timer restarted
    assert state(breaker) is State.OPEN
    clock.now += 30
    assert state(breaker) is State.HALF_OPEN
    breaker.record_success()
    assert state(breaker) is State.HALF_OPEN
    breaker.record_success()
    assert state(breaker) is State.CLOSED
    for _ in range(4):
        breaker.record_failure()
    assert state(breaker) is State.CLOSED  # the count started over when it closed


def test_breaker_thresholds_are_configurable() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(BreakerConfig(failure_threshold=2, reset_timeout_s=5,
                                           success_threshold=1), clock)
    breaker.record_failure()
    breaker.record_failure()
    assert state(breaker) is State.OPEN
    clock.now += 5
    breaker.record_success()
    assert state(breaker) is State.CLOSED


async def test_core_down_gives_a_typed_error_at_once_then_the_breaker_opens() -> None:
    clock = FakeClock()
    slept: list[float] = []

    async def no_sleep(seconds: float) -> None:
        slept.append(seconds)

    async with VoiceCoreClient(f"127.0.0.1:{free_port()}", clock=clock, sleep=no_sleep,
                               retry=RetryPolicy(max_attempts=2)) as client:
        for _ in range(2):
            with pytest.raises(CoreUnavailable) as err:
                await client.execute("sleepy", {"text": "x"}, trace_id="kept-trace")
            assert err.value.trace_id == "kept-trace"
        assert len(slept) == 2  # one backoff per call: UNAVAILABLE is retryable
        with pytest.raises(CoreUnavailable):
            await client.execute("sleepy", {"text": "x"})  # 5th consecutive failure
        with pytest.raises(CircuitOpen) as opened:
            await client.execute("sleepy", {"text": "x"})
        assert opened.value.code == "CIRCUIT_BREAKER_OPEN"
        assert client.breaker("other").allow()  # one breaker per primitive


async def test_timeouts_trip_the_breaker_no_match_does_not_and_two_successes_close_it(
        sleepy_worker: Worker, email_worker: Worker, bridge: Bridge) -> None:
    clock = FakeClock()
    async with VoiceCoreClient(bridge.address, clock=clock,
                               retry=RetryPolicy(max_attempts=1)) as client:
        for _ in range(6):
            no_match = await client.execute("capture_email", {"transcript": "no idea, sorry"})
            assert no_match.error_code == "NO_MATCH"
        assert client.breaker("capture_email").state is State.CLOSED
        for _ in range(5):
            slow = await client.execute("sleepy", {"text": "t", "seconds": 1}, timeout_s=0.05)
            assert slow.error_code == "TIMEOUT"
        with pytest.raises(CircuitOpen):
            await client.execute("sleepy", {"text": "t"})
        clock.now += 30
        assert (await client.execute("sleepy", {"text": "trial-1"})).success
        assert client.breaker("sleepy").state is State.HALF_OPEN
        assert (await client.execute("sleepy", {"text": "trial-2"})).success
        assert client.breaker("sleepy").state is State.CLOSED


async def test_retries_keep_the_trace_id_and_key_and_execute_once(
        bus: Bus, sleepy_worker: Worker, bridge: Bridge) -> None:
    slept: list[float] = []

    async def no_sleep(seconds: float) -> None:
        slept.append(seconds)

    async with VoiceCoreClient(bridge.address, sleep=no_sleep,
                               retry=RetryPolicy(max_attempts=4)) as client:
        result = await client.execute("sleepy", {"text": "r", "seconds": 0.5}, timeout_s=0.2,
                                      conversation_id="conv-retry", idempotency_key="once",
                                      trace_id="retry-trace")
        # The worker times out each 0.2 s attempt too; retries wait on the *same* request.
        assert result.attempts > 1 and len(slept) == result.attempts - 1
        assert result.trace_id == "retry-trace"
        stored = await stored_events(bus, "vc.ev.conv-retry.>")
        assert [e.event_type for e in stored].count("sleepy.requested") == 1
        assert {e.trace_id for e in stored} == {"retry-trace"}
        unkeyed = await client.execute("sleepy", {"text": "r2", "seconds": 0.5}, timeout_s=0.1)
        assert unkeyed.error_code == "TIMEOUT" and unkeyed.attempts == 1  # not retried


async def test_bad_arguments_raise_call_rejected(bridge: Bridge) -> None:
    async with VoiceCoreClient(bridge.address) as client:
        with pytest.raises(CallRejected):
            await client.execute("sleepy", {"text": "x"}, conversation_id="bad id")


async def test_client_events_and_health(
        sleepy_worker: Worker, client: VoiceCoreClient) -> None:
    done = await client.execute("sleepy", {"text": "e"}, conversation_id="conv-ev")
    seen = []
    async for event in client.events(conversation_id="conv-ev", start_sequence=1):
        seen.append(event)
        if len(seen) == 2:
            break
    assert [e.id for e in seen] == [done.request_event_id, done.result_event_id]
    assert "sleepy" in (await client.health()).primitives
