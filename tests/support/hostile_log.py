"""An event log holding every entry of the hostile corpus, as the real sink stores it.

The corpus is published raw into VC_EVENTS and copied by the real sink. Entries a
worker executes (``processed``) are answered by a real ``capture_email`` worker,
which is stopped before the rest is published (so nothing else reaches it); entries
a worker dead-letters with an answer (``answered``) get the ``INVALID_PARAMS``
failure the dead-letter path publishes. So the log holds exactly what a running
system would have recorded: every entry, as an event or quarantined.
"""

from __future__ import annotations

from pathlib import Path

from core import primitive, subjects
from core.bus import Bus
from core.config import WorkerOptions
from core.worker import Worker
from schemas import events as ev
from schemas import ids
from schemas.payloads import Failure
from tests.support import hostile
from tests.support.eventlog import caught_up, running_sink
from tests.support.streams import wait_for_events

FAST = WorkerOptions(concurrency=4, ack_wait_s=2.0, max_deliver=2, backoff_s=(0.05,),
                     fetch_timeout_s=0.1)


async def publish(bus: Bus, entry: hostile.Hostile) -> None:
    headers = {subjects.HEADER_MSG_ID: f"hostile-{entry.name}", **entry.headers}
    await bus.publish_raw(entry.subject_or_default(), entry.body, headers)


def dead_letter_answer(entry: hostile.Hostile) -> ev.Event:
    """The failure the dead-letter path publishes for a request whose envelope is readable."""
    return ev.new_event(
        ev.CaptureEmailFailed, conversation_id=entry.conversation_id,
        trace_id=f"hostile-{entry.name}", causation_id=entry.event_id,
        event_id=ids.derive_id(entry.event_id, "result"),
        data=Failure(code="INVALID_PARAMS", message=f"rejected: {entry.name}", retryable=False))


def stored_corpus() -> list[hostile.Hostile]:
    """All of it: the sink stores every message (what is not an event, quarantined)."""
    return hostile.corpus()


async def build_hostile_log(bus: Bus, data: Path) -> None:
    corpus = stored_corpus()
    processed = [h for h in corpus if h.worker == "processed"]
    capture_email = primitive.get(hostile.PRIMITIVE)
    assert capture_email is not None
    async with running_sink(bus, data) as sink:
        worker = Worker(bus, capture_email, FAST)
        await worker.start()
        try:
            for entry in processed:
                await publish(bus, entry)
            wanted = {h.event_id for h in processed}
            await wait_for_events(bus, lambda found: wanted <= {
                e.causation_id for e in found if e.causation_id}, timeout=30)
        finally:
            await worker.stop()
        for entry in corpus:
            if entry.worker != "processed":
                await publish(bus, entry)
            if entry.worker == "answered":
                await bus.publish(dead_letter_answer(entry))
        await caught_up(sink, bus)
