"""Settings shared by the CLI and the services: where data lives, which NATS to use."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from core.errors import ConfigError
from core.natsauth import NatsAuth, identity, masked_url
from core.paths import DATA_DIR_ENV as DATA_DIR_ENV
from core.paths import default_data_dir as default_data_dir
from core.subjects import preview

DEFAULT_NATS_HOST = "127.0.0.1"
DEFAULT_NATS_PORT = 4222
DEFAULT_GRPC_ADDR = "127.0.0.1:50051"


def data_dir_problem(path: Path) -> str | None:
    """Why ``path`` cannot be the data directory, or ``None``: it is one this user can read
    and write, or it is missing and can be created (``voicecore up`` creates it)."""
    try:
        if path.exists():
            if not path.is_dir():
                return f"data directory {path} is not a directory"
            if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
                return f"data directory {path} is not readable and writable by this user"
            return None
        parent = next((p for p in path.parents if p.exists()), Path(path.anchor))
    except OSError as exc:  # a parent this user may not search
        return f"data directory {path}: {exc.strerror or exc}"
    if not parent.is_dir():
        return f"data directory {path} cannot be created: {parent} is not a directory"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"data directory {path} cannot be created: {parent} is not writable"
    return None


def prepare_data_dir(path: Path) -> None:
    """Create the data directory if it is missing (after :func:`data_dir_problem` passed)."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)  # it holds credentials
    except OSError as exc:  # e.g. a read-only file system, or a race
        raise ConfigError(f"data directory {path}: {exc.strerror or exc}: pass --data-dir DIR"
                          ) from exc


_NATS_SCHEMES = ("nats", "tls", "ws", "wss")


def nats_url_problem(url: str) -> str | None:
    """What is wrong with a ``--nats-url`` value (comma-separated servers), or ``None``.

    Each server is ``[SCHEME://][USER:PASS@]HOST[:PORT]`` as nats-py reads it (no scheme
    means ``nats://``). Only the syntax is checked here; whether it answers is the connect's.
    """
    servers = [s.strip() for s in url.split(",") if s.strip()]
    if not servers:
        return "--nats-url is empty (e.g. nats://127.0.0.1:4222)"
    for server in servers:
        why = _server_problem(server)
        if why is not None:
            return (f"--nats-url {preview(masked_url(server))}: {why} "  # never echo a password
                    "(e.g. nats://127.0.0.1:4222)")
    return None


def _server_problem(server: str) -> str | None:
    try:
        parts = urlsplit(server if "://" in server else f"nats://{server}")
    except ValueError:
        return "not a URL"
    try:
        port = parts.port
    except ValueError:
        port = 0
    if parts.scheme not in _NATS_SCHEMES:
        return f"the scheme must be one of {', '.join(_NATS_SCHEMES)}"
    if not parts.hostname or any(c.isspace() for c in parts.hostname):
        return "no host name"
    if port == 0:
        return "the port must be a number from 1 to 65535"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return "nothing may follow HOST:PORT"
    return None


@dataclass(frozen=True)
class StreamLimits:
    """Retention of the event stream; the DuckDB event log is the permanent record."""

    max_age_s: float = 7 * 24 * 3600
    max_bytes: int = -1
    duplicate_window_s: float = 120.0
    dlq_max_age_s: float = 30 * 24 * 3600
    audio_ttl_s: float = 7 * 24 * 3600
    """How long the object store ``VC_AUDIO`` keeps stored audio (``up --audio-ttl``)."""
    audio_in_max_age_s: float = 600.0
    """How long ``VC_AUDIO_IN`` keeps streamed chunks: long enough for a stream's owner to
    die and another to re-read it; the utterance itself is kept in ``VC_AUDIO``."""


@dataclass(frozen=True)
class WorkerOptions:
    """Tuning of one primitive's worker (per process)."""

    concurrency: int = 16
    """Requests in flight at once in this process."""
    ack_wait_s: float = 10.0
    """Without an ack or a progress heartbeat for this long, JetStream redelivers."""
    max_deliver: int = 5
    backoff_s: tuple[float, ...] = (0.5, 2.0, 5.0, 10.0)
    """Delay before retry N after a failed attempt (last value repeats)."""
    fetch_timeout_s: float = 0.5
    """Unused since the worker keeps pull requests outstanding (:mod:`core.consumer`: a stop
    is noticed at once); kept so that settings naming it still load."""
    shutdown_grace_s: float = 10.0

    @property
    def heartbeat_s(self) -> float:
        return max(self.ack_wait_s / 3, 0.05)


@dataclass(frozen=True)
class TlsFiles:
    """PEM files of one end of a gRPC TLS connection (``bridge.tls`` reads them).

    On the bridge: ``cert`` and ``key`` are its certificate, ``ca`` (optional) the CA
    that client certificates must be signed by (mutual TLS: then one is required).
    On a caller: ``ca`` is the CA the bridge's certificate must be signed by (``None``:
    the system's roots), ``cert`` and ``key`` (optional) its client certificate.
    """

    cert: Path | None = None
    key: Path | None = None
    ca: Path | None = None


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=default_data_dir)
    nats_url: str | None = None
    """An external server or cluster (comma-separated URLs); ``None`` = embedded server."""
    nats_host: str = DEFAULT_NATS_HOST
    nats_port: int = DEFAULT_NATS_PORT
    nats_auth: NatsAuth = field(default_factory=NatsAuth)
    """Credentials/TLS given by flags or environment; when empty, each role's stored in the
    data directory are used (core/natsauth.py)."""
    nats_no_auth: bool = False
    """Run the embedded server without authentication (``up --no-auth``, demos only)."""
    nats_tls: bool = False
    """Run the embedded server with TLS and client certificates (``up --nats-tls``)."""
    grpc_addr: str = DEFAULT_GRPC_ADDR
    grpc_token: str | None = field(default=None, repr=False)
    """When set, gRPC callers must send ``authorization: Bearer <token>`` (bridge/server.py).
    Never shown: not in ``repr``, not passed to child processes."""
    grpc_tls: TlsFiles | None = None
    """When set, the bridge serves gRPC over TLS with these files (``bridge.tls``)."""
    streams: StreamLimits = field(default_factory=StreamLimits)
    worker: WorkerOptions = field(default_factory=WorkerOptions)

    @property
    def embedded(self) -> bool:
        return self.nats_url is None

    def identity(self, role: str) -> NatsAuth:
        """How a process of this configuration acting as ``role`` connects to NATS."""
        uses_data_dir = not self.nats_no_auth or self.nats_tls  # credentials, TLS files
        return identity(role, self.nats_auth, self.data_dir if uses_data_dir else None)


def split_host_port(addr: str) -> tuple[str, int]:
    """``HOST:PORT`` of a gRPC listen address (``[::1]:50051`` too)."""
    host, sep, port = addr.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ConfigError(f"gRPC address {preview(addr)}: use HOST:PORT (e.g. 127.0.0.1:50051)")
    return host, int(port)


def check_listen_address(addr: str) -> tuple[str, int]:
    """``addr`` split, once its port is known free (a clear error for a busy port before
    gRPC core logs its own multi-line one); port 0 means "any free port"."""
    host, port = split_host_port(addr)
    if port == 0:
        return host, port
    bind_host = host.strip("[]")
    family = socket.AF_INET6 if ":" in bind_host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((bind_host, port))
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {addr} for gRPC (in use?): pass --grpc-addr") from exc
    return host, port
