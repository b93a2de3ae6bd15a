"""The log takes every message: what it cannot store as an event it stores quarantined.

Against a real nats-server and a real DuckDB file, with the hostile corpus
(tests/support/hostile.py) published raw into VC_EVENTS between valid events.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from core.bus import Bus
from core.eventlog.rows import raw_body
from core.eventlog.schema import DB_FILE
from core.eventlog.verify import verify
from tests.support import hostile
from tests.support.eventlog import (
    caught_up,
    email_pair,
    last_stream_seq,
    publish_many,
    read_back,
    running_sink,
)

QUARANTINED = {  # entry -> what its reason says
    "garbage": "undecodable", "empty": "undecodable", "json_array": "undecodable",
    "json_string": "undecodable", "truncated": "undecodable",
    "deep_data": "nested 5001 levels", "deep_params": "nested 5002 levels",
    "deep_everywhere": "nested 5000 levels",
    "attempt_overflow": "$.attempt", "schema_version_overflow": "$.schema_version",
    "negative_attempt": "$.attempt", "invalid_utf8_in_data": "data is not valid UTF-8",
    "invalid_utf8_in_producer": "UTF-8", "huge_id": "$.id",
    "unknown_type": "subject and body disagree", "conversation_mismatch": "h-victim",
    "type_mismatch": "subject and body disagree",
}
ROW = ("SELECT id, subject, conversation_id, type, kind, headers, data, raw, quarantine_reason "
       "FROM log_events WHERE seq = ?")


async def publish_between_valid_events(bus: Bus, entries: list[hostile.Hostile]
                                       ) -> dict[int, hostile.Hostile]:
    """Each entry raw, each followed by a valid request and result; entry by stream sequence."""
    published = {}
    for entry in entries:
        done = await bus.publish_raw(entry.subject_or_default(), entry.body, entry.headers)
        published[done.sequence] = entry
        await publish_many(bus, email_pair(f"ok-{entry.name}", "a at b dot com", "a@b.com"))
    return published


def check_stored(data: Path, published: dict[int, hostile.Hostile]) -> None:
    for seq, entry in published.items():
        [row] = read_back(data, ROW, [seq])
        found = dict(zip(("id", "subject", "conversation", "type", "kind", "headers", "data",
                          "raw", "reason"), row, strict=True))
        if entry.name not in QUARANTINED:
            assert (found["id"], found["reason"], found["raw"]) == (entry.event_id, None, None)
            continue
        assert QUARANTINED[entry.name] in found["reason"], (entry.name, found["reason"])
        assert raw_body(found["raw"]) == entry.body, entry.name  # the body, byte for byte
        assert json.loads(found["headers"]) == entry.headers
        subject = entry.subject_or_default()
        assert (found["id"], found["subject"], found["conversation"], found["data"]) == (
            f"quarantined-{seq}", subject, subject.split(".")[2], "null")
        assert (found["type"], found["kind"]) == (hostile.REQUEST_TYPE, "requested")


def check_whole_log(data: Path, stream_last: int, valid_events: int) -> None:
    assert read_back(data, "SELECT count(*), count(DISTINCT seq), min(seq), max(seq) "
                           "FROM log_events") == [(stream_last, stream_last, 1, stream_last)]
    assert read_back(data, "SELECT last_seq, duplicates FROM log_meta") == [(stream_last, 0)]
    valid = read_back(data, "SELECT count(*) FROM log_events WHERE conversation_id LIKE 'ok-%' "
                            "AND quarantine_reason IS NULL")
    assert valid == [(valid_events,)]  # nothing after a hostile one was lost
    con = duckdb.connect(str(data / DB_FILE), read_only=True)
    try:
        assert verify(con)["ok"]
    finally:
        con.close()


async def test_every_hostile_message_is_stored_and_blocks_nothing_across_a_restart(
        bus: Bus, tmp_path: Path) -> None:
    data = tmp_path / "data"
    entries = hostile.corpus()
    assert set(QUARANTINED) <= {e.name for e in entries}
    half = len(entries) // 2
    async with running_sink(bus, data) as sink:
        published = await publish_between_valid_events(bus, entries[:half])
        await caught_up(sink, bus)
    published |= await publish_between_valid_events(bus, entries[half:])  # while it is down
    async with running_sink(bus, data) as sink:  # resumes, then takes live traffic
        await publish_many(bus, email_pair("ok-after-restart", "c at d dot com", "c@d.com"))
        await caught_up(sink, bus)
        stream_last = await last_stream_seq(bus)
    check_stored(data, published)
    check_whole_log(data, stream_last, valid_events=2 * len(entries) + 2)


async def test_mismatched_bodies_are_filed_under_their_subject_and_never_as_results(
        bus: Bus, tmp_path: Path) -> None:
    data = tmp_path / "data"
    entries = [hostile.by_name("type_mismatch"), hostile.by_name("conversation_mismatch")]
    async with running_sink(bus, data) as sink:
        await publish_between_valid_events(bus, entries)
        await caught_up(sink, bus)
    assert read_back(data, "SELECT count(*) FROM log_events WHERE kind = 'completed' AND "
                           "conversation_id LIKE 'h-%'") == [(0,)]
    assert read_back(data, "SELECT count(*) FROM log_events WHERE conversation_id = 'h-victim'"
                     ) == [(0,)]
    assert read_back(data, "SELECT conversation_id, undecodable, quarantine_reason FROM events "
                           "WHERE conversation_id LIKE 'h-%' ORDER BY seq") == [
        ("h-type_mismatch", True, "subject and body disagree: body is a "
         "'capture_email.completed' event but the subject says 'capture_email.requested'"),
        ("h-conversation_mismatch", True, "subject and body disagree: body names "
         "conversation 'h-victim' but the subject's is 'h-conversation_mismatch'")]


@pytest.mark.parametrize("trigger", ["attempt_overflow", "schema_version_overflow",
                                     "invalid_utf8_in_data", "deep_data"])
async def test_a_message_that_used_to_stop_the_log_no_longer_does(
        bus: Bus, tmp_path: Path, trigger: str) -> None:
    data = tmp_path / "data"
    async with running_sink(bus, data) as sink:
        [seq] = await publish_between_valid_events(bus, [hostile.by_name(trigger)])
        await caught_up(sink, bus, timeout=30)
    assert read_back(data, "SELECT seq, quarantine_reason IS NOT NULL FROM log_events "
                           "ORDER BY seq") == [(seq, True), (seq + 1, False), (seq + 2, False)]
