"""What every command module shares: option types and the helpers behind them.

Command modules (:mod:`~voicecore.cli`, :mod:`~voicecore.call_commands`,
:mod:`~voicecore.log_commands`) import this, never each other.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from core import primitive as registry
from core.config import Settings
from core.errors import ConfigError
from voicecore.app import Running
from voicecore.loop import run_async as run_async  # where the commands import it from

T = TypeVar("T")

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory [default: $VOICECORE_DATA_DIR or "
                 "~/.local/share/voicecore]"),
]
NatsUrl = Annotated[
    str | None,
    typer.Option("--nats-url", envvar="VOICECORE_NATS_URL",
                 help="Use this NATS server/cluster (comma-separated) instead of the embedded one"),
]
Plugins = Annotated[
    list[str] | None,
    typer.Option("--plugin", help="Import MODULE to register extra primitives (repeatable)"),
]
AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output")]
GrpcAddr = Annotated[str, typer.Option("--grpc-addr", envvar="VOICECORE_GRPC_ADDR",
                                       help="Address of the gRPC bridge")]
Token = Annotated[str | None, typer.Option("--token", envvar="VOICECORE_GRPC_TOKEN",
                                           help="Bearer token, when the bridge requires one")]


def settings(data_dir: Path | None, nats_url: str | None, **changes: Any) -> Settings:
    if data_dir is not None:
        changes["data_dir"] = data_dir
    return dataclasses.replace(Settings(nats_url=nats_url or None), **changes)


def load_plugins(plugins: list[str] | None) -> None:
    env = [m for m in os.environ.get("VOICECORE_PLUGINS", "").split(",") if m.strip()]
    try:
        registry.load_plugins([*env, *(plugins or [])])
    except ImportError as exc:
        raise ConfigError(f"cannot import plugin: {exc}") from exc


def ready_line(state: Running) -> None:
    names = ", ".join(state.primitives) or "none"
    where = "embedded" if state.server else "external"
    grpc = f"grpc {state.bridge.address}, " if state.bridge is not None else ""
    print(f"voicecore ready: nats {state.nats_url} ({where}), {grpc}primitives: {names}, "
          f"data: {state.settings.data_dir}", flush=True)
