"""One error tree, mapped once per library: voicecore error ↔ gRPC status, DuckDB, and
nothing swallowed without a log line and a count."""

from __future__ import annotations

import asyncio
import importlib
import logging
import pkgutil
from pathlib import Path

import duckdb
import grpc
import pytest
from nats.js.errors import KeyNotFoundError

from bridge import client as client_module
from bridge._proto import voice_core_pb2 as pb
from bridge.client import (
    CallRejected,
    CircuitOpen,
    CoreError,
    CoreUnavailable,
    DeadlineExceeded,
    VoiceCoreClient,
    error_for_status,
)
from bridge.errors import CallError, GrpcError, failure_error, status_for
from bridge.reader import StartAt, StreamReader
from bridge.server import Bridge
from core import consumer as consumer_module
from core import errors, ignoring
from core.bus import Bus
from core.consumer import Ordered, PullConsumer
from core.subjects import EVENTS_STREAM
from orchestrator.lease import LeaseLost

S = grpc.StatusCode

LAYERS = ("core", "bridge", "schemas", "orchestrator")
EXPECTED_STATUS: dict[type[errors.VoiceCoreError], grpc.StatusCode] = {
    errors.VoiceCoreError: S.INTERNAL,
    errors.ConfigError: S.FAILED_PRECONDITION,
    errors.InvalidConversationId: S.INVALID_ARGUMENT,
    errors.EmbeddedServerError: S.UNAVAILABLE,
    errors.BusError: S.INTERNAL,
    LeaseLost: S.INTERNAL,  # the orchestrator's own (never answered over gRPC)
    errors.BusUnavailable: S.UNAVAILABLE,
    errors.BusRefused: S.INTERNAL,
    errors.StreamError: S.INTERNAL,
    errors.PrimitiveError: S.INTERNAL,
    errors.InvalidParams: S.INVALID_ARGUMENT,
    errors.UnknownVoice: S.NOT_FOUND,
    errors.InvalidAudio: S.INVALID_ARGUMENT,
    errors.AudioUnavailable: S.NOT_FOUND,
    errors.EngineUnavailable: S.UNAVAILABLE,
    errors.ModelNotFound: S.UNAVAILABLE,
    errors.EventLogError: S.INTERNAL,
    errors.LogQueryError: S.INVALID_ARGUMENT,
    errors.LogUnwritable: S.UNAVAILABLE,
    errors.LogLocked: S.UNAVAILABLE,
    GrpcError: S.UNKNOWN,
    CoreError: S.UNKNOWN,
    CoreUnavailable: S.UNAVAILABLE,
    CircuitOpen: S.UNAVAILABLE,
    CallRejected: S.INVALID_ARGUMENT,
    DeadlineExceeded: S.DEADLINE_EXCEEDED,
}


def _all_subclasses(cls: type[errors.VoiceCoreError]) -> set[type[errors.VoiceCoreError]]:
    found = {cls}
    for sub in cls.__subclasses__():
        found |= _all_subclasses(sub)
    return found


def _import_every_module() -> None:
    """Every module of the layers, so the tree is the whole tree whatever ran before."""
    for package in LAYERS:
        root = importlib.import_module(package)
        for module in pkgutil.walk_packages(root.__path__, f"{package}."):
            importlib.import_module(module.name)


def test_every_voicecore_error_class_has_its_status() -> None:
    _import_every_module()
    tree = {c for c in _all_subclasses(errors.VoiceCoreError)
            if c.__module__.split(".")[0] in LAYERS}
    assert tree - {CallError} == set(EXPECTED_STATUS), "a new error class needs its status here"
    for cls, status in EXPECTED_STATUS.items():
        assert status_for(cls("why")) == status, cls.__name__


def test_a_call_error_is_answered_with_its_own_status() -> None:
    for code in S:
        assert status_for(CallError(code, "why")) == code


def test_a_failure_event_code_ends_a_streamed_call_with_its_class_status() -> None:
    expected = {"ENGINE_UNAVAILABLE": S.UNAVAILABLE, "INVALID_PARAMS": S.INVALID_ARGUMENT,
                "INVALID_AUDIO": S.INVALID_ARGUMENT, "AUDIO_UNAVAILABLE": S.NOT_FOUND,
                "PRIMITIVE_FAILED": S.INTERNAL, "TIMEOUT": S.DEADLINE_EXCEEDED,
                "NO_MATCH": S.NOT_FOUND, "SOMETHING_NEW": S.INTERNAL}
    for code, status in expected.items():
        error = failure_error(code, "what the worker said")
        assert (error.status, str(error)) == (status, f"{code}: what the worker said"), code


EXPECTED_CLIENT_ERROR = {
    S.UNAVAILABLE: CoreUnavailable,
    S.DEADLINE_EXCEEDED: DeadlineExceeded,
    S.INVALID_ARGUMENT: CallRejected,
    S.UNAUTHENTICATED: CallRejected,
    S.PERMISSION_DENIED: CallRejected,
}


def test_every_status_becomes_one_client_error_that_keeps_it() -> None:
    for code in S:
        if code == S.OK:
            continue
        error = error_for_status(code, "details", trace_id="t1")
        assert type(error) is EXPECTED_CLIENT_ERROR.get(code, CoreError), code
        assert isinstance(error, errors.VoiceCoreError)
        assert error.status == code and status_for(error) == code
        assert error.trace_id == "t1"
        assert str(error).startswith(f"{code.name}: details") or \
            str(error) == f"voice core unavailable ({code.name}: details)"
        assert error.retryable == (code == S.UNAVAILABLE)


async def test_stream_events_refused_by_jetstream_is_internal_like_execute(
        bus: Bus, bridge: Bridge, client: VoiceCoreClient) -> None:
    """A JetStream API refusal (here: no event stream to read) is INTERNAL on every
    servicer; StreamEvents used to answer UNAVAILABLE where ExecutePrimitive said INTERNAL."""
    await bus.js.delete_stream(EVENTS_STREAM)
    with pytest.raises(CoreError) as raised:
        async for _ in client.events(conversation_id="c1"):
            pass
    assert raised.value.status == S.INTERNAL
    assert "JetStream refused" in str(raised.value)


async def test_health_check_answers_and_counts_a_failing_jetstream(
        bus: Bus, bridge: Bridge, client: VoiceCoreClient,
        caplog: pytest.LogCaptureFixture) -> None:
    from bridge.health import JETSTREAM_DOWN

    await bus.js.delete_stream(EVENTS_STREAM)
    before = ignoring.IGNORED[JETSTREAM_DOWN]
    with caplog.at_level(logging.INFO, logger="bridge.health"):
        health = await client.health()
    assert health.status == pb.NOT_SERVING
    assert ignoring.IGNORED[JETSTREAM_DOWN] == before + 1
    assert any(JETSTREAM_DOWN in r.getMessage() for r in caplog.records)


class _BuggyConsumer(PullConsumer):
    """A consumer whose message handling has a bug (raises what no bus error is)."""

    def _on_delivery(self, msg: object) -> None:
        raise ZeroDivisionError("a bug in the consumer")


async def test_a_bug_in_the_reader_is_logged_and_raised_not_a_silent_reopen_loop(
        bus: Bus, caplog: pytest.LogCaptureFixture) -> None:
    consumer = _BuggyConsumer(bus, Ordered(("vc.ev.>",)), credit=8)
    await bus.nc.publish("vc.ev.c1.capture_email.requested", b"{}")  # stored: one to read
    lost_before = ignoring.IGNORED[consumer_module.LOST]
    await consumer.start()
    try:
        with caplog.at_level(logging.INFO, logger="core.consumer"), \
                pytest.raises(ZeroDivisionError):
            # The guard only stops a regression from hanging the suite: a consumer that
            # turns the bug into a reopen loop never raises.
            await asyncio.wait_for(consumer.next(), 60)
    finally:
        await consumer.stop()
    errors_logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors_logged and "unexpected error" in errors_logged[0].getMessage()
    assert ignoring.IGNORED[consumer_module.LOST] == lost_before


async def test_a_lost_consumer_is_logged_counted_and_reopened_after_the_last_sequence(
        bus: Bus, caplog: pytest.LogCaptureFixture) -> None:
    await bus.js.publish("vc.ev.c1.capture_email.requested", b"first")
    reader = StreamReader(bus, ["vc.ev.>"], StartAt(sequence=1))
    await reader.open()
    before = ignoring.IGNORED[consumer_module.LOST]
    try:
        assert (await reader.next()).data == b"first"
        with caplog.at_level(logging.INFO, logger="core.consumer"):
            await bus.js.delete_consumer(EVENTS_STREAM, reader.consumer.name)
            await bus.js.publish("vc.ev.c1.capture_email.requested", b"second")
            again = await asyncio.wait_for(reader.next(), 60)  # guards a hang only
    finally:
        await reader.close()
    assert (again.sequence, again.data) == (2, b"second")
    assert ignoring.IGNORED[consumer_module.LOST] == before + 1
    assert any(consumer_module.LOST in r.getMessage() for r in caplog.records)


def test_duckdb_errors_are_mapped_in_one_place(tmp_path: Path) -> None:
    path = tmp_path / "log.duckdb"
    writer = duckdb.connect(str(path))
    try:
        with pytest.raises(duckdb.Error) as held:
            duckdb.connect(str(path), read_only=True)  # same file, other configuration
        locked = errors.translate_duckdb(held.value, "cannot open")
        assert type(locked) is errors.LogLocked
        assert isinstance(locked, errors.LogUnwritable)
        assert str(locked).startswith("cannot open: ")
        with pytest.raises(duckdb.Error) as bad:
            writer.execute("SELEC 1")
        query = errors.translate_duckdb(bad.value, "", errors.LogQueryError)
        assert type(query) is errors.LogQueryError
        assert "\n" not in str(query)
        assert errors.log_write_failure(bad.value) is None  # the rows' fault, not the file's
        assert isinstance(errors.log_write_failure(duckdb.IOException("disk full")),
                          errors.LogUnwritable)
    finally:
        writer.close()


def test_client_module_keeps_its_public_names() -> None:
    for name in ("CoreError", "CoreUnavailable", "CircuitOpen", "CallRejected",
                 "DeadlineExceeded", "SERVICE"):
        assert hasattr(client_module, name)
    assert issubclass(client_module.CoreError, errors.VoiceCoreError)
    assert issubclass(CallError, errors.VoiceCoreError)


def test_a_key_value_error_maps_like_any_jetstream_refusal() -> None:
    """nats-py's key-value errors are APIErrors made without APIError's fields."""
    mapped = errors.translate(KeyNotFoundError())
    assert isinstance(mapped, errors.StreamError)
    assert str(mapped) == "JetStream refused: nats: key not found (code None)"
