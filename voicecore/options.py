"""What every command module shares: option types and the helpers behind them.

Command modules (:mod:`~voicecore.cli`, :mod:`~voicecore.call_commands`,
:mod:`~voicecore.log_commands`) import this, never each other.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from core import primitive as registry
from core.config import DEFAULT_GRPC_ADDR, Settings, TlsFiles, split_host_port
from core.errors import ConfigError
from core.natsauth import ENV, NatsAuth, masked_url
from core.natsserver import port_in_use
from core.primitive import Primitive
from voicecore.app import Running
from voicecore.loop import run_async as run_async  # where the commands import it from
from voicecore.option_groups import keyword, option_group

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

# --- gRPC TLS and the bearer token: `up`/`bridge` serve with them, `exec`/`events` call ---
GrpcToken = Annotated[str | None, typer.Option(
    "--grpc-token", envvar="VOICECORE_GRPC_TOKEN",
    help="Require 'authorization: Bearer TOKEN' on gRPC (prefer the variable or "
         "--grpc-token-file: a flag shows in `ps`)")]
GrpcTokenFile = Annotated[Path | None, typer.Option(
    "--grpc-token-file", envvar="VOICECORE_GRPC_TOKEN_FILE",
    help="Read the gRPC bearer token from this file")]
GrpcTlsCert = Annotated[Path | None, typer.Option(
    "--grpc-tls-cert", envvar="VOICECORE_GRPC_TLS_CERT",
    help="TLS certificate (PEM): the bridge's; a caller's own for mutual TLS")]
GrpcTlsKey = Annotated[Path | None, typer.Option(
    "--grpc-tls-key", envvar="VOICECORE_GRPC_TLS_KEY", help="Private key (PEM) of --grpc-tls-cert")]
GrpcTlsClientCa = Annotated[Path | None, typer.Option(
    "--grpc-tls-client-ca", envvar="VOICECORE_GRPC_TLS_CLIENT_CA",
    help="Mutual TLS: require client certificates signed by this CA (PEM)")]
GrpcTlsCa = Annotated[Path | None, typer.Option(
    "--grpc-tls-ca", envvar="VOICECORE_GRPC_TLS_CA",
    help="Call over TLS, trusting this CA (PEM) for the bridge's certificate")]
TOKEN_VARIABLE = "VOICECORE_GRPC_TOKEN"
TOKEN_VARIABLES = (TOKEN_VARIABLE, "VOICECORE_GRPC_TOKEN_FILE")


def grpc_token(ctx: typer.Context, name: str, token: str | None,
               token_file: Path | None) -> str | None:
    """The gRPC bearer token: the ``name`` option's value (flag or ``VOICECORE_GRPC_TOKEN``)
    or ``--grpc-token-file``'s content (one, not both). A token given as a flag works,
    with a warning: every local user sees it in ``ps``.

    The variables are then removed from this process's environment, so no child process
    (nats-server, ``up``'s workers and sink) inherits a secret it does not use.
    """
    for variable in TOKEN_VARIABLES:
        os.environ.pop(variable, None)
    if token_file is not None:
        if token is not None:
            raise ConfigError(f"give the gRPC token one way: {TOKEN_VARIABLE} (or the flag) "
                              "or --grpc-token-file, not both")
        return _token_from(token_file)
    if token is not None and _on_command_line(ctx, name):
        print("voicecore: warning: a token on the command line is visible to every local "
              f"user in `ps`; use {TOKEN_VARIABLE} or --grpc-token-file", file=sys.stderr)
    return token or None


def _on_command_line(ctx: typer.Context, name: str) -> bool:
    """Whether option ``name`` came from argv (not the environment). By the source's name:
    typer vendors click privately, so its ``ParameterSource`` is not imported."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name == "COMMANDLINE"


def _token_from(path: Path) -> str:
    try:
        token = path.read_text().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--grpc-token-file {path}: {getattr(exc, 'strerror', None) or exc}"
                          ) from exc
    if not token or any(c.isspace() for c in token):
        raise ConfigError(f"--grpc-token-file {path}: must hold one token (one line, no spaces)")
    return token


def server_tls(cert: Path | None, key: Path | None, client_ca: Path | None) -> TlsFiles | None:
    """The bridge's TLS files, ``None`` (plaintext) when no TLS flag is given."""
    if cert is None and key is None and client_ca is None:
        return None
    return TlsFiles(cert=cert, key=key, ca=client_ca)


def client_tls(ca: Path | None, cert: Path | None, key: Path | None) -> TlsFiles | None:
    """A caller's TLS files, ``None`` (plaintext) when no TLS flag is given."""
    if ca is None and cert is None and key is None:
        return None
    return TlsFiles(cert=cert, key=key, ca=ca)


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
    flags = [inspect.Parameter(f"nats_{name}", inspect.Parameter.KEYWORD_ONLY, default=None,
                               annotation=Annotated[kind, typer.Option(
                                   f"--nats-{name.replace('_', '-')}", envvar=ENV[name],
                                   help=text, show_default=False)])
             for name, (kind, text) in _NATS_AUTH_FLAGS.items()]

    def nats_auth(_ctx: typer.Context, given: dict[str, Any]) -> NatsAuth:
        return NatsAuth(**{name: given[f"nats_{name}"] or None for name in _NATS_AUTH_FLAGS})

    # appended after the command's own options, where `--help` has always listed them
    return option_group(command, "nats_auth", flags, nats_auth, in_place=False)


# --- calling the gRPC bridge: the flags of every command that is a gRPC client --------
@dataclasses.dataclass(frozen=True)
class Caller:
    """How a command reaches the bridge: address, bearer token, TLS files."""

    addr: str
    token: str | None = dataclasses.field(repr=False)
    tls: TlsFiles | None

    def channel(self) -> Any:
        from bridge.tls import open_channel

        return open_channel(self.addr, self.tls)

    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token}"),) if self.token else ()


R = TypeVar("R")


async def through_bridge(caller: Caller, call: Callable[[Caller], Awaitable[R]], *,
                         doing: str, primitives: Callable[[], list[Primitive]]) -> R:
    """``call`` with ``caller``; when nothing listens at its address, with a throwaway
    stack instead (NATS, workers of ``primitives()``, a bridge, in a scratch directory),
    saying so on stderr as ``no bridge at ADDR: DOING through an embedded one``."""
    if port_in_use(*split_host_port(caller.addr)):
        return await call(caller)
    print(f"voicecore: no bridge at {caller.addr}: {doing} through an embedded one",
          file=sys.stderr)
    from voicecore.app import running

    with tempfile.TemporaryDirectory(prefix="voicecore-") as scratch:
        settings = Settings(data_dir=Path(scratch), nats_port=-1, grpc_addr="127.0.0.1:0")
        async with running(settings, primitives(), grpc_bridge=True) as state:
            assert state.bridge is not None
            return await call(Caller(state.bridge.address, None, None))


_CALLER_FLAGS = [
    keyword("grpc_addr", GrpcAddr, DEFAULT_GRPC_ADDR), keyword("token", Token),
    keyword("grpc_token_file", GrpcTokenFile), keyword("grpc_tls_ca", GrpcTlsCa),
    keyword("grpc_tls_cert", GrpcTlsCert), keyword("grpc_tls_key", GrpcTlsKey),
]


def with_grpc_caller(command: Callable[..., T]) -> Callable[..., T]:
    """Give ``command`` the flags of a gRPC client (``--grpc-addr``, ``--token``,
    ``--grpc-token-file``, ``--grpc-tls-ca``, ``--grpc-tls-cert``, ``--grpc-tls-key``,
    each with its ``VOICECORE_GRPC_*`` variable), listed where its ``caller`` parameter
    stands; it receives them as one ``caller: Caller``."""
    def caller(ctx: typer.Context, given: dict[str, Any]) -> Caller:
        return Caller(given["grpc_addr"],
                      grpc_token(ctx, "token", given["token"], given["grpc_token_file"]),
                      client_tls(given["grpc_tls_ca"], given["grpc_tls_cert"],
                                 given["grpc_tls_key"]))

    return option_group(command, "caller", _CALLER_FLAGS, caller, in_place=True)


# --- serving gRPC: the flags of `up` and `bridge` ----------------------------------------
@dataclasses.dataclass(frozen=True)
class Serving:
    """How the bridge serves: the bearer token it requires, its TLS files."""

    token: str | None = dataclasses.field(repr=False)
    tls: TlsFiles | None


_SERVING_FLAGS = [
    keyword("grpc_token", GrpcToken), keyword("grpc_token_file", GrpcTokenFile),
    keyword("grpc_tls_cert", GrpcTlsCert), keyword("grpc_tls_key", GrpcTlsKey),
    keyword("grpc_tls_client_ca", GrpcTlsClientCa),
]


def with_grpc_serving(command: Callable[..., T]) -> Callable[..., T]:
    """Give ``command`` the flags of a gRPC server (``--grpc-token``, ``--grpc-token-file``,
    ``--grpc-tls-cert``, ``--grpc-tls-key``, ``--grpc-tls-client-ca``, each with its
    ``VOICECORE_GRPC_*`` variable), listed where its ``serving`` parameter stands; it
    receives them as one ``serving: Serving``."""
    def serving(ctx: typer.Context, given: dict[str, Any]) -> Serving:
        return Serving(grpc_token(ctx, "grpc_token", given["grpc_token"],
                                  given["grpc_token_file"]),
                       server_tls(given["grpc_tls_cert"], given["grpc_tls_key"],
                                  given["grpc_tls_client_ca"]))

    return option_group(command, "serving", _SERVING_FLAGS, serving, in_place=True)


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
    print(f"voicecore ready: nats {masked_url(state.nats_url)} ({where}), {grpc}primitives: "
          f"{names}, "
          f"data: {state.settings.data_dir}", flush=True)
