"""``voicecore log verify``: recompute both hash chains and name the first broken link."""

from __future__ import annotations

from typing import Any

import duckdb

from core.eventlog import chain, db
from core.eventlog.schema import NAMES

CHUNK = 50_000


def verify(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """``{"ok", "rows", "conversations", "log_head", "broken": {...} | None}``."""
    found = db.rows(con, "SELECT last_pos, log_head FROM log_meta")
    meta = found[0] if found else None
    if meta is None:
        return {"ok": True, "rows": 0, "conversations": 0, "log_head": chain.LOG_GENESIS,
                "broken": None}
    walker = _Walker()
    reader = db.batches(
        con, f"SELECT {', '.join(NAMES)}, epoch_us(occurred_at) AS occurred_us FROM log_events "
        "ORDER BY pos", CHUNK)
    for batch in reader:
        for row in batch.to_pylist():
            if not walker.step(row):
                return walker.report(False)
    if walker.broken is None:
        walker.finish(meta[0], meta[1], _stored_heads(con))
    return walker.report(walker.broken is None)


def _stored_heads(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, int]]:
    rows = db.rows(con, "SELECT conversation_id, head, events FROM log_heads")
    return {cid: (head, count) for cid, head, count in rows}


class _Walker:
    def __init__(self) -> None:
        self.rows = 0
        self.pos = 0
        self.log_head = chain.LOG_GENESIS
        self.heads: dict[str, tuple[str, int]] = {}
        self.previous: dict[str, Any] | None = None
        self.broken: dict[str, Any] | None = None

    def step(self, row: dict[str, Any]) -> bool:
        cid = row["conversation_id"]
        where = {"pos": row["pos"], "seq": row["seq"], "sub": row["sub"], "event_id": row["id"],
                 "conversation_id": cid}
        if row["pos"] != self.pos + 1:
            return self._break("log", where, self._gap_reason(row))
        log_head = chain.log_link(self.log_head, row)
        if log_head != row["log_hash"]:
            return self._break("log", where, "the row's envelope or position does not match its "
                               "log hash (edited, or rows were reordered)")
        head, count = self.heads.get(cid, (chain.conversation_genesis(cid), 0))
        expected = chain.conversation_link(head, row)
        if expected != row["hash"]:
            return self._break("conversation", where, "the row's content does not match its "
                               "conversation hash (edited outside a redaction)")
        self.heads[cid] = (expected, count + 1)
        self.log_head, self.pos, self.previous = log_head, row["pos"], row
        self.rows += 1
        return True

    def _gap_reason(self, row: dict[str, Any]) -> str:
        missing = row["pos"] - self.pos - 1
        if missing > 0:
            after = f" after seq {self.previous['seq']}" if self.previous else " at the start"
            return f"{missing} row(s) missing before this one{after} (deleted)"
        return f"position {row['pos']} repeats or goes back (expected {self.pos + 1})"

    def finish(self, last_pos: int, log_head: str, stored: dict[str, tuple[str, int]]) -> None:
        last = {"pos": self.pos, "seq": self.previous["seq"] if self.previous else None}
        if self.pos != last_pos or self.log_head != log_head:
            self._break("log", last, f"the log ends at position {self.pos} but was committed up "
                        f"to position {last_pos}: its last row(s) were deleted")
            return
        for cid, (head, count) in stored.items():
            if self.heads.get(cid) != (head, count):
                have = self.heads.get(cid, ("", 0))[1]
                self._break("conversation", {"conversation_id": cid},
                            f"conversation has {have} row(s) but its committed head covers "
                            f"{count}: its last row(s) were deleted")
                return

    def _break(self, which: str, where: dict[str, Any], reason: str) -> bool:
        self.broken = {"chain": which, **where, "reason": reason}
        return False

    def report(self, ok: bool) -> dict[str, Any]:
        return {"ok": ok, "rows": self.rows, "conversations": len(self.heads),
                "log_head": self.log_head, "broken": self.broken}
