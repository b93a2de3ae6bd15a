"""The writer side of the DuckDB file: batches in, exactly once; redaction.

One process writes the file (DuckDB's rule). :meth:`LogStore.apply` takes a batch
of stream messages and, in one transaction, inserts the new rows through Arrow,
updates the conversation heads and commits the last applied stream sequence
with them. Messages at or below that sequence (redeliveries after a crash) are
skipped, and an event id already in the log (a re-publish outside JetStream's
de-duplication window) is dropped and counted, so every event is stored once.
Every other message is stored: as an event, or quarantined with the reason
(:mod:`core.eventlog.rows`); only a file that cannot be written stops ingest
(:class:`core.errors.LogUnwritable`, retried by the sink).
All methods block: callers run them on the log's single DB thread.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import msgspec
import pyarrow as pa

from core.errors import (
    EventLogError,
    LogUnwritable,
    log_write_failure,
)
from core.eventlog import chain, db
from core.eventlog.batch import RowBatch, chain_texts, decode, table
from core.eventlog.redact import scrub_rows
from core.eventlog.rows import Incoming, headers_text, quarantined_row, redaction_row
from core.eventlog.schema import DDL, NAMES, VIEWS, to_arrow
from schemas import ids
from schemas.payloads import Redaction

log = logging.getLogger(__name__)

HEAD_CACHE_MAX = 200_000
WAL_AUTOCHECKPOINT = "512MB"
WRITER_THREADS = 1
_HEADS = ("SELECT unnest(?::VARCHAR[]) AS conversation_id, unnest(?::VARCHAR[]) AS head, "
          "?::BIGINT AS last_pos, unnest(?::BIGINT[]) AS events")
_UPDATE_HEADS = (f"UPDATE log_heads SET head = h.head, last_pos = h.last_pos, events = h.events "
                 f"FROM ({_HEADS}) h WHERE log_heads.conversation_id = h.conversation_id")
_INSERT_HEADS = f"INSERT INTO log_heads {_HEADS}"


def now_us() -> int:
    return time.time_ns() // 1000


class LogStore:
    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path,
                 views: Sequence[str] = ()) -> None:
        """``views``: statements creating the views built above the core (the
        conversation model's, ``orchestrator.views``)."""
        self.con = con
        self.path = path
        for statement in [*DDL, *VIEWS, *views]:
            db.run(con, statement)
        found = db.rows(con, "SELECT log_id, last_seq, last_pos, log_head FROM log_meta")
        meta = found[0] if found else (ids.uuid7(), 0, 0, chain.LOG_GENESIS)
        if not found:
            db.run(con, "INSERT INTO log_meta VALUES (1, ?, ?, ?, ?, 0, now())", list(meta))
        self.log_id: str = meta[0]
        self.last_seq: int = meta[1]
        self.last_pos: int = meta[2]
        self.log_head: str = meta[3]
        self._heads: dict[str, tuple[str, int]] = {}
        # Every row of log_heads is in _heads (None: not known yet): a conversation missing
        # from it is new, and a transaction need not read log_heads.
        self._every_head_cached: bool | None = None

    @classmethod
    def open(cls, path: Path, wait_s: float = 10.0, views: Sequence[str] = ()) -> LogStore:
        path.parent.mkdir(parents=True, exist_ok=True)
        con = db.open_database(path, wait_s=wait_s)
        # Checkpoints rewrite the ART indexes, so with DuckDB's 16 MB default they come
        # ever more often and cost ever more as the log grows (ingest fell from 39k to
        # 21k rows/s by 400k rows here); at 512 MB the rate stays flat. The WAL is
        # replayed on open after a crash, and checkpointed on a clean close.
        db.run(con, f"SET wal_autocheckpoint = '{WAL_AUTOCHECKPOINT}'")
        # One thread: an insert of a batch gains nothing from a second one, whose
        # coordination cost about a fifth of the insert's CPU (and the sink's readers, which
        # share this database, run on a machine whose other cores serve the bridge/workers).
        db.run(con, f"SET threads = {WRITER_THREADS}")
        return cls(con, path, views)

    def close(self) -> None:
        self.con.close()

    # --- ingest -------------------------------------------------------------------

    def apply(self, batch: Sequence[Incoming]) -> int:
        """Store the messages not stored yet; returns how many rows were inserted.

        Raises :class:`LogUnwritable` when the file cannot be written: nothing of what
        failed is stored, and the caller retries. A message whose row the file refuses
        for any other reason is stored quarantined instead (found by halving the batch),
        so no message can block the ones after it.
        """
        return self.apply_decoded(decode(batch))

    def apply_decoded(self, batch: RowBatch) -> int:
        """:meth:`apply` of messages already decoded (:func:`~core.eventlog.batch.decode`)."""
        new = batch.after(self.last_seq)  # redeliveries skipped, in order, each once
        return self._store(new) if new else 0

    def _store(self, batch: RowBatch) -> int:
        first = batch.first_of_each_id()
        try:
            return self._insert(first, batch.seqs[-1], len(batch) - len(first))
        except Exception as exc:
            if (unwritable := log_write_failure(exc)) is not None:
                raise unwritable from exc
            refused = exc
        if len(batch) == 1:
            return self._quarantine(batch.messages[0], refused)
        half = len(batch) // 2
        return (self._store(batch.take(range(half)))
                + self._store(batch.take(range(half, len(batch)))))

    def _insert(self, batch: RowBatch, last_seq: int, duplicates: int) -> int:
        try:
            self._commit(batch, last_seq, duplicates)
        except duckdb.ConstraintException:  # rolled back; find the ids already stored
            ids_ = batch.columns["id"]
            known = self._known_ids(ids_)
            kept = batch.take([i for i, id_ in enumerate(ids_) if id_ not in known])
            log.warning("event log: %d event id(s) already stored, dropped",
                        len(batch) - len(kept))
            self._commit(kept, last_seq, duplicates + len(batch) - len(kept))
            batch = kept
        return len(batch)

    def _quarantine(self, message: Incoming, refused: Exception) -> int:
        """Store one message whose event row the file refused, quarantined."""
        seq, subject, body, headers = message
        reason = f"not storable as an event: DuckDB/Arrow refused it ({type(refused).__name__})"
        log.warning("event log: stream sequence %d stored quarantined: %s", seq, reason)
        row = quarantined_row(seq, subject, body, headers_text(headers), reason)
        try:
            self._commit(RowBatch.of_rows([message], [row]), seq, 0)
        except Exception as exc:  # even the quarantined row: the file, not the message
            raise log_write_failure(exc) or LogUnwritable(
                f"the event log cannot be written: {type(exc).__name__}") from exc
        return 1

    def _commit(self, batch: RowBatch, last_seq: int, duplicates: int) -> None:
        """Number and chain the rows of ``batch``, then write them in one transaction."""
        pos, log_head, rows, moved = self.last_pos, self.log_head, None, {}
        if batch:
            conversations = batch.columns["conversation_id"]
            present = set(conversations)
            self._load_heads(present)
            arrays = batch.arrays(pos + 1)
            heads = {cid: self._heads[cid][0] for cid in present if cid in self._heads}
            hashes, log_hashes = chain.links(*chain_texts(arrays), conversations, heads, log_head)
            moved = {cid: (heads[cid], self._heads.get(cid, ("", 0))[1] + count)
                     for cid, count in Counter(conversations).items()}
            pos, log_head = pos + len(batch), log_hashes[-1]
            rows = table(arrays, hashes, log_hashes, now_us())
        self._write(rows, moved, last_seq, pos, log_head, duplicates)
        self._heads.update(moved)
        self.last_seq, self.last_pos, self.log_head = last_seq, pos, log_head

    def _write(self, rows: pa.Table | None, heads: dict[str, tuple[str, int]],
               last_seq: int, pos: int, log_head: str, duplicates: int) -> None:
        con = self.con
        with db.transaction(con):
            if rows is not None:
                db.insert_arrow(con, "log_events", rows, NAMES)
                self._write_heads(heads, pos)
            db.run(con,
                   "UPDATE log_meta SET last_seq = ?, last_pos = ?, log_head = ?, "
                   "duplicates = duplicates + ?, updated_at = now()",
                   [last_seq, pos, log_head, duplicates])

    def _write_heads(self, heads: dict[str, tuple[str, int]], pos: int) -> None:
        """Move the heads of ``heads``' conversations: UPDATE the ones the table has (every
        one in the cache), INSERT the new ones. ``INSERT OR REPLACE`` cost 1.4-2 ms per
        transaction more here (a delete and an insert in the primary-key index per row)."""
        known = [cid for cid in heads if cid in self._heads]
        new = [cid for cid in heads if cid not in self._heads]
        for cids, sql in ((known, _UPDATE_HEADS), (new, _INSERT_HEADS)):
            if cids:
                db.run(self.con, sql, [cids, [heads[c][0] for c in cids], pos,
                                       [heads[c][1] for c in cids]])

    def _load_heads(self, conversations: set[str]) -> None:
        if self._every_head_cached is None:  # the first time: read them all if they fit
            self._every_head_cached = self._cache_every_head(len(conversations))
        missing = [c for c in conversations if c not in self._heads]
        if not missing:
            return
        if len(self._heads) + len(missing) > HEAD_CACHE_MAX:
            self._heads.clear()  # then every conversation of the batch is read back
            self._every_head_cached = False
            missing = list(conversations)
        elif self._every_head_cached:
            return  # new conversations: reading them back cost ~15 % of a transaction
        found = db.rows(self.con,
                        "SELECT conversation_id, head, events FROM log_heads "
                        "WHERE conversation_id IN (SELECT unnest(?::VARCHAR[]))", [missing])
        for cid, head, count in found:
            self._heads[cid] = (head, count)

    def _cache_every_head(self, room: int) -> bool:
        """Whether all of ``log_heads`` (read now) fits with ``room`` to spare; this process
        is the log's only writer (DuckDB's lock), so the cache then stays whole."""
        [(count,)] = db.rows(self.con, "SELECT count(*) FROM log_heads")
        if count + room > HEAD_CACHE_MAX:
            return False
        for cid, head, events in db.rows(self.con,
                                         "SELECT conversation_id, head, events FROM log_heads"):
            self._heads[cid] = (head, events)
        return True

    def _known_ids(self, event_ids: list[str]) -> set[str]:
        found = db.rows(self.con,
                        "SELECT id FROM log_events WHERE id IN (SELECT unnest(?::VARCHAR[]))",
                        [event_ids])
        return {r[0] for r in found}

    # --- redaction ----------------------------------------------------------------

    def redact(self, conversation_id: str, reason: str) -> dict[str, Any]:
        """Remove personal values from a conversation; re-anchor its chain; record it."""
        rows = db.table(
            self.con,
            f"SELECT {', '.join(NAMES)}, epoch_us(occurred_at) AS occurred_us FROM log_events "
            "WHERE conversation_id = ? ORDER BY pos", [conversation_id]).to_pylist()
        if not rows:
            raise EventLogError(f"no conversation {conversation_id!r} in the event log")
        redaction_id = ids.uuid7()
        fields: set[str] = set()
        changed = scrub_rows(rows, redaction_id, fields)
        old_head = rows[-1]["hash"]
        head = chain.conversation_genesis(conversation_id)
        for row in rows:
            head = row["hash"] = chain.conversation_link(head, row)
        record = self._redaction_record(conversation_id, redaction_id, Redaction(
            reason=reason, redacted_events=len(changed), fields=tuple(sorted(fields)),
            previous_head=old_head, new_head=head,
            first_pos=rows[0]["pos"], last_pos=rows[-1]["pos"]))
        record["hash"] = chain.conversation_link(head, record)
        record["log_hash"] = chain.log_link(self.log_head, record)
        self._write_redaction(rows, record, len(rows) + 1)
        self._heads[conversation_id] = (record["hash"], len(rows) + 1)
        self.last_pos, self.log_head = record["pos"], record["log_hash"]
        return {"redaction_id": redaction_id, "conversation_id": conversation_id,
                "redacted_events": len(changed), "fields": sorted(fields),
                "previous_head": old_head, "head": record["hash"],
                "checkpointed": db.erase_replaced(self.con)}  # nor in the WAL or free blocks

    def _redaction_record(self, conversation_id: str, redaction_id: str,
                          data: Redaction) -> dict[str, Any]:
        """The row of the :class:`~schemas.events.EventlogRedacted` record (``sub`` ≥ 1)."""
        sub = db.rows(self.con, "SELECT coalesce(max(sub), 0) + 1 FROM log_events WHERE seq = ?",
                      [self.last_seq])[0]
        return redaction_row(conversation_id, redaction_id, msgspec.json.encode(data).decode(),
                             pos=self.last_pos + 1, seq=self.last_seq, sub=sub[0], at_us=now_us())

    def _write_redaction(self, rows: list[dict[str, Any]], record: dict[str, Any],
                         events: int) -> None:
        updates = pa.table({
            "pos": [r["pos"] for r in rows], "data": [r["data"] for r in rows],
            "raw": pa.array([r["raw"] for r in rows], pa.string()),
            "redacted_by": pa.array([r["redacted_by"] for r in rows], pa.string()),
            "hash": [r["hash"] for r in rows],
        })
        con = self.con
        with db.transaction(con):
            con.register("redacted_rows", updates)
            db.run(con, "UPDATE log_events SET data = u.data, raw = u.raw, "
                   "redacted_by = u.redacted_by, hash = u.hash "
                   "FROM redacted_rows u WHERE log_events.pos = u.pos")
            con.unregister("redacted_rows")
            db.insert_arrow(con, "log_events", to_arrow([record], now_us()), NAMES)
            db.run(con, "INSERT OR REPLACE INTO log_heads VALUES (?, ?, ?, ?)",
                   [record["conversation_id"], record["hash"], record["pos"], events])
            db.run(con, "UPDATE log_meta SET last_pos = ?, log_head = ?, updated_at = now()",
                   [record["pos"], record["log_hash"]])
            db.run(con, "INSERT OR REPLACE INTO log_erasures VALUES (?, ?, now())",
                   [record["conversation_id"], self.last_seq])

    def pending_erasures(self) -> list[tuple[str, int]]:
        """(conversation, stream sequence logged at its redaction) whose stream copies are
        still to be erased (:mod:`core.eventlog.erase`)."""
        return [(r[0], r[1]) for r in db.rows(
            self.con, "SELECT conversation_id, up_to_seq FROM log_erasures ORDER BY 1")]

    def erased(self, conversation_id: str, up_to_seq: int) -> None:
        db.run(self.con, "DELETE FROM log_erasures WHERE conversation_id = ? AND up_to_seq <= ?",
               [conversation_id, up_to_seq])

