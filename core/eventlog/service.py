"""Reading the log while ``voicecore up`` runs: the sink answers over NATS request-reply.

DuckDB allows one process to open the file for writing, and while it is open no
other process may open it at all. So the running sink *is* the log's reader:
it listens on ``vc.log.<log id>`` (core NATS, outside the event stream) and runs
each query on a DuckDB cursor of its own connection, on reader threads, so
queries never block ingest. It writes ``<data dir>/eventlog.service.json``
(pid, NATS URL, subject) while it runs; the CLI finds the file locked, reads
that, and asks. Results travel as Arrow IPC; one too large for a NATS message
is written to ``<data dir>/tmp/`` and its path is sent instead.

Request body: ``{"op": "...", "args": {...}}``; the verbs that change the log
(:data:`ADMIN_OPS`) are answered on ``vc.log.<log id>.admin`` only, which NATS
permissions grant to the admin identity alone (core/natsperms.py). The service file
holds no credentials (the URL is written without them) and is mode 0600. Reply
headers: ``Vc-Log-Status`` (``ok``/``error``), ``Vc-Log-Kind``
(``arrow``/``json``/``file``), ``Vc-Log-Error``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import msgspec
import pyarrow as pa
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from core import subjects
from core.errors import VoiceCoreError
from core.eventlog import db, reading
from core.eventlog.erase import erase_conversation
from core.natsauth import without_credentials, write_private
from core.text import one_line
from schemas import ids
from schemas.limits import check_depth

if TYPE_CHECKING:
    from core.bus import Bus
    from core.eventlog.store import LogStore

log = logging.getLogger(__name__)
SERVICE_FILE = "eventlog.service.json"
HEADER_STATUS = "Vc-Log-Status"
HEADER_KIND = "Vc-Log-Kind"
HEADER_ERROR = "Vc-Log-Error"
DATETIME_ARGS = ("since", "until")
ADMIN_OPS = frozenset({"redact"})
"""Verbs that change the log: on the admin subject only."""


def service_subject(log_id: str) -> str:
    return subjects.log_service_subject(log_id)


def to_ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def from_ipc(body: bytes) -> pa.Table:
    return pa.ipc.open_stream(pa.py_buffer(body)).read_all()


def decode_args(args: dict[str, Any]) -> dict[str, Any]:
    return {k: dt.datetime.fromisoformat(v) if k in DATETIME_ARGS and isinstance(v, str) else v
            for k, v in args.items()}


def _decode_request(body: bytes) -> dict[str, Any]:
    """``{"op": ..., "args": {...}}``; anything else (including a bracket bomb) is a ValueError."""
    try:
        check_depth(body)
        request = msgspec.json.decode(body, type=dict[str, Any])
    except msgspec.MsgspecError as exc:
        raise ValueError(f"not a log service request: {exc}") from exc
    if not isinstance(request.get("args", {}), dict):
        raise ValueError("not a log service request: args must be an object")
    return request


class ServedDatabase(Protocol):
    """The open log file and its threads (``core.eventlog.database.LogDatabase``)."""

    @property
    def store(self) -> LogStore: ...

    async def write(self, fn: Any, *args: Any) -> Any: ...

    async def read(self, fn: Any, *args: Any) -> Any: ...


class ServedLog(Protocol):
    """What the service needs of the running sink (``core.eventlog.sink.Sink``, which
    starts it): named here, so the service does not import the sink that imports it."""

    @property
    def bus(self) -> Bus: ...

    @property
    def db(self) -> ServedDatabase: ...

    @property
    def nats_url(self) -> str | None: ...


class LogService:
    def __init__(self, sink: ServedLog) -> None:
        self.sink = sink
        self.data_dir = sink.db.store.path.parent
        self.subject = service_subject(sink.db.store.log_id)
        self.admin_subject = subjects.log_admin_subject(self.subject)
        self._subs: list[Subscription] = []
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def service_file(self) -> Path:
        return self.data_dir / SERVICE_FILE

    async def start(self) -> None:
        # Queries run on cursors of the sink's own database: lock it down first (on the
        # writer thread, between batches), so a user's SQL cannot reach files or settings.
        await self.sink.db.write(db.lock_down, self.sink.db.store.con)
        nc = self.sink.bus.nc
        self._subs = [await nc.subscribe(subject, cb=self._on_request)
                      for subject in (self.subject, self.admin_subject)]
        url = without_credentials(self.sink.nats_url or _connected_url(nc))
        info = {"pid": os.getpid(), "nats_url": url, "subject": self.subject,
                "log_id": self.sink.db.store.log_id}
        write_private(self.service_file, json.dumps(info))
        self._track(self.erase_pending())

    async def stop(self) -> None:
        for sub in self._subs:
            try:
                await sub.unsubscribe()
            except Exception as exc:
                log.debug("unsubscribe: %s", exc)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self.service_file.unlink(missing_ok=True)

    async def _on_request(self, msg: Msg) -> None:
        self._track(self._answer(msg))

    def _track(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` in a task that :meth:`stop` waits for."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, msg: Msg) -> None:
        try:
            request = _decode_request(msg.data)
            op = str(request["op"])
            if op in ADMIN_OPS and msg.subject != self.admin_subject:
                raise ValueError(f"{op} is answered on {self.admin_subject} only")
            kind, body = await self._run(op, decode_args(request.get("args", {})))
            headers = {HEADER_STATUS: "ok", HEADER_KIND: kind}
        except (VoiceCoreError, KeyError, ValueError, TypeError) as exc:
            # Header values are one line: a multi-line message would corrupt the reply.
            headers, body = {HEADER_STATUS: "error", HEADER_ERROR: one_line(str(exc), 1000)}, b""
        except Exception as exc:
            log.exception("event log query failed")
            headers, body = {HEADER_STATUS: "error", HEADER_ERROR: one_line(repr(exc), 1000)}, b""
        try:
            await self.sink.bus.nc.publish(msg.reply, body, headers=headers)
        except Exception as exc:
            log.warning("event log: reply not sent: %s", exc)

    async def _run(self, op: str, args: dict[str, Any]) -> tuple[str, bytes]:
        database = self.sink.db
        if op == "redact":
            return "json", msgspec.json.encode(await self.redact(**args))
        result = await database.read(reading.answer, op, args)
        if op in reading.JSON_OPS:
            return "json", msgspec.json.encode(result)
        table: pa.Table = result
        body = to_ipc(table)
        if len(body) <= self.sink.bus.nc.max_payload - 8192:
            return "arrow", body
        path = self.data_dir / "tmp" / f"rpc-{ids.uuid7()}.arrow"
        path.parent.mkdir(exist_ok=True)
        await asyncio.to_thread(path.write_bytes, body)
        return "file", str(path).encode()

    async def redact(self, conversation_id: str, reason: str = "") -> dict[str, Any]:
        """Redact on the writer thread (which also erases the replaced values from the
        file: ``db.erase_replaced``); then erase the conversation's stream copies."""
        subjects.check_conversation_id(conversation_id)
        store = self.sink.db.store
        result: dict[str, Any] = await self.sink.db.write(store.redact, conversation_id, reason)
        result["stream_erased"] = await self._erase(conversation_id, store.last_seq)
        result["stream_purged"] = result["stream_erased"] is not None
        return result

    async def erase_pending(self) -> None:
        """Erase the stream copies of conversations redacted while no sink ran (by the CLI
        on the file), or whose erasure failed: the log keeps them in ``log_erasures``."""
        store = self.sink.db.store
        for conversation_id, up_to_seq in await self.sink.db.write(store.pending_erasures):
            await self._erase(conversation_id, up_to_seq)

    async def _erase(self, conversation_id: str, up_to_seq: int) -> dict[str, int] | None:
        """Messages erased per stream; ``None`` when NATS refused (left for the next start)."""
        try:
            erased = await erase_conversation(self.sink.bus, conversation_id, up_to_seq)
        except VoiceCoreError as exc:
            log.warning("event log: stream copies of a redacted conversation not erased "
                        "(retried at the next start): %s", exc)
            return None
        await self.sink.db.write(self.sink.db.store.erased, conversation_id, up_to_seq)
        return erased


def _connected_url(nc: Any) -> str:
    url = nc.connected_url
    return f"nats://{url.hostname}:{url.port}" if url is not None else ""
