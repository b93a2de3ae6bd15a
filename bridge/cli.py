"""``voicecore exec``, ``voicecore events`` and ``voicecore bridge`` (registered in core.cli).

grpc is imported inside the commands, so other ``voicecore`` commands start fast.
Errors a user can cause end in one line on stderr and exit status 1.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from typing import Annotated, Any

import typer

from core.config import DEFAULT_GRPC_ADDR, Settings
from core.errors import ConfigError

GrpcAddr = Annotated[str, typer.Option("--grpc-addr", envvar="VOICECORE_GRPC_ADDR",
                                       help="Address of the gRPC bridge")]
Token = Annotated[str | None, typer.Option("--token", envvar="VOICECORE_GRPC_TOKEN",
                                           help="Bearer token, when the bridge requires one")]


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """``k=v`` pairs; a value that parses as JSON (number, true, null, [..], {..}) is JSON.

    Quote it to force a string: ``--param 'text="123"'``.
    """
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--param {pair!r}: use KEY=VALUE")
        try:
            params[key] = json.loads(raw)
        except ValueError:
            params[key] = raw
    return params


def _to_json(message: Any) -> dict[str, Any]:
    from google.protobuf import json_format

    converted: dict[str, Any] = json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)
    return converted


def _call_error(exc: Any) -> ConfigError:
    return ConfigError(f"{exc.code().name}: {exc.details()}")


def exec_command(
    objective_type: Annotated[str, typer.Argument(help="Primitive to run, e.g. capture_email")],
    param: Annotated[list[str] | None, typer.Option(
        "--param", "-p", help="KEY=VALUE (repeatable; JSON values are parsed)")] = None,
    conversation: Annotated[str, typer.Option("--conversation", help="Conversation id")] = "",
    trace_id: Annotated[str, typer.Option("--trace-id", help="Trace id")] = "",
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds (0 = default 30)")] = 0.0,
    purpose: Annotated[str, typer.Option("--purpose", help="Why (audit text)")] = "",
    idempotency_key: Annotated[str, typer.Option("--idempotency-key")] = "",
    grpc_addr: GrpcAddr = DEFAULT_GRPC_ADDR,
    token: Token = None,
) -> None:
    """Execute a primitive through the bridge and print the response as JSON."""
    from bridge._proto import voice_core_pb2 as pb
    from bridge.convert import fill_struct

    request = pb.ExecutePrimitiveRequest(
        objective_type=objective_type, conversation_id=conversation, trace_id=trace_id,
        purpose=purpose, timeout_seconds=timeout, idempotency_key=idempotency_key)
    fill_struct(request.params, parse_params(param or []))
    response = _run(_execute(grpc_addr, token, request))
    print(json.dumps(_to_json(response), indent=2))
    raise typer.Exit(0 if response.success else 1)


async def _execute(addr: str, token: str | None, request: Any) -> Any:
    import grpc

    from bridge._proto import voice_core_pb2 as pb
    from bridge.client import SERVICE

    async with grpc.aio.insecure_channel(addr) as channel:
        call = channel.unary_unary(
            SERVICE + "ExecutePrimitive",
            request_serializer=pb.ExecutePrimitiveRequest.SerializeToString,
            response_deserializer=pb.ExecutePrimitiveResponse.FromString)
        wait = (request.timeout_seconds or 30.0) + 10.0
        try:
            return await call(request, timeout=wait, metadata=_metadata(token))
        except grpc.aio.AioRpcError as exc:
            raise _call_error(exc) from None


def _metadata(token: str | None) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),) if token else ()


def events_command(
    conversation: Annotated[str, typer.Option("--conversation", help="Only this one")] = "",
    from_start: Annotated[bool, typer.Option("--from-start",
                                             help="Replay stored events first")] = False,
    event_type: Annotated[list[str] | None, typer.Option(
        "--type", help="Only these event types, e.g. capture_email.completed")] = None,
    trace_id: Annotated[str, typer.Option("--trace-id", help="Only this trace")] = "",
    grpc_addr: GrpcAddr = DEFAULT_GRPC_ADDR,
    token: Token = None,
) -> None:
    """Tail StreamEvents: one JSON event per line, until Ctrl-C."""
    from bridge._proto import voice_core_pb2 as pb

    request = pb.StreamEventsRequest(conversation_id=conversation, trace_id=trace_id,
                                     event_types=event_type or [],
                                     start_sequence=1 if from_start else 0)
    with contextlib.suppress(KeyboardInterrupt):
        _run(_tail(grpc_addr, token, request))


async def _tail(addr: str, token: str | None, request: Any) -> None:
    import grpc

    from bridge._proto import voice_core_pb2 as pb
    from bridge.client import SERVICE

    async with grpc.aio.insecure_channel(addr) as channel:
        stream = channel.unary_stream(
            SERVICE + "StreamEvents", request_serializer=pb.StreamEventsRequest.SerializeToString,
            response_deserializer=pb.Event.FromString)
        try:
            async for event in stream(request, metadata=_metadata(token)):
                print(json.dumps(_to_json(event)), flush=True)
        except grpc.aio.AioRpcError as exc:
            raise _call_error(exc) from None


def bridge_command(
    nats_url: Annotated[str, typer.Option("--nats-url", envvar="VOICECORE_NATS_URL",
                                          help="NATS server/cluster to bridge")] = "",
    grpc_addr: GrpcAddr = DEFAULT_GRPC_ADDR,
    grpc_token: Annotated[str | None, typer.Option(
        "--grpc-token", envvar="VOICECORE_GRPC_TOKEN",
        help="Require 'authorization: Bearer TOKEN' from callers")] = None,
    plugin: Annotated[list[str] | None, typer.Option(
        "--plugin", help="Import MODULE to register extra primitives (repeatable)")] = None,
) -> None:
    """Run only a gRPC bridge (no workers) against a running NATS; several may run."""
    from core.app import serve_until_signalled
    from core.cli import _load_plugins, _ready_line, run_async

    if not nats_url:
        raise ConfigError("bridge needs --nats-url (or VOICECORE_NATS_URL)")
    _load_plugins(plugin)
    settings = Settings(nats_url=nats_url, grpc_addr=grpc_addr, grpc_token=grpc_token)
    run_async(serve_until_signalled(settings, [], _ready_line, grpc_bridge=True))


def _run(main: Any) -> Any:
    from core.cli import run_async

    try:
        return run_async(main)
    except asyncio.CancelledError:
        sys.exit(130)


def register(app: typer.Typer) -> None:
    app.command("exec")(exec_command)
    app.command("events")(events_command)
    app.command("bridge")(bridge_command)
