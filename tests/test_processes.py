"""Worker processes and the CLI, as separate OS processes against a real nats-server."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys

import pytest

from core import tracing
from core.bus import Bus
from core.natsserver import EmbeddedNats
from schemas import events as ev
from schemas.payloads import Request
from tests.support import proc
from tests.support.plugin import SleepyParams, SleepyRequested
from tests.support.streams import results_for, stream_messages, wait_for_events


def sleepy(text: str, seconds: float = 0.0) -> SleepyRequested:
    return ev.new_event(SleepyRequested, conversation_id="procs", trace_id=f"t-{text}",
                        data=Request(params=SleepyParams(text=text, seconds=seconds)))


async def wait_until_taken(bus: Bus, count: int = 1) -> None:
    for _ in range(200):
        info = await bus.js.consumer_info("VC_EVENTS", "primitive_sleepy")
        if info.num_ack_pending >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("no worker took the request")


async def test_two_worker_processes_share_the_work(bus: Bus, nats_server: EmbeddedNats) -> None:
    workers = [proc.worker(nats_server.url, "sleepy", "--concurrency", "2") for _ in range(2)]
    try:
        sent = [sleepy(f"share-{i}", 0.05) for i in range(40)]
        for r in sent:
            await bus.publish(r)
        found = await wait_for_events(
            bus, lambda f: len(results_for(f, {r.id for r in sent})) == len(sent))
    finally:
        codes = [proc.stop(w).returncode for w in workers]
    assert codes == [0, 0]
    results = results_for(found, {r.id for r in sent})
    assert len({e.causation_id for e in results}) == len(sent)
    producers = {e.producer for e in results}
    assert {p.rsplit(":", 1)[1] for p in producers} == {str(w.pid) for w in workers}


async def test_sigkill_mid_work_is_redelivered_and_completed_once(
    bus: Bus, nats_server: EmbeddedNats
) -> None:
    doomed = proc.worker(nats_server.url, "sleepy", "--ack-wait", "1")
    r = sleepy("survives-sigkill", seconds=1.5)
    await bus.publish(r)
    await wait_until_taken(bus)
    assert proc.stop(doomed, signal.SIGKILL).returncode == -signal.SIGKILL
    survivor = proc.worker(nats_server.url, "sleepy", "--ack-wait", "1")
    try:
        found = await wait_for_events(bus, lambda f: bool(results_for(f, {r.id})))
        await asyncio.sleep(2.5)  # past another ack_wait: no second result may appear
        found = await wait_for_events(bus, lambda f: bool(results_for(f, {r.id})))
    finally:
        assert proc.stop(survivor).returncode == 0
    [result] = results_for(found, {r.id})
    assert result.event_type == "sleepy.completed"
    assert result.attempt == 2
    assert result.producer.endswith(f":{survivor.pid}")


async def test_sigterm_finishes_in_flight_work_before_exiting(
    bus: Bus, nats_server: EmbeddedNats
) -> None:
    w = proc.worker(nats_server.url, "sleepy")
    r = sleepy("finish-me", seconds=1.0)
    await bus.publish(r)
    await wait_until_taken(bus)
    assert proc.stop(w).returncode == 0
    found = await wait_for_events(bus, lambda f: bool(results_for(f, {r.id})), timeout=1)
    [result] = results_for(found, {r.id})
    assert result.producer.endswith(f":{w.pid}")


def test_worker_without_a_nats_url_is_a_one_line_error() -> None:
    done = proc.run("worker", "sleepy")
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "voicecore: error: worker needs --nats-url (or VOICECORE_NATS_URL)")


def test_unknown_primitive_is_a_one_line_error(nats_server: EmbeddedNats) -> None:
    done = proc.run("worker", "nope", "--nats-url", nats_server.url)
    assert done.returncode == 1
    assert done.stderr.startswith("voicecore: error: unknown primitive 'nope' (known: ")
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("bad", ["--concurrency=0", "--ack-wait=x"])
def test_bad_flags_are_usage_errors(bad: str) -> None:
    done = proc.run("worker", "sleepy", "--nats-url", "nats://127.0.0.1:1", bad)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "Invalid value" in done.stderr


def test_sleepy_is_listed_with_its_plugin() -> None:
    done = proc.run("primitives", "--plugin", "tests.support.plugin")
    assert done.returncode == 0
    assert "sleepy" in done.stdout


def test_missing_plugin_is_a_one_line_error() -> None:
    done = proc.run("primitives", "--plugin", "no.such.module")
    assert done.returncode == 1
    assert done.stderr.strip() == "voicecore: error: cannot import plugin: No module named 'no'"


def test_doctor_against_nothing_says_what_to_fix() -> None:
    done = proc.run("doctor", "--nats-url", f"nats://127.0.0.1:{proc.free_port()}")
    assert done.returncode == 1
    assert "NATS reachable" in done.stdout and "FAIL" in done.stdout
    assert "voicecore up" in done.stdout


def test_process_helper_reports_a_failed_start() -> None:
    child = proc.voicecore("worker", "sleepy")
    with pytest.raises(AssertionError, match="needs --nats-url"):
        proc.wait_ready(child)
    assert child.returncode == 1  # the helper reaped it: its own exit status, not a kill


def test_process_helper_kills_a_child_that_never_gets_ready() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "print('starting', flush=True); import time; time.sleep(60)"],
        text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        with pytest.raises(AssertionError, match="not ready: 'starting"):
            proc.wait_ready(child)
        assert child.returncode == -signal.SIGKILL  # gone, not left running
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate(timeout=10)


async def test_a_request_whose_deliveries_all_die_is_answered_and_dead_lettered(
    bus: Bus, nats_server: EmbeddedNats
) -> None:
    flags = ("sleepy", "--ack-wait", "0.5", "--max-deliver", "1")
    doomed = proc.worker(nats_server.url, *flags)
    r = sleepy("dies-every-time", seconds=30)
    await bus.publish(r)
    await wait_until_taken(bus)
    # The advisory goes to whoever listens when ack_wait runs out: a live worker must be there.
    survivor = proc.worker(nats_server.url, *flags)
    proc.stop(doomed, signal.SIGKILL)
    try:
        found = await wait_for_events(bus, lambda f: bool(results_for(f, {r.id})))
    finally:
        proc.stop(survivor)
    [result] = results_for(found, {r.id})
    assert result.event_type == "sleepy.failed"
    assert result.data.code == "PRIMITIVE_FAILED"
    assert result.data.message == "max deliveries (1) exhausted without an ack"
    dead = await stream_messages(bus, "VC_DLQ")
    assert [m.data for m in dead] == [ev.encode(r)]


async def test_console_trace_export_is_opt_in(bus: Bus, nats_server: EmbeddedNats) -> None:
    traced = proc.voicecore("worker", "sleepy", "--nats-url", nats_server.url,
                            "--plugin", "tests.support.plugin",
                            env={"VOICECORE_TRACE_EXPORTER": "console"})
    proc.wait_ready(traced)
    r = sleepy("exported")
    await bus.publish(r)
    await wait_for_events(bus, lambda f: bool(results_for(f, {r.id})))
    stopped = proc.stop(traced)
    assert stopped.returncode == 0
    assert '"name": "process sleepy.requested"' in stopped.stdout
    assert '"name": "publish sleepy.completed"' in stopped.stdout
    assert f'"trace_id": "0x{tracing.otel_trace_id(r.trace_id):032x}"' in stopped.stdout


def test_unknown_trace_exporter_is_a_one_line_error(nats_server: EmbeddedNats) -> None:
    done = proc.run("worker", "sleepy", "--nats-url", nats_server.url,
                    "--plugin", "tests.support.plugin", env={"VOICECORE_TRACE_EXPORTER": "jaeger"})
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "voicecore: error: VOICECORE_TRACE_EXPORTER='jaeger': use none, console or otlp")
