"""Replay: fold a logged conversation, re-drive its requests, or re-feed its events.

* :func:`replay_state` folds the logged events with :func:`orchestrator.state.fold`,
  the same fold the orchestrator runs live: replayed and live state cannot disagree.
* :func:`rerun` re-publishes each recorded request (same type and data, fresh ids)
  under the conversation ``replay-<run>-<conversation id>``, so the live
  conversation is never touched, waits for the primitives' answers and compares
  them with the recorded results (a streamed request's chunks are re-streamed with it:
  :mod:`orchestrator.streamed`).
* :func:`republish` copies the recorded events to ``vc.replay.<conversation id>.
  <source>.<event>`` (stream ``VC_REPLAY``) so downstream consumers can be re-fed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pyarrow as pa
from nats.js import api as js_api
from nats.js.errors import NotFoundError

from core import primitive as registry
from core import subjects
from core.audioin import AudioPiece
from core.bus import Bus
from core.consumer import Ordered, PullConsumer
from core.correlator import Correlator
from core.errors import EventLogError, InvalidConversationId, nats_errors
from core.eventlog import readback
from orchestrator.state import ConversationState, fold
from orchestrator.streamed import recorded_streams, restream
from schemas import events, ids

REPLAY_CONVERSATION_PREFIX = "replay-"
"""Re-runs happen under conversation ids ``replay-<run>-…`` (the replayed *subjects* are
``core.subjects.REPLAY_SUBJECT_PREFIX``)."""
HEADER_REPLAY_RUN = "Vc-Replay-Run"
HEADER_REPLAY_OF = "Vc-Replay-Of"

_encoder = msgspec.json.Encoder()


def replay_state(table: pa.Table, conversation_id: str) -> ConversationState:
    """Fold the logged entries (``conversation_events``) of one conversation."""
    return fold(readback.entries(table), conversation_id)


# --- rerun -----------------------------------------------------------------------


@dataclass
class Comparison:
    request_id: str
    primitive: str
    params: Any
    recorded: dict[str, Any] | None
    now: dict[str, Any] | None

    @property
    def same(self) -> bool:
        return self.recorded == self.now


@dataclass
class RerunReport:
    conversation_id: str
    replay_conversation_id: str
    comparisons: list[Comparison] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    """Recorded requests answered ``INVALID_PARAMS`` (dead-lettered): not re-driven."""
    unreadable: int = 0
    """Logged entries that are not events (never requests): not re-driven."""
    audio_gone: list[str] = field(default_factory=list)
    """Why each streamed request was not re-driven (its chunks are gone), one line each."""

    @property
    def differs(self) -> bool:
        return any(not c.same for c in self.comparisons)

    def as_dict(self) -> dict[str, Any]:
        return {"conversation_id": self.conversation_id,
                "replay_conversation_id": self.replay_conversation_id,
                "differs": self.differs,
                "requests": [{"request_id": c.request_id, "primitive": c.primitive,
                              "params": c.params, "recorded": c.recorded, "now": c.now,
                              "same": c.same} for c in self.comparisons],
                "rejected_not_rerun": self.rejected, "unreadable_not_rerun": self.unreadable,
                "audio_gone_not_rerun": self.audio_gone}


def check_rerunnable(table: pa.Table, conversation_id: str) -> None:
    """A redacted conversation no longer holds the inputs to re-drive."""
    redacted = table.column("redacted_by").drop_null().to_pylist()
    if redacted or replay_state(table, conversation_id).redactions:
        raise EventLogError(f"conversation {conversation_id!r} was redacted: its recorded "
                            "requests no longer hold the values to re-drive")


def new_run_id() -> str:
    return ids.uuid7().replace("-", "")[-8:]


def replay_conversation_id(run: str, conversation_id: str) -> str:
    candidate = f"{REPLAY_CONVERSATION_PREFIX}{run}-{conversation_id}"
    with contextlib.suppress(InvalidConversationId):
        return subjects.check_conversation_id(candidate)
    digest = hashlib.sha256(conversation_id.encode()).hexdigest()[:32]
    return f"{REPLAY_CONVERSATION_PREFIX}{run}-{digest}"


def _outcome(row: dict[str, Any] | None) -> dict[str, Any] | None:
    """What is compared of an answer: its kind and data, without the fields its primitive
    declares volatile (a synthesized result's audio and timing differ on every run)."""
    if row is None:
        return None
    source, _, kind = row["type"].rpartition(".")
    data = msgspec.json.decode(row["data"])
    known = registry.get(source)
    for path in known.volatile if known is not None and kind == "completed" else ():
        _drop(data, path.split("."))
    return {"kind": kind, "data": data}


def _drop(data: Any, path: list[str]) -> None:
    """Remove the field at ``path`` from nested dicts, if it is there; ``*`` in the path
    is every item of a list there."""
    key, rest = path[0], path[1:]
    if key == "*":
        for item in data if isinstance(data, list) and rest else ():
            _drop(item, rest)
    elif isinstance(data, dict):
        if rest:
            _drop(data.get(key), rest)
        else:
            data.pop(key, None)


REJECTED = "INVALID_PARAMS"
"""The code of a request the worker refused (dead-lettered): re-driving it re-sends bad input."""


async def rerun(bus: Bus, table: pa.Table, conversation_id: str, run: str,
                timeout: float = 30.0) -> RerunReport:
    """Re-drive the recorded requests of one conversation and compare the answers.

    Which requests there were and which result answered each is the fold's
    (:func:`replay_state`): entries that are not events are never requests, and a
    request answered ``INVALID_PARAMS`` is not re-sent.
    """
    check_rerunnable(table, conversation_id)
    rows = {r["id"]: r for r, _ in readback.event_rows(table)}
    state = replay_state(table, conversation_id)
    results = {c.request_id: rows[c.result_id] for c in state.captured}
    results |= {f.request_id: rows[f.result_id] for f in state.failed}
    rejected = [f.request_id for f in state.failed if f.code == REJECTED]
    skip = set(rejected)
    requests = [rows[a.request_id] for a in state.asked if a.request_id not in skip]
    streamed = await recorded_streams(bus, requests)
    requests = [r for r in requests if r["id"] not in streamed.gone]
    target = replay_conversation_id(run, conversation_id)
    report = RerunReport(conversation_id, target, rejected=rejected,
                         unreadable=state.unreadable, audio_gone=[*streamed.gone.values()])
    answers = await _drive(bus, requests, target, run, timeout, streamed.pieces)
    for request in requests:
        data = msgspec.json.decode(request["data"])
        report.comparisons.append(Comparison(
            request_id=request["id"], primitive=request["type"].rpartition(".")[0],
            params=data.get("params") if isinstance(data, dict) else data,
            recorded=_outcome(results.get(request["id"])),
            now=_outcome(answers.get(request["id"]))))
    return report


async def _drive(bus: Bus, requests: list[dict[str, Any]], target: str, run: str,
                 timeout: float, streams: dict[str, list[AudioPiece]]
                 ) -> dict[str, dict[str, Any]]:
    """Publish fresh copies of ``requests`` (a streamed one's recorded chunks first, from
    ``streams``); map original request id → answer row.

    The answers are read from the stream (an ordered consumer on the re-run's own
    conversation, from its start), so none published before we listen is missed.
    """
    fresh = {ids.uuid7(): r for r in requests}
    if not fresh:
        return {}
    consumer = PullConsumer(bus, Ordered((subjects.conversation_filter(target),)),
                            credit=256, heartbeat_s=1.0)
    correlator = Correlator(bus.nc)
    await consumer.start()
    following = asyncio.create_task(correlator.follow(consumer), name="replay answers")
    try:
        with ExitStack() as waits:
            answers = {new_id: waits.enter_context(correlator.expecting(
                ids.derive_id(new_id, "result"), functools.partial(_answer, new_id)))
                for new_id in fresh}
            for new_id, request in fresh.items():
                if request["id"] in streams:
                    await restream(bus, request, streams[request["id"]], target, f"replay-{run}")
                await bus.publish_raw(*_fresh_request(new_id, request, target, run))
            # unanswered requests show up as a difference ("now": null)
            await asyncio.wait(answers.values(), timeout=timeout)
            return {fresh[new_id]["id"]: fut.result() for new_id, fut in answers.items()
                    if fut.done() and not fut.cancelled()}
    finally:
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
        await consumer.stop()


def _answer(request_id: str, subject: str, body: bytes) -> dict[str, Any] | None:
    """The answer row when ``body`` is the result of ``request_id``, else ``None``."""
    try:
        env = events.decode_envelope(body)
    except msgspec.MsgspecError:
        return None
    if env.causation_id != request_id or not env.type.endswith((".completed", ".failed")):
        return None
    return {"type": env.type, "data": bytes(env.data).decode()}


def _fresh_request(new_id: str, request: dict[str, Any], target: str,
                   run: str) -> tuple[str, bytes, dict[str, str]]:
    body = _encoder.encode(events.EnvelopeOnly(
        type=request["type"], id=new_id, conversation_id=target, trace_id=f"replay-{run}",
        occurred_at=events.now(), producer=events.PRODUCER,
        data=_without_deadline(request["data"])))
    headers = {subjects.HEADER_MSG_ID: new_id, subjects.HEADER_EVENT_TYPE: request["type"],
               HEADER_REPLAY_RUN: run, HEADER_REPLAY_OF: request["id"]}
    return subjects.event_subject(target, request["type"]), body, headers


def _without_deadline(data: str) -> msgspec.Raw:
    """The recorded request's data without its caller's ``deadline``: that caller is long
    gone, and a worker answers a request whose deadline passed ``TIMEOUT`` without running
    it (every call through the bridge has one). Otherwise the recorded bytes as they are."""
    decoded = msgspec.json.decode(data)
    if isinstance(decoded, dict) and "deadline" in decoded:
        del decoded["deadline"]
        return msgspec.Raw(_encoder.encode(decoded))
    return msgspec.Raw(data.encode())


# --- to-stream -------------------------------------------------------------------


async def ensure_replay_stream(bus: Bus) -> None:
    config = js_api.StreamConfig(
        name=subjects.REPLAY_STREAM,
        description=f"replayed conversations: {subjects.REPLAY_SUBJECT_PREFIX}.<conversation>.>",
        subjects=[f"{subjects.REPLAY_SUBJECT_PREFIX}.>"], storage=js_api.StorageType.FILE,
        retention=js_api.RetentionPolicy.LIMITS, max_age=24 * 3600.0,
        duplicate_window=120.0)
    with nats_errors():
        try:
            await bus.js.stream_info(subjects.REPLAY_STREAM)
        except NotFoundError:
            await bus.js.add_stream(config)


async def republish(bus: Bus, table: pa.Table, run: str) -> int:
    """Copy the recorded events to the replay subjects; returns how many were stored."""
    await ensure_replay_stream(bus)
    count = 0
    for row, body in readback.event_rows(table):
        subject = subjects.replay_subject(row["conversation_id"], row["type"])
        headers = {subjects.HEADER_MSG_ID: f"{run}:{row['id']}",
                   subjects.HEADER_EVENT_TYPE: row["type"], HEADER_REPLAY_RUN: run,
                   HEADER_REPLAY_OF: str(row["seq"])}
        published = await bus.publish_raw(subject, body, headers)
        count += 0 if published.duplicate else 1
    return count
