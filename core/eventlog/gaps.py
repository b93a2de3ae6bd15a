"""The messages a batch of the sink (:mod:`core.eventlog.sink`) skipped over, read from
the stream itself before the batch is stored: see :func:`with_gaps_filled` for why."""

from __future__ import annotations

import logging

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from core import subjects
from core.errors import nats_errors
from core.eventlog.batch import RowBatch, decode

log = logging.getLogger(__name__)


async def with_gaps_filled(js: JetStreamContext, last_seq: int,
                           incoming: RowBatch) -> RowBatch:
    """Add the messages between the last applied sequence (``last_seq``) and this batch
    that it lacks.

    The log applies the stream in sequence order and acks with ``AckPolicy.ALL``,
    so a message still pending redelivery (fetched by a process that died) must
    not be skipped: it is read from the stream directly. Sequences no longer in
    the stream (expired, purged, deleted) are skipped.
    """
    have = set(incoming.seqs)
    top = max(have)
    missing = [s for s in range(last_seq + 1, top) if s not in have]
    if not missing:
        return incoming
    with nats_errors():
        first = (await js.stream_info(subjects.EVENTS_STREAM)).state.first_seq
    found = []
    for seq in missing:
        if seq < first:
            continue
        with nats_errors():
            try:
                raw = await js.get_msg(subjects.EVENTS_STREAM, seq)
            except NotFoundError:
                continue
        found.append((seq, raw.subject or "", raw.data or b"", raw.headers))
    log.info("event log: filled %d gap(s) from the stream", len(found))
    return RowBatch.joined([incoming, decode(found)])
