"""ExecutePrimitive: one request event published, one result event answered.

Outcomes of the primitive are answered with gRPC OK and ``success=false``
(``PRIMITIVE_NOT_FOUND``, ``INVALID_PARAMS``, ``NO_MATCH``, ``TIMEOUT``,
``PRIMITIVE_FAILED``); problems with the call itself raise a voicecore error
(:class:`~bridge.errors.CallError`, :class:`~core.errors.BusError`), which the
server turns into a gRPC status (``bridge.errors.status_for``).

Every field is bounded first (:mod:`bridge.limits`, ``INVALID_ARGUMENT``). Params
that do not validate against the primitive's typed params are answered with
``INVALID_PARAMS`` at once and **not published**: no event is stored for a request
no worker could run.

A result answers a call only when it is that call's result: found under the
call's result id *and* on the call's conversation, with a body that agrees with
its subject and names the call's request as its cause. Anything else carrying
that id (a forgery on another conversation's subject, a body of another type) is
ignored and the call keeps waiting for the real one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import grpc

from bridge import calls, convert, limits
from bridge._proto import voice_core_pb2 as pb
from bridge.calls import DEFAULT_TIMEOUT_S, MAX_TIMEOUT_S, Timing
from bridge.calls import deadline_in as deadline_in  # where tests and benchmarks take them
from bridge.calls import request_data_type as request_data_type
from bridge.errors import CallError
from bridge.reader import Stored, find_stored
from bridge.tracecontext import server_span
from core import primitive as registry
from core import subjects
from core.bus import Bus
from core.correlator import Correlator
from core.errors import BusError, InvalidParams
from core.ignoring import ignored
from core.presence import PresenceTracker
from schemas import events, ids

log = logging.getLogger(__name__)


@dataclass
class Call:
    """One ExecutePrimitive in progress."""

    started: float
    trace_id: str
    conversation_id: str
    primitive: str = ""
    request_id: str = ""
    result_id: str = ""

    def response(self, **fields: Any) -> pb.ExecutePrimitiveResponse:
        resp = pb.ExecutePrimitiveResponse(**fields)
        md = resp.metadata
        md.duration_ms = (time.perf_counter() - self.started) * 1000.0
        md.trace_id = self.trace_id
        md.request_event_id = self.request_id
        if not md.state:
            md.state = "failed"
        return resp

    def failure(self, code: str, message: str, retryable: bool = False,
                state: str = "failed") -> pb.ExecutePrimitiveResponse:
        return self.response(
            success=False,
            error=pb.PrimitiveError(code=code, message=message, retryable=retryable),
            metadata=pb.ExecutionMetadata(state=state),
        )

    def own(self, subject: str, body: bytes) -> tuple[events.EnvelopeOnly, Any]:
        """Our request or result event read from a message; :class:`convert.Unreadable` if
        it is not one (unreadable, subject and body disagree, another conversation's...)."""
        env, data = convert.read_stored(subject, body)
        if env.conversation_id != self.conversation_id:
            raise convert.Unreadable("on another conversation's subject")
        if env.id == self.request_id and env.type == f"{self.primitive}.requested":
            return env, data
        if env.id != self.result_id or env.causation_id != self.request_id \
                or env.type not in (f"{self.primitive}.completed", f"{self.primitive}.failed"):
            raise convert.Unreadable("not the result of this call's request")
        return env, data

    def is_own(self, stored: Stored) -> bool:
        """Whether a message found by our request's or result's id is that event (and a
        result can be answered)."""
        try:
            env, _ = self.own(stored.subject, stored.data)
            if env.id == self.result_id:
                self.answer(stored.subject, stored.data)
        except convert.Unreadable:
            return False
        return True

    def read_result(self, subject: str, body: bytes) -> pb.ExecutePrimitiveResponse | None:
        """The response when ``body`` is this call's result, else ``None`` (and keep waiting)."""
        try:
            return self.answer(subject, body)
        except convert.Unreadable as exc:
            log.warning("ExecutePrimitive: ignored a message carrying result id %s: %s",
                        self.result_id, exc)
            return None

    def answer(self, subject: str, body: bytes) -> pb.ExecutePrimitiveResponse:
        """The response for this call's stored result event; raises :class:`convert.Unreadable`."""
        env, data = self.own(subject, body)
        if env.id != self.result_id:
            raise convert.Unreadable("the request, not its result")
        md = pb.ExecutionMetadata(retry_count=max(env.attempt - 1, 0), result_event_id=env.id)
        if env.type.endswith(".completed"):
            md.state = "completed"
            confidence = data.get("confidence") if isinstance(data, dict) else None
            if isinstance(confidence, int | float):
                md.confidence = float(confidence)
            resp = self.response(success=True, metadata=md)
            convert.fill_data(resp.data, data)
            return resp
        failure = data if isinstance(data, dict) else {}
        code = str(failure.get("code", "PRIMITIVE_FAILED"))
        md.state = "timeout" if code == "TIMEOUT" else "failed"
        error = pb.PrimitiveError(code=code, message=str(failure.get("message", "")),
                                  retryable=bool(failure.get("retryable", False)))
        return self.response(success=False, error=error, metadata=md)


class Executor:
    def __init__(self, bus: Bus, router: Correlator, presence: PresenceTracker, *,
                 default_timeout_s: float = DEFAULT_TIMEOUT_S,
                 max_timeout_s: float = MAX_TIMEOUT_S) -> None:
        self.bus = bus
        self.router = router
        self.presence = presence
        self.default_timeout_s = default_timeout_s
        self.max_timeout_s = max_timeout_s

    async def execute(self, req: pb.ExecutePrimitiveRequest, trace_id: str,
                      metadata: Mapping[str, str],
                      time_remaining: float | None) -> pb.ExecutePrimitiveResponse:
        """Answer one call; ``trace_id`` comes from :func:`bridge.tracecontext.resolve_trace_id`."""
        params = limits.check_execute(req)
        call = Call(started=time.perf_counter(), trace_id=trace_id,
                    conversation_id=self._conversation(req))
        with server_span("ExecutePrimitive", trace_id, metadata):
            return await self._execute(req, params, call, time_remaining)

    @staticmethod
    def _conversation(req: pb.ExecutePrimitiveRequest) -> str:
        if req.conversation_id:
            return req.conversation_id  # checked by limits.check_execute
        if req.idempotency_key:
            raise limits.invalid("idempotency_key needs a conversation_id")
        return calls.new_conversation_id()

    async def _execute(self, req: pb.ExecutePrimitiveRequest, params: dict[str, Any], call: Call,
                       time_remaining: float | None) -> pb.ExecutePrimitiveResponse:
        calls.require_connected(self.bus)
        prim = registry.get(req.objective_type)
        if prim is None:
            return call.failure("PRIMITIVE_NOT_FOUND",
                                f"unknown primitive {req.objective_type!r}")
        if not await self.presence.serves(prim.name):
            return call.failure("PRIMITIVE_NOT_FOUND",
                                f"no live worker serves primitive {prim.name!r}")
        # No timeout asked: the bridge's default, or the primitive's own when longer (a
        # synthesize of 5,000 characters needs its 120 s, not the captures' 30 s).
        timed = calls.timing(req.timeout_seconds, time_remaining,
                             default=max(self.default_timeout_s, prim.timeout_s),
                             maximum=self.max_timeout_s)
        try:
            data = calls.request_data(prim, params, timed, req.purpose)
        except InvalidParams as exc:
            return call.failure("INVALID_PARAMS", str(exc))
        call.primitive = prim.name
        call.request_id = (_idempotent_id(call.conversation_id, req.idempotency_key)
                           if req.idempotency_key else ids.uuid7())
        call.result_id = calls.result_id(call.request_id)
        request = calls.request_event(prim, data, conversation_id=call.conversation_id,
                                      trace_id=call.trace_id, request_id=call.request_id)
        with self.router.expecting(call.result_id, call.read_result) as fut:
            return await self._publish_and_wait(call, request, fut, timed,
                                                bool(req.idempotency_key))

    async def _publish_and_wait(self, call: Call, request: events.Event,
                                fut: asyncio.Future[pb.ExecutePrimitiveResponse], timed: Timing,
                                idempotent: bool) -> pb.ExecutePrimitiveResponse:
        if idempotent:  # NATS trouble raises BusError: the call's status (bridge.errors)
            stored = await self._lookup(call, {call.request_id, call.result_id})
            if call.result_id in stored:
                return call.answer(*stored[call.result_id])
            if call.request_id not in stored:
                await self.bus.publish(request)
        else:
            await self.bus.publish(request)
        try:
            return await asyncio.wait_for(fut, timed.wait)
        except TimeoutError:
            return await self._timed_out(call, timed.wait, timed.caller_bound)

    async def _timed_out(self, call: Call, wait: float,
                         caller_bound: bool) -> pb.ExecutePrimitiveResponse:
        if caller_bound:
            raise CallError(grpc.StatusCode.DEADLINE_EXCEEDED,
                            f"the caller's deadline passed after {wait:g}s")
        # A result stored while our subscription was reconnecting never reached the router.
        if self.bus.nc.is_connected:
            stored: dict[str, tuple[str, bytes]] = {}
            with ignored(log, "ExecutePrimitive: stored-result lookup before TIMEOUT (the "
                         "call answers TIMEOUT)", BusError):
                stored = await self._lookup(call, {call.result_id})
            if call.result_id in stored:
                return call.answer(*stored[call.result_id])
        return call.failure("TIMEOUT", f"no result in {wait:g}s", retryable=True,
                            state="timeout")

    async def _lookup(self, call: Call, wanted: set[str]) -> dict[str, tuple[str, bytes]]:
        """Our stored request/result by id (subject, body); messages merely carrying the id
        are passed over."""
        found = await find_stored(self.bus, [subjects.conversation_filter(call.conversation_id)],
                                  wanted, accept=call.is_own)
        return {msg_id: (stored.subject, stored.data) for msg_id, stored in found.items()}


def _idempotent_id(conversation_id: str, key: str) -> str:
    """The request id for ``key`` in a conversation: the same on every call and every bridge.

    JetStream drops a second publish of it (``Nats-Msg-Id``), and the stored
    request/result are found by it after the de-duplication window. The id is
    UUIDv7-shaped but, being derived, carries no timestamp (its time field is 0).
    """
    return ids.derive_id(f"idempotency/{conversation_id}/{key}", "request")
