"""The log's writer on a real DuckDB file (no NATS): quarantine, migration, redaction."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import msgspec
import pytest

from core.errors import LogUnwritable
from core.eventlog import readback, reading
from core.eventlog import store as store_module
from core.eventlog.batch import RowBatch, decode
from core.eventlog.rows import Incoming, raw_body, raw_text, row_from_message
from core.eventlog.schema import DB_FILE, DDL
from core.eventlog.store import LogStore
from core.eventlog.verify import verify
from schemas import events as ev
from schemas.payloads import Redaction
from tests.samples import sample
from tests.support import hostile
from tests.support.eventlog import bulk_events, email_pair, read_back


def messages(events: list[ev.Event], first_seq: int = 1) -> list[Incoming]:
    return [(seq, f"vc.ev.{e.conversation_id}.{e.event_type}", ev.encode(e), {"h": "v"})
            for seq, e in enumerate(events, first_seq)]


def hostile_messages(first_seq: int) -> list[Incoming]:
    return [(seq, h.subject_or_default(), h.body, h.headers)
            for seq, h in enumerate(hostile.corpus(), first_seq)]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LogStore]:
    opened = LogStore.open(tmp_path / DB_FILE)
    yield opened
    opened.close()


@pytest.mark.parametrize("body", [b"", b"plain", b"\x00\xff\xfe", "é😀".encode(),
                                  b"base64:looks encoded", b"base64:\xff"])
def test_raw_keeps_every_body_byte_for_byte(body: bytes) -> None:
    assert raw_body(raw_text(body)) == body


def test_an_event_claiming_a_quarantine_id_is_quarantined_itself() -> None:
    [event] = bulk_events(2)[:1]
    body = ev.encode(event).replace(event.id.encode(), b"quarantined-1")
    row = row_from_message(9, f"vc.ev.{event.conversation_id}.{event.event_type}", body, None)
    assert row["id"] == "quarantined-9"
    assert "reserved for quarantined rows" in row["quarantine_reason"]


@pytest.mark.parametrize(("column", "value"), [("attempt", 2**31), ("data", "{not json")])
def test_a_row_the_file_refuses_is_quarantined_and_the_rest_of_its_batch_stored(
        store: LogStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        column: str, value: Any) -> None:
    """The last resort: a row builder that let an unstorable value through (as before)."""

    def decode_with_a_gap(batch: Sequence[Incoming]) -> RowBatch:
        decoded = decode(batch)
        decoded.columns[column][decoded.seqs.index(7)] = value
        return decoded

    monkeypatch.setattr(store_module, "decode", decode_with_a_gap)
    sent = bulk_events(40)
    assert store.apply(messages(sent)) == 40
    assert store.last_seq == 40
    assert verify(store.con)["ok"]
    rows = store.con.execute("SELECT id, raw, quarantine_reason FROM log_events ORDER BY seq"
                             ).fetchall()
    assert [r[0] for r in rows] == [e.id if s != 7 else "quarantined-7"
                                    for s, e in enumerate(sent, 1)]
    _, raw, reason = rows[6]
    assert raw_body(raw) == ev.encode(sent[6])
    assert reason.startswith("not storable as an event: DuckDB/Arrow refused it (")


def test_a_file_that_cannot_be_written_stores_nothing_and_quarantines_nothing(
        tmp_path: Path) -> None:
    store = LogStore.open(tmp_path / DB_FILE)
    sent = bulk_events(20)
    store.apply(messages(sent[:10]))
    store.con.close()  # a genuine failure of the file: every write fails from now on
    with pytest.raises(LogUnwritable, match="cannot be written: ConnectionException"):
        store.apply(messages(sent[10:], first_seq=11))
    assert store.last_seq == 10
    assert read_back(tmp_path, "SELECT count(*), count(quarantine_reason), max(seq) "
                               "FROM log_events") == [(10, 0, 10)]


def test_redelivered_copies_in_one_batch_are_stored_once_and_not_counted_duplicates(
        store: LogStore) -> None:
    batch = messages(bulk_events(6))
    assert store.apply(batch + batch[2:]) == 6
    assert store.con.execute("SELECT duplicates FROM log_meta").fetchall() == [(0,)]


def test_a_log_written_before_quarantine_reasons_is_migrated_and_still_verifies(
        tmp_path: Path) -> None:
    current = LogStore.open(tmp_path / "current.duckdb")
    current.apply(messages(bulk_events(10)))
    current.close()
    old_table = DDL[0].replace(", quarantine_reason VARCHAR", "")
    assert old_table != DDL[0] and DDL[1].startswith("ALTER TABLE")
    con = duckdb.connect(str(tmp_path / DB_FILE))  # the layout the log had before
    for statement in [old_table, *DDL[2:]]:
        con.execute(statement)
    con.execute(f"ATTACH '{tmp_path / 'current.duckdb'}' AS current (READ_ONLY)")
    con.execute("INSERT INTO log_events SELECT * EXCLUDE (quarantine_reason) "
                "FROM current.log_events")
    con.execute("INSERT INTO log_meta SELECT * FROM current.log_meta")
    con.execute("INSERT INTO log_heads SELECT * FROM current.log_heads")
    con.close()

    store = LogStore.open(tmp_path / DB_FILE)
    try:
        assert store.apply(hostile_messages(11)) == len(hostile.corpus())
        assert verify(store.con)["ok"]
        [(quarantined,)] = store.con.execute(
            "SELECT count(*) FROM events WHERE quarantine_reason IS NOT NULL AND undecodable"
        ).fetchall()
        assert quarantined > 10
    finally:
        store.close()


def test_redaction_removes_personal_values_from_quarantined_bodies(store: LogStore) -> None:
    entries = [hostile.by_name("conversation_mismatch"), hostile.by_name("invalid_utf8_in_data")]
    store.apply([(seq, h.subject_or_default(), h.body, h.headers)
                 for seq, h in enumerate(entries, 1)])
    for entry in entries:
        store.redact(entry.conversation_id, "test")
    raws = [raw_body(r[0]) for r in store.con.execute(
        "SELECT raw FROM log_events WHERE raw IS NOT NULL ORDER BY seq").fetchall()]
    assert all(b"john" not in raw and b'"transcript":"[redacted]"' in raw for raw in raws), raws
    assert json.loads(raws[0])["conversation_id"] == "h-victim"  # the rest is kept
    assert verify(store.con)["ok"]


def test_a_published_redaction_record_is_scrubbed_like_any_message(store: LogStore) -> None:
    """Only the records the log wrote itself (``sub`` ≥ 1) are kept as written: anyone may
    publish an ``eventlog.redacted`` event, and its values are redacted like any others."""
    forged = ev.new_event(ev.EventlogRedacted, conversation_id="c-forged", trace_id="t",
                          data=Redaction(reason="call john@mail.org", redacted_events=0,
                                         fields=(), previous_head="", new_head="",
                                         first_pos=0, last_pos=0))
    store.apply(messages([forged]))
    store.redact("c-forged", "ticket from ops@example.org")
    store.redact("c-forged", "again")
    rows = store.con.execute("SELECT sub, data FROM log_events "
                             "WHERE conversation_id = 'c-forged' ORDER BY pos").fetchall()
    assert [(sub, json.loads(data)["reason"]) for sub, data in rows] == [
        (0, "call [email]"), (1, "ticket from ops@example.org"), (2, "again")]
    assert verify(store.con)["ok"]


def test_every_logged_row_reads_back_as_the_event_it_was(store: LogStore) -> None:
    """The one row → event conversion (``core.eventlog.readback``): every built-in event
    type comes back equal to what was published, a row that is not an event as
    ``NotAnEvent``, and the rows to re-publish carry the same events."""
    sent = [msgspec.structs.replace(sample(cls, conversation_id="c-rb"), id=f"event-{i}")
            for i, cls in enumerate(ev.BUILTIN_EVENTS)]  # ids are unique in the log
    garbage = (len(sent) + 1, "vc.ev.c-rb.capture_email.requested", b"\x00{not json", None)
    store.apply([*messages(sent), garbage])
    table = reading.conversation_events(store.con, "c-rb")
    assert readback.entries(table) == [*sent, ev.NotAnEvent(at=None)]
    rows = readback.event_rows(table)
    assert [ev.decode(body) for _, body in rows] == sent
    assert [row["seq"] for row, _ in rows] == list(range(1, len(sent) + 1))


def test_chains_stay_whole_when_the_head_cache_is_emptied_mid_ingest(
        store: LogStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """c2's head was cached when the cache overflowed: it is read back, not restarted from
    its genesis (which broke its chain; then, inserting its head again, a transaction)."""
    monkeypatch.setattr(store_module, "HEAD_CACHE_MAX", 3)
    first = [e for c in ("c0", "c1", "c2") for e in email_pair(c, "a at b dot com", "a@b.com")]
    second = [e for c in ("c2", "c3") for e in email_pair(c, "a at b dot com", "a@b.com")]
    assert store.apply(messages(first)) == 6
    assert store.apply(messages(second, first_seq=7)) == 4
    assert store.con.execute("SELECT count(quarantine_reason) FROM log_events").fetchall() == [(0,)]
    assert verify(store.con)["ok"]
    assert not [r for r in caplog.records if "already stored" in r.getMessage()]


@pytest.mark.parametrize("cache_max", [store_module.HEAD_CACHE_MAX, 2])
def test_a_reopened_log_continues_each_chain_from_its_stored_head(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache_max: int) -> None:
    """The heads are read back once on reopening (all of them when they fit, else per
    batch): c1 goes on from its stored head and c9 starts at its genesis, so the chains
    verify; a head read back wrong restarts a chain (verify fails) or inserts a second
    head row (a constraint error, then a quarantine)."""
    monkeypatch.setattr(store_module, "HEAD_CACHE_MAX", cache_max)
    first = [e for c in ("c0", "c1") for e in email_pair(c, "a at b dot com", "a@b.com")]
    store = LogStore.open(tmp_path / DB_FILE)
    assert store.apply(messages(first)) == 4
    store.close()
    later = [e for c in ("c1", "c9") for e in email_pair(c, "b at c dot com", "b@c.com")]
    store = LogStore.open(tmp_path / DB_FILE)
    try:
        assert store.apply(messages(later, first_seq=5)) == 4
        assert store.con.execute(
            "SELECT count(quarantine_reason) FROM log_events").fetchall() == [(0,)]
        assert store.con.execute("SELECT conversation_id, events FROM log_heads "
                                 "ORDER BY 1").fetchall() == [("c0", 2), ("c1", 4), ("c9", 2)]
        assert verify(store.con)["ok"]
    finally:
        store.close()
