"""The open event log and the threads that touch it: one writer (every change, in order),
one decoder (rows of the next batch) and two readers (queries, each on its own DuckDB
cursor), all off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from core.eventlog.batch import RowBatch, decode
from core.eventlog.rows import Incoming
from core.eventlog.schema import DB_FILE
from core.eventlog.store import LogStore


class LogDatabase:
    """The open log file and the one thread that touches it for writing."""

    def __init__(self, store: LogStore) -> None:
        self.store = store
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="eventlog-db")
        self.readers = ThreadPoolExecutor(2, thread_name_prefix="eventlog-read")
        self.decoder = ThreadPoolExecutor(1, thread_name_prefix="eventlog-decode")

    @classmethod
    async def open(cls, data_dir: Path, wait_s: float = 10.0,
                   views: Sequence[str] = ()) -> LogDatabase:
        """``views``: see :class:`~core.eventlog.store.LogStore`."""
        store = await asyncio.to_thread(LogStore.open, data_dir / DB_FILE, wait_s, views)
        return cls(store)

    async def decode(self, batch: list[Incoming]) -> RowBatch:
        """:func:`~core.eventlog.batch.decode` on the decoding thread (the next batch is
        decoded there while the writer stores this one)."""
        decoded: RowBatch = await asyncio.get_running_loop().run_in_executor(
            self.decoder, decode, batch)
        return decoded

    async def write(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.writer, fn, *args)

    async def read(self, fn: Any, *args: Any) -> Any:
        """Run ``fn(cursor, *args)`` on a reader thread with its own DuckDB cursor."""

        def call() -> Any:
            cursor = self.store.con.cursor()
            try:
                return fn(cursor, *args)
            finally:
                cursor.close()

        return await asyncio.get_running_loop().run_in_executor(self.readers, call)

    async def close(self) -> None:
        """Close the file last (after the sink stopped and NATS drained)."""
        await self.write(self.store.close)
        for pool in (self.writer, self.readers, self.decoder):
            pool.shutdown(wait=True)

    async def __aenter__(self) -> LogDatabase:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
