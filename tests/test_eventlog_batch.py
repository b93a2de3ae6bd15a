"""The sink's column-by-column decoding gives each message the row the reference builds."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pytest

from core.eventlog.batch import RowBatch, decode
from core.eventlog.rows import Incoming, row_from_message
from schemas import events as ev
from tests.support import hostile
from tests.support.eventlog import bulk_events


def good(events: list[ev.Event], first_seq: int) -> list[Incoming]:
    return [(seq, f"vc.ev.{e.conversation_id}.{e.event_type}", ev.encode(e),
             {"traceparent": f"00-{seq:032x}-{seq:016x}-01"} if seq % 2 else None)
            for seq, e in enumerate(events, first_seq)]


def odd_ones(first_seq: int) -> list[Incoming]:
    """The hostile corpus, and events the fast way must leave to the reference."""
    plain = bulk_events(4)
    dotted = ev.new_event(ev.CaptureEmailRequested, conversation_id="c.9", trace_id="t",
                          data=plain[0].data)
    naive = ev.new_event(ev.CaptureEmailRequested, conversation_id="c9", trace_id="t",
                         data=plain[0].data)
    return [
        *[(seq, h.subject_or_default(), h.body, h.headers)
          for seq, h in enumerate(hostile.corpus(), first_seq)],
        (first_seq - 1, "vc.ev.c9", ev.encode(plain[0]), None),  # no type on the subject
        (first_seq - 2, f"vc.ev.{plain[1].conversation_id}.{plain[1].event_type}.x",
         ev.encode(plain[1]), None),
        (first_seq - 3, "vc.ev.c9.capture_email.requested",  # a time without its zone
         at(naive, "2026-12-03T10:00:00.5"), {"k": "v\udcff"}),
        (first_seq - 4, "vc.ev.c.9.capture_email.requested", ev.encode(dotted), None),
        (first_seq - 5, f"vc.ev.{plain[2].conversation_id}.{plain[2].event_type}",
         ev.encode(plain[2]).replace(plain[2].id.encode(), b"quarantined-1"), None),
    ]


@pytest.mark.parametrize("mix", ["good only", "hostile only", "mixed"])
def test_each_row_is_the_reference_row(mix: str) -> None:
    messages = {"good only": good(bulk_events(30), 1), "hostile only": odd_ones(100),
                "mixed": [*good(bulk_events(10), 1), *odd_ones(100), *good(bulk_events(10), 11)]
                }[mix]
    batch = decode(messages)
    assert batch.messages == messages
    for i, message in enumerate(messages):
        assert batch.row(i) == row_from_message(*message), (mix, i, message[:2])
    reasons = [batch.row(i)["quarantine_reason"] or "" for i in range(len(batch))]
    if mix != "good only":
        assert any("subject and body disagree" in r for r in reasons)
        assert any("reserved for quarantined rows" in r for r in reasons)


def test_times_arrow_cannot_convert_are_converted_one_by_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise pa.ArrowInvalid("refused")

    messages = good(bulk_events(4), 1)
    expected = [row_from_message(*m)["occurred_us"] for m in messages]
    monkeypatch.setattr(pa, "array", refuse)  # only the times are converted by it
    assert decode(messages).columns["occurred_us"] == expected


def at(event: ev.Event, occurred_at: str) -> bytes:
    """``event``'s body with another ``occurred_at``."""
    return json.dumps({**json.loads(ev.encode(event)), "occurred_at": occurred_at}).encode()


def test_times_in_any_zone_are_epoch_microseconds() -> None:
    event = bulk_events(2)[0]
    when = dt.datetime(2026, 12, 3, 10, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    body = at(event, when.isoformat())
    batch = decode([(1, f"vc.ev.{event.conversation_id}.{event.event_type}", body, None),
                    (2, f"vc.ev.{event.conversation_id}.{event.event_type}",
                     at(event, "2026-12-03T15:00:00.123456"), None)])  # no zone: UTC
    expected = (when - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
    assert batch.columns["occurred_us"] == [expected, expected]
    assert batch.columns["quarantine_reason"] == [None, None]


def test_batches_joined_are_the_batch_of_their_messages() -> None:
    first, second = good(bulk_events(6), 1), odd_ones(100)
    joined = RowBatch.joined([decode(first), decode(second), decode([])])
    whole = decode([*first, *second])
    assert joined.messages == whole.messages and joined.columns == whole.columns
    assert RowBatch.joined([]).columns == decode([]).columns
