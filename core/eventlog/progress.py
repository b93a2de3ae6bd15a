"""Is the event log keeping up? Judged from its sink's JetStream consumer, on the server's clock.

The sink acks a batch only after storing it (``AckPolicy.ALL``), so the consumer's
ack floor is the log's progress. A sink is **stalled** when events wait for it
(pending or delivered-unacked) and the floor has not moved for ``stall_after_s``,
measured from the later of its last move, the consumer's creation (each sink start
recreates it) and the arrival of the oldest waiting event. Every time here is the
server's (the consumer info's ``ts``), so the two machines' clocks never matter.
This covers every reason a sink stops storing: a file it cannot write, a hung
thread, a process that stopped pulling. HealthCheck (bridge) and ``voicecore
doctor`` both use it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import msgspec

from core import subjects
from core.bus import Bus
from core.errors import StreamError, nats_errors

CONSUMER_PREFIX = subjects.EVENTLOG_CONSUMER_PREFIX
"""Durable consumers of the event log sink (core/eventlog/sink.py) are named so."""
STALL_AFTER_S = 60.0
"""A sink whose log has not advanced this long while events wait is stalled."""


class _Floor(msgspec.Struct):
    stream_seq: int = 0
    last_active: dt.datetime | None = None


class _ConsumerInfo(msgspec.Struct):
    created: dt.datetime
    ack_floor: _Floor = msgspec.field(default_factory=_Floor)
    num_ack_pending: int = 0
    num_pending: int = 0
    num_waiting: int = 0
    ts: dt.datetime | None = None


class _Names(msgspec.Struct):
    consumers: list[str] | None = None
    total: int = 0


class _Stored(msgspec.Struct):
    time: dt.datetime


class _StoredMessage(msgspec.Struct):
    message: _Stored


@dataclass(frozen=True)
class SinkProgress:
    consumer: str
    waiting: int
    """Events of the stream the log does not hold yet."""
    pulling: bool
    """A sink has pull requests outstanding (is alive and asking for more)."""
    idle_s: float
    """Seconds the log has stood still while events waited (0 when none wait)."""
    stall_after_s: float

    @property
    def stalled(self) -> bool:
        return self.waiting > 0 and self.idle_s >= self.stall_after_s

    @property
    def detail(self) -> str:
        text = f"{self.waiting} events not yet logged"
        if self.stalled:
            text += (f"; STALLED: the log has not advanced for {self.idle_s:.0f} s "
                     f"(see the sink's log for why)")
        return text + ("" if self.pulling else ", no live sink")


async def sink_consumers(bus: Bus) -> list[str]:
    """Names of the event log sinks' consumers on the event stream."""
    names: list[str] = []
    while True:
        page = msgspec.json.decode(await _api(bus, f"CONSUMER.NAMES.{subjects.EVENTS_STREAM}",
                                              {"offset": len(names)}), type=_Names)
        names += page.consumers or []
        if not page.consumers or len(names) >= page.total:
            return sorted(n for n in names if n.startswith(CONSUMER_PREFIX))


async def sink_progress(bus: Bus, consumer: str,
                        stall_after_s: float = STALL_AFTER_S) -> SinkProgress:
    info = msgspec.json.decode(
        await _api(bus, f"CONSUMER.INFO.{subjects.EVENTS_STREAM}.{consumer}"),
        type=_ConsumerInfo)
    waiting = info.num_pending + info.num_ack_pending
    idle_s = 0.0
    if waiting:
        now = info.ts or dt.datetime.now(dt.UTC)
        since = max(info.created, info.ack_floor.last_active or info.created)
        if (now - since).total_seconds() >= stall_after_s:  # only then: when did it arrive?
            since = max(since, await _stored_at(bus, info.ack_floor.stream_seq + 1) or since)
        idle_s = max(0.0, (now - since).total_seconds())
    return SinkProgress(consumer, waiting, bool(info.num_waiting), idle_s, stall_after_s)


async def _stored_at(bus: Bus, seq: int) -> dt.datetime | None:
    """When the first event at or after ``seq`` was stored in the stream."""
    try:
        found = await _api(bus, f"STREAM.MSG.GET.{subjects.EVENTS_STREAM}",
                           {"seq": seq, "next_by_subj": f"{subjects.EVENT_PREFIX}.>"})
    except StreamError:  # gone meanwhile (the log took it, or retention removed it)
        return None
    return msgspec.json.decode(found, type=_StoredMessage).message.time


async def _api(bus: Bus, what: str, request: dict[str, object] | None = None) -> bytes:
    """One JetStream API request; its raw JSON answer (nats-py's parsing drops ``ts``)."""
    payload = json.dumps(request).encode() if request else b""
    with nats_errors():
        reply = await bus.nc.request(f"{subjects.JS_API}.{what}", payload, timeout=2.0)
    error = json.loads(reply.data).get("error")
    if error:
        raise StreamError(f"JetStream refused {what}: {error.get('description', error)}")
    return bytes(reply.data)
