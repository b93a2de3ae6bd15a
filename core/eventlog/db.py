"""The few DuckDB calls the log uses, in one place (DuckDB 2's Python API).

Opening the file waits a little while another process holds its lock.
Reads go through relations (``con.sql(...).to_arrow_table()``), never Arrow on
a DB-API result; scalar reads use ``fetchall`` so no result is left unfinished.
Timestamps are read through Arrow (no ``pytz`` needed).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from core.errors import LogLocked, translate_duckdb
from core.ignoring import ignored

log = logging.getLogger(__name__)


def open_database(path: Path, *, read_only: bool = False,
                  wait_s: float = 0.0) -> duckdb.DuckDBPyConnection:
    """Open the file, waiting up to ``wait_s`` while another process holds its lock."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            error = translate_duckdb(exc, f"cannot open the event log {path}")
            if not isinstance(error, LogLocked) or time.monotonic() >= deadline:
                raise error from exc
            time.sleep(0.2)


def table(con: duckdb.DuckDBPyConnection, sql: str,
          params: Sequence[Any] | None = None) -> pa.Table:
    relation = con.sql(sql, params=list(params) if params else None)
    if relation is None:
        raise duckdb.InvalidInputException(f"not a query: {sql[:60]}")
    result: pa.Table = relation.to_arrow_table()
    return result


def batches(con: duckdb.DuckDBPyConnection, sql: str, size: int,
            params: Sequence[Any] | None = None) -> Iterator[pa.RecordBatch]:
    relation = con.sql(sql, params=list(params) if params else None)
    if relation is None:
        raise duckdb.InvalidInputException(f"not a query: {sql[:60]}")
    yield from relation.to_arrow_reader(size)


def rows(con: duckdb.DuckDBPyConnection, sql: str,
         params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = con.execute(sql, list(params or [])).fetchall()
    return found


def run(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> None:
    con.execute(sql, list(params or [])).fetchall()


def insert_arrow(con: duckdb.DuckDBPyConnection, target: str, data: pa.Table,
                 columns: Sequence[str] | None = None, replace: bool = False) -> None:
    """``INSERT [OR REPLACE] INTO target SELECT … FROM`` an Arrow table, in one statement."""
    name = f"arrow_{target}"
    con.register(name, data)  # on failure it stays registered until the next call replaces it
    select = ", ".join(columns) if columns else "*"
    verb = "INSERT OR REPLACE" if replace else "INSERT"
    run(con, f"{verb} INTO {target} SELECT {select} FROM {name}")
    con.unregister(name)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """BEGIN … COMMIT; any error rolls back (and is re-raised)."""
    run(con, "BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        with ignored(log, "event log: ROLLBACK after a failed transaction (the failure is "
                     "raised)", duckdb.Error):
            run(con, "ROLLBACK")
        raise
    run(con, "COMMIT")


LOCKED_DOWN = (
    ("autoinstall_known_extensions", "false"),
    ("autoload_known_extensions", "false"),
    ("allow_community_extensions", "false"),
    ("enable_external_access", "false"),  # no files, no ATTACH/COPY, no INSTALL, no network
    ("lock_configuration", "true"),  # last: nothing above can be SET back
)


def lock_down(con: duckdb.DuckDBPyConnection) -> None:
    """Let SQL on ``con``'s database see the log and nothing else, for good.

    Applied to every connection that runs a user's ``log query`` (the read-only
    open of the file, and the running sink's database, whose writer needs nothing
    external either). DuckDB cannot undo it on that database instance.
    """
    for name, value in LOCKED_DOWN:
        run(con, f"SET {name} = {value}")


CHECKPOINT_ATTEMPTS = 50
FILL_ROUNDS = 8
FILLER_TABLE = "erased_blocks_filler"
FILLER_ROW_BYTES = 256
FILLER_ROW = " || ".join(["md5(random()::VARCHAR)"] * (FILLER_ROW_BYTES // 32))
"""Random hex per row (``random()`` is drawn per call), so nothing compresses it away."""


def erase_replaced(con: duckdb.DuckDBPyConnection) -> bool:
    """Leave no copy of values an UPDATE replaced, in the WAL or in the file.

    The WAL holds them until a checkpoint (auto-checkpoints wait for 512 MB of it),
    and a checkpoint writes the new rows into other blocks and only marks the old
    ones free: DuckDB has no secure delete, so their bytes stay in the file until the
    blocks are reused. So: checkpoint; then fill every free block with random filler
    rows (BLOBs are stored uncompressed, block for block) and checkpoint, which writes
    them over the old bytes; then drop the filler and checkpoint again. Costs about
    the file's free space in writes. ``False`` when DuckDB refused to checkpoint.
    """
    if not _checkpoint(con):
        return False
    run(con, f"CREATE OR REPLACE TABLE {FILLER_TABLE} (filler BLOB)")
    for _ in range(FILL_ROUNDS):  # a checkpoint frees its old metadata blocks: fill those too
        free, block_size = free_blocks(con)
        if not free:
            break
        rows = 2 * free * block_size // FILLER_ROW_BYTES + 64  # hex text packs ~2:1 on disk
        run(con, f"INSERT INTO {FILLER_TABLE} SELECT ({FILLER_ROW})::BLOB FROM range({rows})")
        if not _checkpoint(con):
            break
    run(con, f"DROP TABLE {FILLER_TABLE}")
    return _checkpoint(con)


def free_blocks(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """(free blocks in the file, block size)."""
    found = rows(con, "SELECT free_blocks, block_size FROM pragma_database_size() "
                 "WHERE database_name = current_database()")
    return (int(found[0][0]), int(found[0][1])) if found else (0, 0)


def _checkpoint(con: duckdb.DuckDBPyConnection) -> bool:
    """CHECKPOINT, retried while DuckDB refuses it (a transaction on another cursor)."""
    for attempt in range(CHECKPOINT_ATTEMPTS):
        try:
            run(con, "CHECKPOINT")
            return True
        except duckdb.TransactionException as exc:
            log.info("event log: checkpoint attempt %d refused: %s", attempt + 1, exc)
            time.sleep(0.1)
    return False


@contextmanager
def log_errors() -> Iterator[None]:
    """DuckDB errors on the log as :class:`EventLogError` (:func:`core.errors.translate_duckdb`)."""
    try:
        yield
    except duckdb.Error as exc:
        raise translate_duckdb(exc, "the event log could not answer") from exc
