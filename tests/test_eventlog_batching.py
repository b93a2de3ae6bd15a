"""The sink at light traffic: a trickle of events shares a transaction (real NATS, DuckDB)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from core.bus import Bus
from core.eventlog.sink import SinkOptions
from tests.support.eventlog import bulk_events, caught_up, publish_many, read_back, running_sink

HOUR = 3600.0
"""A linger no test waits out: only a full batch or the sink's stop ends it."""


async def test_events_published_one_by_one_are_stored_in_one_transaction(
        bus: Bus, tmp_path: Path) -> None:
    """The first event finds the sink idle and is stored at once (the next test); the
    others arrive within the linger and share one transaction."""
    first, *sent = bulk_events(22)
    options = SinkOptions(fetch_timeout_s=0.1, linger_s=HOUR, linger_batch=len(sent))
    data = tmp_path / "data"
    async with running_sink(bus, data, options) as sink:
        await publish_many(bus, [first])
        await caught_up(sink, bus)
        for event in sent:  # each acked by JetStream before the next is sent
            await publish_many(bus, [event])
        await caught_up(sink, bus)
        assert sink.transactions == 2
    assert read_back(data, "SELECT count(DISTINCT id), max(seq) FROM log_events") == [(22, 22)]


async def test_an_event_after_a_quiet_spell_is_stored_without_waiting_for_the_linger(
        bus: Bus, tmp_path: Path) -> None:
    """At light traffic an event is not held for company that does not come (the log's
    lag): only events arriving within ``linger_s`` of the last transaction wait."""
    options = SinkOptions(fetch_timeout_s=0.1, linger_s=HOUR, linger_batch=1000)
    data = tmp_path / "data"
    async with running_sink(bus, data, options) as sink:
        await publish_many(bus, bulk_events(2)[:1])
        await caught_up(sink, bus)  # before: held for the whole linger (this timed out)
        assert sink.transactions == 1
    assert read_back(data, "SELECT count(*), max(seq) FROM log_events") == [(1, 1)]


async def test_stopping_ends_the_wait_and_stores_what_was_fetched(
        bus: Bus, tmp_path: Path) -> None:
    options = SinkOptions(fetch_timeout_s=0.1, linger_s=HOUR, linger_batch=1000)
    data = tmp_path / "data"
    first, *sent = bulk_events(6)
    async with running_sink(bus, data, options) as sink:
        await publish_many(bus, [first])  # stored at once: the linger starts now
        await caught_up(sink, bus)
        await publish_many(bus, sent)
        assert sink._puller is not None
        for _ in range(12_000):  # until delivered (then waiting for more)
            if len(sink._puller.buffer) == len(sent):
                break
            await asyncio.sleep(0.01)
        assert len(sink._puller.buffer) == len(sent)
        stopped = asyncio.create_task(sink.stop())
        await asyncio.wait_for(stopped, 120)  # guards a hang only: HOUR would never end
    assert sink.transactions == 2
    assert read_back(data, "SELECT count(*), max(seq) FROM log_events") == [(6, 6)]


async def test_a_sink_whose_consumer_was_deleted_recreates_it_without_gap_or_duplicate(
        bus: Bus, tmp_path: Path) -> None:
    """The old pull loop kept asking a consumer that no longer existed, for ever; the one pull
    consumer re-creates it (at the log's next sequence) and the log goes on."""
    sent = bulk_events(40)
    data = tmp_path / "data"
    async with running_sink(bus, data) as sink:
        await publish_many(bus, sent[:20])
        await caught_up(sink, bus)
        await bus.js.delete_consumer("VC_EVENTS", sink.consumer)
        await publish_many(bus, sent[20:])
        await caught_up(sink, bus)
    assert read_back(data, "SELECT count(*), count(DISTINCT id), min(seq), max(seq) "
                           "FROM log_events") == [(40, 40, 1, 40)]


def test_the_cadence_is_the_linger_for_light_traffic_and_longer_for_busy_traffic() -> None:
    options = SinkOptions(linger_s=0.05, busy_batch=10, busy_linger_s=0.2)
    assert [options.cadence(n) for n in (1, 9, 10, 5000)] == [0.05, 0.05, 0.2, 0.2]


async def test_after_a_busy_transaction_the_next_waits_the_busy_linger(
        bus: Bus, tmp_path: Path) -> None:
    """Events that came in a crowd (a transaction of ``busy_batch``) make the next event wait
    ``busy_linger_s`` (here: until the stop), where after a light one it waits ``linger_s``."""
    first, *crowd, late = sent = bulk_events(8)
    options = SinkOptions(fetch_timeout_s=0.1, linger_s=1.0, linger_batch=len(crowd),
                          busy_batch=len(crowd), busy_linger_s=HOUR)
    data = tmp_path / "data"
    async with running_sink(bus, data, options) as sink:
        await publish_many(bus, [first])  # stored at once; the next waits linger_s at most
        await caught_up(sink, bus)
        await publish_many(bus, crowd)  # a full linger_batch: stored at once, and busy
        await caught_up(sink, bus)
        assert sink.transactions == 2
        await publish_many(bus, [late])
        await asyncio.sleep(3 * options.linger_s)  # after a light transaction it was stored
        assert sink.transactions == 2 and sink.applied == 1 + len(crowd)
    assert sink.transactions == 3  # at the stop
    assert read_back(data, "SELECT count(*), max(seq) FROM log_events") == [(8, 8)]
    assert len(sent) == 8
