"""Settings shared by the CLI and the services: where data lives, which NATS to use."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_NATS_HOST = "127.0.0.1"
DEFAULT_NATS_PORT = 4222
DEFAULT_GRPC_ADDR = "127.0.0.1:50051"


def default_data_dir() -> Path:
    """``$VOICECORE_DATA_DIR``, else ``$XDG_DATA_HOME/voicecore``, else ~/.local/share/voicecore."""
    explicit = os.environ.get("VOICECORE_DATA_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "voicecore"


@dataclass(frozen=True)
class StreamLimits:
    """Retention of the event stream; the DuckDB event log is the permanent record."""

    max_age_s: float = 7 * 24 * 3600
    max_bytes: int = -1
    duplicate_window_s: float = 120.0
    dlq_max_age_s: float = 30 * 24 * 3600


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
    """How long one pull waits for work; also bounds how fast a stop is noticed."""
    shutdown_grace_s: float = 10.0

    @property
    def heartbeat_s(self) -> float:
        return max(self.ack_wait_s / 3, 0.05)


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=default_data_dir)
    nats_url: str | None = None
    """An external server or cluster (comma-separated URLs); ``None`` = embedded server."""
    nats_host: str = DEFAULT_NATS_HOST
    nats_port: int = DEFAULT_NATS_PORT
    grpc_addr: str = DEFAULT_GRPC_ADDR
    grpc_token: str | None = None
    """When set, gRPC callers must send ``authorization: Bearer <token>`` (bridge/server.py)."""
    streams: StreamLimits = field(default_factory=StreamLimits)
    worker: WorkerOptions = field(default_factory=WorkerOptions)

    @property
    def embedded(self) -> bool:
        return self.nats_url is None
