"""``voicecore exec``, ``voicecore events`` and ``voicecore bridge`` (see voicecore.cli).

grpc is imported inside the commands, so other ``voicecore`` commands start fast.
Errors a user can cause end in one line on stderr and exit status 1.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from typing import Annotated, Any

import msgspec
import typer

from core.config import DEFAULT_GRPC_ADDR
from core.errors import ConfigError
from core.natsauth import NatsAuth
from core.subjects import preview
from voicecore.options import (
    Caller,
    DataDir,
    GrpcAddr,
    Plugins,
    Serving,
    load_plugins,
    ready_line,
    run_async,
    settings,
    with_grpc_caller,
    with_grpc_serving,
    with_nats_auth,
)


def params_types(objective_type: str) -> dict[str, Any] | None:
    """Each param's declared type, for a primitive this process knows (built in, or from
    ``--plugin``): the params Struct of its ``<primitive>.requested`` event. ``None`` when
    the primitive is not known here (the bridge may still serve it) or its params are not
    a Struct."""
    from core import primitive as registry

    prim = registry.get(objective_type)
    if prim is None:
        return None
    data = _field_type(msgspec.inspect.type_info(prim.requested), "data")
    params = _field_type(data, "params")
    if not isinstance(params, msgspec.inspect.StructType):
        return None
    return {f.encode_name: f.type for f in msgspec.structs.fields(params.cls)}


def _field_type(info: msgspec.inspect.Type | None, name: str) -> msgspec.inspect.Type | None:
    if not isinstance(info, msgspec.inspect.StructType):
        return None
    return next((f.type for f in info.fields if f.name == name), None)


def parse_params(pairs: list[str], types: dict[str, Any] | None = None) -> dict[str, Any]:
    """``KEY=VALUE`` pairs as the primitive's params.

    With ``types`` (see :func:`params_types`) each value becomes its param's type:
    ``transcript=4155552671`` stays a string, ``seconds=5`` is a number,
    ``reference_date=2026-01-01`` a date (sent as its ISO text); a value that does not fit,
    or a key the primitive does not take, is a one-line :class:`ConfigError` naming it.
    Without, a value that parses as JSON (number, true, null, [..], {..}) is JSON, anything
    else a string (quote it to force a string: ``--param 'text="123"'``).
    """
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--param {preview(pair)}: use KEY=VALUE")
        if types is None:
            params[key] = _json_or_text(raw)
        elif key not in types:
            raise ConfigError(f"--param {preview(key)}: not a param of this primitive "
                              f"(it takes {', '.join(types)})")
        else:
            params[key] = _typed(key, raw, types[key])
    return params


def _json_or_text(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _typed(key: str, raw: str, declared: Any) -> Any:
    """``raw`` as ``declared`` (lax: text to numbers, booleans, dates), in its JSON form;
    a list/object param is written as JSON."""
    try:
        return msgspec.to_builtins(msgspec.convert(raw, declared, strict=False))
    except msgspec.ValidationError as exc:
        error = exc
    parsed = _json_or_text(raw)
    if parsed is not raw:  # JSON text: the parsed value may fit where the text did not
        with contextlib.suppress(msgspec.ValidationError):
            return msgspec.to_builtins(msgspec.convert(parsed, declared, strict=False))
    raise ConfigError(f"--param {key}={preview(raw)}: {error}") from None


def _to_json(message: Any) -> dict[str, Any]:
    from google.protobuf import json_format

    converted: dict[str, Any] = json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)
    return converted


def json_text(message: Any, indent: int | None = None) -> str:
    """``message`` as JSON with its keys sorted at every level. A result's ``data`` is a
    protobuf ``Struct``, a map whose order the upb runtime varies from process to process:
    unsorted, the same result printed in another order each run (and a key that happened to
    come last lost its trailing comma, which made README examples that quote one line fail)."""
    return json.dumps(_to_json(message), indent=indent, sort_keys=True)


def _call_error(exc: Any) -> ConfigError:
    return ConfigError(f"{exc.code().name}: {exc.details()}")


@with_grpc_caller
def exec_command(
    objective_type: Annotated[str, typer.Argument(help="Primitive to run, e.g. capture_email")],
    param: Annotated[list[str] | None, typer.Option(
        "--param", "-p", help="KEY=VALUE (repeatable; converted to the param's type)")] = None,
    conversation: Annotated[str, typer.Option("--conversation", help="Conversation id")] = "",
    trace_id: Annotated[str, typer.Option("--trace-id", help="Trace id")] = "",
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds (0 = default 30)")] = 0.0,
    purpose: Annotated[str, typer.Option("--purpose", help="Why (audit text)")] = "",
    idempotency_key: Annotated[str, typer.Option("--idempotency-key")] = "",
    *,
    caller: Caller,  # the gRPC caller's flags stand here (with_grpc_caller)
    plugin: Plugins = None,
) -> None:
    """Execute a primitive through the bridge and print the response as JSON."""
    from bridge._proto import voice_core_pb2 as pb
    from bridge.convert import fill_struct
    load_plugins(plugin)  # so a plugin primitive's params get their types too

    request = pb.ExecutePrimitiveRequest(
        objective_type=objective_type, conversation_id=conversation, trace_id=trace_id,
        purpose=purpose, timeout_seconds=timeout, idempotency_key=idempotency_key)
    fill_struct(request.params, parse_params(param or [], params_types(objective_type)))
    response = _run(_execute(caller, request))
    print(json_text(response, indent=2))
    raise typer.Exit(0 if response.success else 1)


async def _execute(caller: Caller, request: Any) -> Any:
    import grpc

    from bridge.client import voice_core_stub

    async with caller.channel() as channel:
        call = voice_core_stub(channel).ExecutePrimitive
        wait = (request.timeout_seconds or 30.0) + 10.0
        try:
            return await call(request, timeout=wait, metadata=caller.metadata())
        except grpc.aio.AioRpcError as exc:
            raise _call_error(exc) from None


@with_grpc_caller
def events_command(
    conversation: Annotated[str, typer.Option("--conversation", help="Only this one")] = "",
    from_start: Annotated[bool, typer.Option("--from-start",
                                             help="Replay stored events first")] = False,
    event_type: Annotated[list[str] | None, typer.Option(
        "--type", help="Only these event types, e.g. capture_email.completed")] = None,
    trace_id: Annotated[str, typer.Option("--trace-id", help="Only this trace")] = "",
    *,
    caller: Caller,  # the gRPC caller's flags (with_grpc_caller)
) -> None:
    """Tail StreamEvents: one JSON event per line, until Ctrl-C."""
    from bridge._proto import voice_core_pb2 as pb

    request = pb.StreamEventsRequest(conversation_id=conversation, trace_id=trace_id,
                                     event_types=event_type or [],
                                     start_sequence=1 if from_start else 0)
    with contextlib.suppress(KeyboardInterrupt):
        _run(_tail(caller, request))


async def _tail(caller: Caller, request: Any) -> None:
    import grpc

    from bridge.client import voice_core_stub

    async with caller.channel() as channel:
        stream = voice_core_stub(channel).StreamEvents
        try:
            async for event in stream(request, metadata=caller.metadata()):
                print(json_text(event), flush=True)
        except grpc.aio.AioRpcError as exc:
            raise _call_error(exc) from None


@with_nats_auth
@with_grpc_serving
def bridge_command(
    nats_auth: NatsAuth,
    *,
    nats_url: Annotated[str, typer.Option("--nats-url", envvar="VOICECORE_NATS_URL",
                                          help="NATS server/cluster to bridge")] = "",
    grpc_addr: GrpcAddr = DEFAULT_GRPC_ADDR,
    serving: Serving,
    plugin: Plugins = None,
    data_dir: DataDir = None,
) -> None:
    """Run only a gRPC bridge (no workers) against a running NATS; several may run."""
    from voicecore.app import serve_until_signalled

    if not nats_url:
        raise ConfigError("bridge needs --nats-url (or VOICECORE_NATS_URL)")
    load_plugins(plugin)
    chosen = settings(data_dir, nats_url, grpc_addr=grpc_addr, nats_auth=nats_auth,
                      grpc_token=serving.token, grpc_tls=serving.tls)
    run_async(serve_until_signalled(chosen, [], ready_line, grpc_bridge=True, role="bridge"))


def _run(main: Any) -> Any:
    try:
        return run_async(main)
    except asyncio.CancelledError:
        sys.exit(130)


def register(app: typer.Typer) -> None:
    app.command("exec")(exec_command)
    app.command("events")(events_command)
    app.command("bridge")(bridge_command)
