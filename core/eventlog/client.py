"""How the CLI reaches the log: the file itself, or the running sink over NATS.

:func:`open_log` opens ``<data dir>/eventlog.duckdb`` directly (read-only, or
read-write for a redaction) when no process holds it. When ``voicecore up``
holds it, the open fails on DuckDB's lock; the CLI then reads
``eventlog.service.json`` and sends the same operations to the running sink
(:mod:`core.eventlog.service`). Both sources answer the same operations with
the same Arrow tables, so every command works the same either way.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa
from nats.aio.msg import Msg

from core.bus import ServerErrors, open_connection
from core.errors import (
    BusRefused,
    EventLogError,
    LogLocked,
    LogQueryError,
    nats_errors,
    permission_denied,
    translate_duckdb,
)
from core.eventlog import db, reading
from core.eventlog.schema import DB_FILE
from core.eventlog.service import (
    ADMIN_OPS,
    HEADER_ERROR,
    HEADER_KIND,
    HEADER_STATUS,
    SERVICE_FILE,
    from_ipc,
)
from core.eventlog.store import LogStore
from core.natsauth import NatsAuth, identity
from core.subjects import log_admin_subject
from core.text import one_line

log = logging.getLogger(__name__)


class LogSource(Protocol):
    via: str

    def table(self, op: str, **args: Any) -> pa.Table: ...

    def call(self, op: str, **args: Any) -> Any: ...

    def close(self) -> None: ...


class DirectSource:
    via = "file"

    def __init__(self, con: duckdb.DuckDBPyConnection, store: LogStore | None = None) -> None:
        self.con = con
        self.store = store

    def table(self, op: str, **args: Any) -> pa.Table:
        result: pa.Table = reading.answer(self.con, op, args)
        return result

    def call(self, op: str, **args: Any) -> Any:
        if op == "redact":
            if self.store is None:
                raise EventLogError("the event log was opened read-only")
            result = self.store.redact(**args)
            result["stream_erased"] = None  # left in log_erasures: the sink erases them
            result["stream_purged"] = False
            return result
        return reading.answer(self.con, op, args)

    def close(self) -> None:
        self.con.close()


class ServiceSource:
    """The running sink, over NATS request-reply (sync API for the CLI)."""

    via = "service"

    def __init__(self, nats_url: str, subject: str, timeout: float = 300.0,
                 auth: NatsAuth | None = None) -> None:
        self.subject = subject
        self.timeout = timeout
        self.loop = asyncio.new_event_loop()
        try:
            self.errors = ServerErrors(log, quiet=True)  # one error line, no logged traceback
            self.nc = self.loop.run_until_complete(open_connection(
                nats_url, auth or NatsAuth(), self.errors, name="voicecore-log-client",
                max_reconnect_attempts=1))
        except BaseException:
            self.loop.close()
            raise

    def _request(self, op: str, args: dict[str, Any]) -> tuple[str, bytes]:
        body = json.dumps({"op": op, "args": {k: _arg(v) for k, v in args.items()}}).encode()
        subject = log_admin_subject(self.subject) if op in ADMIN_OPS else self.subject
        with nats_errors():
            reply = self.loop.run_until_complete(self._ask(subject, body))
        headers = reply.headers or {}
        if headers.get(HEADER_STATUS) != "ok":
            message = one_line(headers.get(HEADER_ERROR, "no reason given"))
            error = LogQueryError if op == "query" else EventLogError
            raise error(message)
        return headers.get(HEADER_KIND, "json"), reply.data

    async def _ask(self, subject: str, body: bytes) -> Msg:
        """The reply; a request NATS refuses (a permission) fails at once, not at timeout."""
        self.errors.denied.clear()
        asking = asyncio.ensure_future(self.nc.request(subject, body, timeout=self.timeout))
        denied = asyncio.ensure_future(self.errors.denied.wait())
        await asyncio.wait([asking, denied], return_when=asyncio.FIRST_COMPLETED)
        denied.cancel()
        if not asking.done():
            asking.cancel()
            assert self.errors.last is not None
            raise permission_denied(self.errors.last) or BusRefused("NATS refused the request")
        return asking.result()

    def table(self, op: str, **args: Any) -> pa.Table:
        kind, body = self._request(op, args)
        if kind == "file":
            path = Path(body.decode())
            try:
                return from_ipc(path.read_bytes())
            finally:
                path.unlink(missing_ok=True)
        return from_ipc(body)

    def call(self, op: str, **args: Any) -> Any:
        _, body = self._request(op, args)
        return json.loads(body)

    def close(self) -> None:
        try:
            self.loop.run_until_complete(self.nc.close())
        finally:
            self.loop.close()


def _arg(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def log_path(data_dir: Path) -> Path:
    return data_dir / DB_FILE


def open_log(data_dir: Path, *, write: bool = False, nats_url: str | None = None,
             views: Sequence[str] = (), auth: NatsAuth | None = None) -> LogSource:
    """The log of ``data_dir``: the file when free, else the running sink's service,
    asked as ``auth`` (default: credentials from the environment, else the read-only
    identity stored in ``data_dir``, as the CLI finds them). ``views`` (for ``write``): see
    :class:`~core.eventlog.store.LogStore`."""
    path = log_path(data_dir)
    if not path.exists():
        raise EventLogError(f"no event log at {path} (it is created by `voicecore up`)")
    try:
        if write:
            store = LogStore.open(path, wait_s=0.0, views=views)
            return DirectSource(store.con, store)
        return DirectSource(_read_only(path))
    except (duckdb.Error, LogLocked) as exc:
        error = exc if isinstance(exc, LogLocked) else translate_duckdb(
            exc, f"cannot open the event log {path}")
        if not isinstance(error, LogLocked):
            raise error from exc
    # Held by another process (file lock), or by a sink in this very one: ask its service.
    return _service(data_dir, nats_url, auth)


def _read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """The file, read-only, and locked down: a user's SQL sees the log and nothing else."""
    con = db.open_database(path, read_only=True)
    try:
        db.lock_down(con)
    except BaseException:
        con.close()
        raise
    return con


def _service(data_dir: Path, nats_url: str | None, auth: NatsAuth | None) -> ServiceSource:
    service_file = data_dir / SERVICE_FILE
    try:
        info = json.loads(service_file.read_text())
        url, subject = str(nats_url or info["nats_url"]), str(info["subject"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EventLogError(
            f"the event log in {data_dir} is locked by another process and no running "
            f"voicecore answers for it ({service_file} missing or unreadable); stop that "
            "process or retry"
        ) from exc
    return ServiceSource(url, subject,
                         auth=auth or identity("cli", NatsAuth.from_env(), data_dir))


def service_url(data_dir: Path) -> str | None:
    """The NATS URL a running ``voicecore up`` advertises for this data dir, if any."""
    try:
        url = json.loads((data_dir / SERVICE_FILE).read_text())["nats_url"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return str(url) if url else None
