"""The few DuckDB calls the log uses, in one place (DuckDB 2's Python API).

Reads go through relations (``con.sql(...).to_arrow_table()``), never Arrow on
a DB-API result; scalar reads use ``fetchall`` so no result is left unfinished.
Timestamps are read through Arrow (no ``pytz`` needed).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

import duckdb
import pyarrow as pa


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
        with suppress(duckdb.Error):
            run(con, "ROLLBACK")
        raise
    run(con, "COMMIT")
