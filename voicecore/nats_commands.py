"""``voicecore nats-context`` and ``voicecore nats-config``: the stock tools, secured.

``nats-context`` writes a context of the ``nats`` CLI (its own mechanism, ADR-21: a JSON
file in ``~/.config/nats/context/``) for one of ``voicecore up``'s identities, the
read-only ``cli`` one by default, so ``nats --context voicecore sub 'vc.ev.>'`` works
against the authenticated embedded server. ``nats-config`` prints the server
configuration's ``authorization`` block for an external server: every role's
permissions (core/natsperms.py), passwords read from environment variables.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Annotated, Any

import typer

from core import primitive as registry
from core.config import DEFAULT_NATS_PORT, default_data_dir
from core.errors import ConfigError
from core.eventlog.client import service_url
from core.natsauth import (
    ROLES,
    NatsAuth,
    credentials_file,
    ensure_credentials,
    identity,
    user_name,
    without_credentials,
    write_private,
)
from core.natsperms import authorization
from voicecore.options import AsJson, DataDir, NatsUrl, Plugins, load_plugins, with_nats_auth

Role = Annotated[str, typer.Option(
    "--role", help=f"Identity: {', '.join(ROLES)} (cli is read-only)")]


def context_dir() -> Path:
    """Where the ``nats`` CLI looks for contexts (``$XDG_CONFIG_HOME/nats/context``)."""
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "nats" / "context"


def context_for(url: str, auth: NatsAuth, description: str) -> dict[str, Any]:
    """A ``nats`` CLI context (ADR-21 field names) for ``auth`` at ``url``."""
    def text(value: object) -> str:
        return str(value) if value else ""

    return {"description": description, "url": without_credentials(url),
            "user": text(auth.user), "password": text(auth.password),
            "token": text(auth.token), "creds": text(auth.creds), "nkey": text(auth.nkey),
            "cert": text(auth.tls_cert), "key": text(auth.tls_key), "ca": text(auth.tls_ca),
            "inbox_prefix": text(auth.inbox_prefix)}


@with_nats_auth
def nats_context(
    nats_auth: NatsAuth,
    data_dir: DataDir = None,
    nats_url: NatsUrl = None,
    role: Role = "cli",
    name: Annotated[str | None, typer.Option(
        "--name", help="Context name [default: voicecore, or voicecore-ROLE]")] = None,
    as_json: AsJson = False,
) -> None:
    """Write a `nats` CLI context for voicecore's NATS (read-only identity by default)."""
    if role not in ROLES:
        raise ConfigError(f"--role {role!r}: use one of {', '.join(ROLES)}")
    base = data_dir or default_data_dir()
    auth = identity(role, nats_auth, base)
    if not auth.has_credentials:
        raise ConfigError(f"no NATS credentials for {role} in {base}: run `voicecore up` "
                          "once (it generates them), or pass --nats-user/--nats-password, …")
    context = name or ("voicecore" if role == "cli" else f"voicecore-{role}")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", context):
        raise ConfigError(f"--name {context!r}: use 1-64 of A-Z a-z 0-9 _ -")
    url = nats_url or service_url(base) or f"nats://127.0.0.1:{DEFAULT_NATS_PORT}"
    path = context_dir() / f"{context}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private(path, json.dumps(context_for(url, auth, f"voicecore {role} identity"),
                                   indent=2))  # it holds a password: 0600
    stored = credentials_file(base, role)
    if as_json:
        print(json.dumps({"context": context, "path": str(path), "url": without_credentials(url),
                          "role": role, "user": auth.user,
                          "credentials": str(stored) if stored.exists() else None,
                          "inbox_prefix": auth.inbox_prefix,
                          "tls": {"ca": _path(auth.tls_ca), "cert": _path(auth.tls_cert),
                                  "key": _path(auth.tls_key)}}, indent=2))
        return
    print(f"wrote nats context {context!r} ({role} identity {auth.user or auth.describe()}) "
          f"to {path}\nuse it: nats --context {context} sub 'vc.ev.>'")


def _path(value: Path | None) -> str | None:
    return str(value) if value else None


def nats_config(
    plugin: Plugins = None,
    primitive: Annotated[list[str] | None, typer.Option(
        "--primitive", help="Primitives the worker identity serves [all registered]")] = None,
    write: Annotated[Path | None, typer.Option(
        "--write", help="Instead: write DIR/nats-server.conf, a whole server config with "
        "passwords (compose.yaml's), and DIR/credentials/<role>.json (mode 0600)")] = None,
) -> None:
    """Print the `authorization` block of a NATS server config for voicecore's roles."""
    load_plugins(plugin)
    names = primitive or [p.name for p in registry.all_primitives()]
    if write is not None:
        _write_server_config(write, names)
        return
    users = {role: (user_name(role), f"__{_password_var(role)}__") for role in ROLES}
    block = authorization(users, names)
    for role in ROLES:  # NATS config reads $VARIABLES from the server's environment
        block = block.replace(f'"__{_password_var(role)}__"', f"${_password_var(role)}")
    variables = ", ".join(map(_password_var, ROLES))
    print(f"# voicecore's identities and permissions (voicecore nats-config); set each\n"
          f"# password variable in the server's environment ({variables})\n"
          f"# and give each voicecore process its role's user/password (--nats-user, …).\n"
          f"{block}", end="")


COMPOSE_SERVER = """# Written by `voicecore nats-config --write` for compose.yaml's nats service.
server_name: voicecore
port: 4222
# Monitoring, for the healthcheck: on the compose network only (compose.yaml publishes nothing).
http_port: 8222
max_payload: 8MB
jetstream {
  store_dir: "/data"
}
"""


def _write_server_config(folder: Path, primitives: list[str]) -> None:
    """The server config and the credentials it admits, generated once and kept (0600)."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        users = ensure_credentials(folder)
        write_private(folder / SERVER_CONFIG, COMPOSE_SERVER + authorization(users, primitives))
    except OSError as exc:
        raise ConfigError(f"cannot write to {folder}: {exc.strerror or exc}") from exc
    print(f"wrote {folder / SERVER_CONFIG} and {folder / 'credentials'}/<role>.json "
          f"({', '.join(ROLES)})")


SERVER_CONFIG = "nats-server.conf"


def _password_var(role: str) -> str:
    return f"VOICECORE_{role.upper()}_PASSWORD"


def register(app: typer.Typer) -> None:
    app.command("nats-context")(nats_context)
    app.command("nats-config")(nats_config)
