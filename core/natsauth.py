"""Who a process is on NATS: credentials, the one set of connection options, and the
identities the embedded server generates once per data directory.

Every connection (:meth:`core.bus.Bus.connect`, the log client, the embedded server's
readiness check) takes one :class:`NatsAuth`, from flags or the environment
(``--nats-creds`` …, ``VOICECORE_NATS_CREDS`` …) or, when none is given, from the data
directory: ``voicecore up`` writes ``<data-dir>/credentials/<role>.json`` (mode 0600, the
directory 0700) the first time it starts the embedded server, and keeps them after.
Each role has its own inbox prefix (``_INBOX_<role>``), so the server's permissions can
keep one identity from reading the replies sent to another (core/natsperms.py).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import secrets
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import ConfigError

ROLES = ("admin", "bridge", "worker", "sink", "cli", "orchestrator", "caller")
"""admin: streams and redaction; bridge: requests and results; worker: a primitive's
requests and results; sink: the event log and its service; cli: read-only;
orchestrator: drives conversations (its events, its leases); caller: the caller's side
of a conversation (asks for one, sends turns: ``voicecore converse``, a gateway)."""

CREDENTIALS_DIR = "credentials"

ENV = {"creds": "VOICECORE_NATS_CREDS", "nkey": "VOICECORE_NATS_NKEY",
       "user": "VOICECORE_NATS_USER", "password": "VOICECORE_NATS_PASSWORD",
       "token": "VOICECORE_NATS_TOKEN", "tls_ca": "VOICECORE_NATS_TLS_CA",
       "tls_cert": "VOICECORE_NATS_TLS_CERT", "tls_key": "VOICECORE_NATS_TLS_KEY"}
"""The environment variable of each field (the flags' ``envvar``; how ``up`` hands a
child process its identity, never in argv)."""

_SECRET_FIELDS = ("creds", "nkey", "user", "password", "token")


@dataclass(frozen=True)
class NatsAuth:
    """How to authenticate to NATS; all empty = anonymous."""

    creds: Path | None = None
    """A ``.creds`` file (JWT and nkey seed; operator mode)."""
    nkey: Path | None = None
    """A file holding an nkey seed (``SU…``)."""
    user: str | None = None
    password: str | None = None
    token: str | None = None
    tls_ca: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    inbox_prefix: str | None = None
    """Replies come to ``<prefix>.>``; ``None``: nats-py's ``_INBOX``."""

    @property
    def has_credentials(self) -> bool:
        return any(getattr(self, name) for name in _SECRET_FIELDS)

    def describe(self) -> str:
        """Which kind of credential, never its value (for messages)."""
        for name, shown in (("creds", "creds file"), ("nkey", "nkey"), ("user", "user"),
                            ("token", "token")):
            if getattr(self, name):
                return f"{shown} {self.user}" if name == "user" else shown
        return "no credentials"

    def connect_options(self) -> dict[str, Any]:
        """Keyword arguments of ``nats.connect`` for these credentials and TLS."""
        options: dict[str, Any] = {}
        if self.creds:
            options["user_credentials"] = str(self.creds)
        if self.nkey:
            options["nkeys_seed"] = str(self.nkey)
        if self.user:
            options["user"] = self.user
            options["password"] = self.password or ""
        if self.token:
            options["token"] = self.token
        if self.inbox_prefix:
            options["inbox_prefix"] = self.inbox_prefix
        context = self.tls_context()
        if context is not None:
            options["tls"] = context
        return options

    def speaks_tls(self, url: str) -> bool:
        """Whether a connection to ``url`` as this identity is over TLS."""
        return bool(self.tls_ca or self.tls_cert) or "tls://" in url

    def tls_context(self) -> ssl.SSLContext | None:
        if not (self.tls_ca or self.tls_cert):
            return None
        try:
            context = ssl.create_default_context(
                cafile=str(self.tls_ca) if self.tls_ca else None)
            if self.tls_cert:
                context.load_cert_chain(str(self.tls_cert),
                                        str(self.tls_key) if self.tls_key else None)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"NATS TLS files: {exc}") from exc
        return context

    def to_env(self) -> dict[str, str]:
        """The environment that gives a child process exactly this identity."""
        return {var: str(getattr(self, name)) for name, var in ENV.items()
                if getattr(self, name)}

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> NatsAuth:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {name: env.get(var) or None for name, var in ENV.items()}
        for name in ("creds", "nkey", "tls_ca", "tls_cert", "tls_key"):
            values[name] = Path(values[name]) if values[name] else None
        return cls(**values)


def without_auth_env(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` minus every NATS credential variable (before adding a child's own)."""
    return {k: v for k, v in environ.items() if k not in ENV.values()}


def identity(role: str, explicit: NatsAuth, data_dir: Path | None) -> NatsAuth:
    """The identity a process acting as ``role`` connects with: the credentials it was
    given, else the role's stored in ``data_dir``, else anonymous; and the TLS files it
    was given, else those of ``up --nats-tls`` in ``data_dir`` (harmless to a server
    that does not ask for TLS: nats-py then stays in plain text)."""
    auth = explicit
    if not explicit.has_credentials and data_dir is not None:
        stored = load_credentials(data_dir, role)
        if stored is not None:
            auth = dataclasses.replace(auth, user=stored[0], password=stored[1])
    if not (explicit.tls_ca or explicit.tls_cert) and data_dir is not None:
        folder = tls_dir(data_dir)
        if (folder / TLS_CA).exists():
            auth = dataclasses.replace(auth, tls_ca=folder / TLS_CA,
                                       tls_cert=folder / TLS_CLIENT_CERT,
                                       tls_key=folder / TLS_CLIENT_KEY)
    return dataclasses.replace(auth, inbox_prefix=inbox_prefix(role))


TLS_CA, TLS_CLIENT_CERT, TLS_CLIENT_KEY = "ca.pem", "client.pem", "client-key.pem"


def tls_dir(data_dir: Path) -> Path:
    """Where ``up --nats-tls`` keeps its CA and certificates (core/natstls.py)."""
    return data_dir / "nats" / "tls"


def inbox_prefix(role: str) -> str:
    return f"_INBOX_{role}"


def user_name(role: str) -> str:
    return f"voicecore-{role}"


def credentials_dir(data_dir: Path) -> Path:
    return data_dir / CREDENTIALS_DIR


def credentials_file(data_dir: Path, role: str) -> Path:
    return credentials_dir(data_dir) / f"{role}.json"


def load_credentials(data_dir: Path, role: str) -> tuple[str, str] | None:
    """``(user, password)`` of ``role`` stored in ``data_dir``, or ``None``."""
    try:
        stored = json.loads(credentials_file(data_dir, role).read_text())
        return str(stored["user"]), str(stored["password"])
    except (FileNotFoundError, NotADirectoryError):  # none stored (or no such directory)
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"cannot read NATS credentials {credentials_file(data_dir, role)}: "
                          f"{exc}") from exc


def ensure_credentials(data_dir: Path) -> dict[str, tuple[str, str]]:
    """Every role's ``(user, password)``, generated the first time (files 0600, dir 0700)."""
    folder = credentials_dir(data_dir)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)  # an older or hand-made directory: tighten it
    found = {}
    for role in ROLES:
        stored = load_credentials(data_dir, role)
        if stored is None:
            stored = (user_name(role), secrets.token_urlsafe(32))
            write_private(credentials_file(data_dir, role),
                          json.dumps({"user": stored[0], "password": stored[1]}))
        found[role] = stored
    return found


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by this user only (0600), atomically."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text)
    tmp.replace(path)


_USERINFO = re.compile(r"^([a-z]+://)?[^/@]*@")


def masked_url(url: str) -> str:
    """``url`` (comma-separated servers) with any ``user:password@`` shown as ``***@``."""
    return ",".join(_USERINFO.sub(r"\1***@", server.strip()) for server in url.split(","))


def without_credentials(url: str) -> str:
    """``url`` (comma-separated servers) with any ``user:password@`` left out."""
    return ",".join(_USERINFO.sub(r"\1", server.strip()) for server in url.split(","))
