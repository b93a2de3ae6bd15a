"""The ``voicecore`` command line.

Errors a user can cause (bad flags, busy port, unreachable NATS) end in one line
on stderr and exit status 1 (2 for usage), never a traceback.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from core import primitive as registry
from core.config import DEFAULT_GRPC_ADDR, DEFAULT_NATS_PORT, StreamLimits, WorkerOptions
from core.errors import ConfigError, VoiceCoreError
from core.natsauth import NatsAuth
from core.transcribe import TRANSCRIBER
from voicecore.app import SeparateProcesses, select_primitives, serve_until_signalled
from voicecore.call_commands import register as register_bridge_commands
from voicecore.converse_command import register as register_converse_command
from voicecore.flow_commands import register as register_flow_commands
from voicecore.listen_command import register as register_listen_command
from voicecore.log_commands import register as register_eventlog_commands
from voicecore.loop import settle_gc
from voicecore.model_commands import register as register_model_commands
from voicecore.nats_commands import register as register_nats_commands
from voicecore.options import (
    AsJson,
    DataDir,
    NatsUrl,
    Plugins,
    Serving,
    load_plugins,
    ready_line,
    run_async,
    settings,
    with_grpc_serving,
    with_nats_auth,
)
from voicecore.orchestrator_command import register as register_orchestrator_command
from voicecore.speech_commands import register as register_speech_commands
from voicecore.speech_options import Speech, with_speech_settings
from voicecore.transcribe_commands import register as register_transcribe_commands
from voicecore.voice_commands import register as register_voice_commands

app = typer.Typer(
    name="voicecore",
    help="Event-sourced voice primitives over NATS JetStream.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
NO_AUTH_WARNING = ("voicecore: WARNING: --no-auth: the embedded NATS server accepts anyone "
                   "who can reach it, with no credentials and no permissions: any local "
                   "process can read every event and forge results. For demos only.")


@app.command()
@with_nats_auth
@with_grpc_serving
@with_speech_settings
def up(
    ctx: typer.Context,
    nats_auth: NatsAuth,
    *,
    data_dir: DataDir = None,
    nats_url: NatsUrl = None,
    nats_port: Annotated[int, typer.Option(
        min=-1, max=65535, help="Port of the embedded nats-server")] = (
        DEFAULT_NATS_PORT
    ),
    grpc_addr: Annotated[str, typer.Option(help="Address of the gRPC bridge")] = DEFAULT_GRPC_ADDR,
    serving: Serving,
    plugin: Plugins = None,
    no_auth: Annotated[bool, typer.Option(
        "--no-auth", help="Embedded NATS without authentication: anyone who can reach it may "
        "read and forge events (demos only)")] = False,
    nats_tls: Annotated[bool, typer.Option(
        "--nats-tls", help="Embedded NATS with TLS and client certificates from a CA "
        "generated in the data directory")] = False,
    audio_ttl: Annotated[float, typer.Option(
        min=1.0, envvar="VOICECORE_AUDIO_TTL", help="Seconds the audio object store "
        "keeps stored audio [default: 7 days]", show_default=False)] = (
        StreamLimits().audio_ttl_s),
    no_orchestrator: Annotated[bool, typer.Option(
        "--no-orchestrator", help="Run no orchestrator process (conversations are driven "
        "by `voicecore orchestrator` processes elsewhere)")] = False,
    speech: Speech,
) -> None:
    """Start everything in the foreground; Ctrl-C or SIGTERM stops it cleanly."""
    load_plugins(plugin)
    chosen = settings(data_dir, nats_url, nats_port=nats_port, grpc_addr=grpc_addr,
                      grpc_token=serving.token, grpc_tls=serving.tls,
                      nats_auth=nats_auth, nats_no_auth=no_auth, nats_tls=nats_tls,
                      streams=StreamLimits(audio_ttl_s=audio_ttl))
    if no_auth:
        print(NO_AUTH_WARNING, file=sys.stderr, flush=True)
    layout = SeparateProcesses(plugins=tuple(plugin or ()),
                               settings_env=tuple(speech.stt.env().items()),
                               orchestrator=not no_orchestrator)
    run_async(serve_until_signalled(chosen, None, ready_line, grpc_bridge=True,
                                    event_log=True, separate=layout, role="bridge",
                                    tts=speech.tts))
    print("voicecore stopped", flush=True)


@app.command()
@with_nats_auth
@with_speech_settings
def worker(
    nats_auth: NatsAuth,
    *,
    primitives: Annotated[
        list[str] | None, typer.Argument(help="Primitives to serve [all]")
    ] = None,
    nats_url: NatsUrl = None,
    data_dir: DataDir = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Requests in flight")] = 16,
    ack_wait: Annotated[float, typer.Option(min=0.1, help="Seconds before redelivery")] = 10.0,
    max_deliver: Annotated[int, typer.Option(min=1, help="Attempts per request")] = 5,
    plugin: Plugins = None,
    speech: Speech,
) -> None:
    """Run extra worker processes against a running NATS (they share the work)."""
    if not nats_url:
        raise ConfigError("worker needs --nats-url (or VOICECORE_NATS_URL)")
    load_plugins(plugin)
    TRANSCRIBER.configure(speech.stt)
    options = WorkerOptions(concurrency=concurrency, ack_wait_s=ack_wait, max_deliver=max_deliver)
    settle_gc()  # after the imports and plugins, before the first event
    run_async(serve_until_signalled(
        settings(data_dir, nats_url, worker=options, nats_auth=nats_auth),
        select_primitives(primitives), ready_line, role="worker", tts=speech.tts))


@app.command("primitives")
def list_primitives(
    plugin: Plugins = None,
    as_json: AsJson = False,
) -> None:
    """List the registered primitives and their subjects."""
    load_plugins(plugin)
    prims = registry.all_primitives()
    if as_json:
        rows = [{"name": p.name, "description": p.description, "timeout_s": p.timeout_s,
                 "request_subject": f"vc.ev.<conversation_id>.{p.name}.requested"} for p in prims]
        print(json.dumps(rows, indent=2))
        return
    table = Table("primitive", "description", "request subject", "timeout")
    for p in prims:
        table.add_row(p.name, p.description, f"vc.ev.<conversation_id>.{p.name}.requested",
                      f"{p.timeout_s:g}s")
    out.print(table)


@app.command()
@with_nats_auth
def doctor(
    nats_auth: NatsAuth,
    nats_url: NatsUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Check the environment and say what to fix."""
    from core.doctor import run_checks

    ok = run_async(run_checks(settings(data_dir, nats_url, nats_auth=nats_auth), out))
    raise typer.Exit(0 if ok else 1)


@app.command()
def schema() -> None:
    """Print the JSON Schema of every event type."""
    from schemas.event_schema import json_schema

    registry.all_primitives()
    print(json.dumps(json_schema(), indent=2, sort_keys=True))


register_bridge_commands(app)  # exec, events, bridge (voicecore/call_commands.py)
register_eventlog_commands(app)  # log …, replay (voicecore/log_commands.py)
register_nats_commands(app)  # nats-context, nats-config (voicecore/nats_commands.py)
register_voice_commands(app)  # voices, voices pull (voicecore/voice_commands.py)
register_speech_commands(app)  # say (voicecore/speech_commands.py)
register_transcribe_commands(app)  # transcribe (voicecore/transcribe_commands.py)
register_model_commands(app)  # models list|pull|path (voicecore/model_commands.py)
register_listen_command(app)  # listen (voicecore/listen_command.py)
register_orchestrator_command(app)  # orchestrator (voicecore/orchestrator_command.py)
register_converse_command(app)  # converse (voicecore/converse_command.py)
register_flow_commands(app)  # flow check|schema (voicecore/flow_commands.py)


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("VOICECORE_LOG_LEVEL", "WARNING").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        status = app(standalone_mode=False, prog_name="voicecore")
    except typer.TyperException as exc:  # bad flags: one line here (typer would draw a box)
        status = _usage_error(exc)
    except VoiceCoreError as exc:
        print(f"voicecore: error: {exc}", file=sys.stderr)
        status = 1
    except (KeyboardInterrupt, typer.Abort):
        status = 130
    sys.exit(status if isinstance(status, int) else 0)


def _usage_error(exc: typer.TyperException) -> int:
    message = " ".join(exc.format_message().split())  # e.g. "Choose from:\n\tparquet,…"
    if message:  # empty when typer printed the help instead (a group called without command)
        ctx = getattr(exc, "ctx", None)
        where = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        print(f"voicecore: error: {message}{where}", file=sys.stderr)
    return exc.exit_code


if __name__ == "__main__":
    main()
