"""What every command module shares: option types and the helpers behind them.

Command modules (:mod:`~voicecore.cli`, :mod:`~voicecore.call_commands`,
:mod:`~voicecore.log_commands`) import this, never each other.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import inspect
import os
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from core import primitive as registry
from core.config import Settings
from core.errors import ConfigError
from core.natsauth import ENV, NatsAuth, masked_url
from voicecore.app import Running

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


# --- NATS identity (issue 9): the flags of every command that connects to NATS --------
_PATH, _TEXT = Path | None, str | None
_NATS_AUTH_FLAGS: dict[str, tuple[Any, str]] = {
    "creds": (_PATH, "A NATS .creds file (JWT + nkey seed)"),
    "nkey": (_PATH, "A file holding an nkey seed"),
    "user": (_TEXT, "NATS user name"),
    "password": (_TEXT, "NATS password (prefer the environment variable: argv is public)"),
    "token": (_TEXT, "NATS token (prefer the environment variable: argv is public)"),
    "tls_ca": (_PATH, "CA certificate(s) that sign the NATS server's"),
    "tls_cert": (_PATH, "Client certificate for NATS (mutual TLS)"),
    "tls_key": (_PATH, "Key of --nats-tls-cert"),
}


def with_nats_auth(command: Callable[..., T]) -> Callable[..., T]:
    """Give ``command`` the ``--nats-creds``, ``--nats-nkey``, ``--nats-user``,
    ``--nats-password``, ``--nats-token`` and ``--nats-tls-*`` flags (each with its
    ``VOICECORE_NATS_*`` variable); it receives them as one ``nats_auth: NatsAuth``.
    With none given, each command uses its role's credentials in the data directory."""
    signature = inspect.signature(command, eval_str=True)
    kept = [p for p in signature.parameters.values() if p.name != "nats_auth"]
    added = {f"nats_{name}": Annotated[kind, typer.Option(
        f"--nats-{name.replace('_', '-')}", envvar=ENV[name], help=text, show_default=False)]
        for name, (kind, text) in _NATS_AUTH_FLAGS.items()}

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        given = {name: kwargs.pop(f"nats_{name}") for name in _NATS_AUTH_FLAGS}
        return command(*args, nats_auth=NatsAuth(**{k: v or None for k, v in given.items()}),
                       **kwargs)

    wrapper.__signature__ = signature.replace(parameters=[  # type: ignore[attr-defined]
        *kept, *(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None,
                                   annotation=kind) for name, kind in added.items())])
    wrapper.__annotations__ = {**{p.name: p.annotation for p in kept}, **added}
    return wrapper


def load_plugins(plugins: list[str] | None) -> None:
    env = [m for m in os.environ.get("VOICECORE_PLUGINS", "").split(",") if m.strip()]
    try:
        registry.load_plugins([*env, *(plugins or [])])
    except ImportError as exc:
        raise ConfigError(f"cannot import plugin: {exc}") from exc


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop where available (10-40% more events/s here), else asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def ready_line(state: Running) -> None:
    names = ", ".join(state.primitives) or "none"
    where = "embedded" if state.server else "external"
    grpc = f"grpc {state.bridge.address}, " if state.bridge is not None else ""
    print(f"voicecore ready: nats {masked_url(state.nats_url)} ({where}), {grpc}primitives: "
          f"{names}, "
          f"data: {state.settings.data_dir}", flush=True)
