"""``voicecore log export``: every column of the selected rows, as Parquet or JSON lines.

The destination is a file, or standard output for ``-o -``; a file that fails
half-way is removed and the failure is one line (:class:`ConfigError`).
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from core.errors import ConfigError
from core.eventlog.client import LogSource
from core.eventlog.readback import json_column
from voicecore import literal, render

STDOUT = Path("-")


class Format(enum.StrEnum):
    parquet = "parquet"
    jsonl = "jsonl"


@contextmanager
def output_to(path: Path) -> Iterator[BinaryIO]:
    """The export's destination; a file that fails half-way is removed, with one line."""
    if path == STDOUT:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    shown = literal.escape_controls(str(path))
    try:
        out = path.open("wb")
    except OSError as exc:
        raise ConfigError(f"cannot write {shown}: {exc.strerror or exc}") from exc
    try:
        with out:
            yield out
    except BaseException as exc:
        path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise ConfigError(f"cannot write {shown}: {exc.strerror or exc}") from exc
        raise


def export_pages(source: LogSource, fmt: Format, out: BinaryIO, conversation: str | None,
                 since: dt.datetime | None, page_rows: int,
                 advance: Callable[[int], object],
                 on_page: Callable[[pa.Table], object] | None = None) -> int:
    """Rows written; ``on_page`` sees each page too (``--with-audio`` collects references)."""
    after, written = 0, 0
    writer: pq.ParquetWriter | None = None
    while True:
        page: pa.Table = source.table("page", after_pos=after, limit=page_rows,
                                      conversation_id=conversation, since=since)
        if page.num_rows == 0 and (written or fmt is Format.jsonl):
            break
        if fmt is Format.parquet:
            writer = writer or pq.ParquetWriter(out, page.schema, compression="zstd")
            writer.write_table(page)
        else:
            for row in page.to_pylist():
                row["data"] = json_column(row["data"])
                row["headers"] = json_column(row["headers"])
                out.write(json.dumps(row, default=render.json_default).encode() + b"\n")
        if page.num_rows == 0:
            break
        if on_page is not None:
            on_page(page)
        written += page.num_rows
        advance(page.num_rows)
        after = page.column("pos")[-1].as_py()
    if writer is not None:
        writer.close()
    return written
