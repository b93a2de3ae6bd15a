"""Driving one conversation: perform what :func:`orchestrator.decide.decide` says.

A :class:`Driver` owns one conversation while its process holds the lease. It keeps the
one fold (:class:`orchestrator.state.Folder`) of the conversation's events: first those
stored in ``VC_EVENTS`` (a new conversation has just its request; one taken over has
everything its last owner, the caller and the primitives published), then, live, every
event it publishes, every turn the caller sends, and the request and result events of
every call it makes (read back from the stream by subject, so the fold reads the
primitives' own events, not a copy). So its decisions read the same state ``voicecore
replay`` shows. It loops: decide; call the primitive a decision asks for (through the
:class:`~orchestrator.port.Primitives` port, with the conversation's trace id and a
``purpose`` naming the objective) or publish the step's events; until the step is to
wait for the caller's turn (its inbox) or the objective's deadline.

Event ids are derived from the step's cause (the turn it answers, else the
orchestrator's last event) and what the event is, so a step published twice — by a
process that lost its lease mid-step and the one that took over — is one event
(JetStream's de-duplication by ``Nats-Msg-Id``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import msgspec
from nats.js.errors import NotFoundError

from core import subjects
from core.bus import Bus
from core.errors import nats_errors
from core.pause import pause
from core.stored import stored_messages
from orchestrator.course import Course, purpose_for
from orchestrator.decide import Call, Step, decide
from orchestrator.flow import Flow
from orchestrator.lease import Lease
from orchestrator.port import Outcome, Primitives
from orchestrator.reading import deadline, find, last_run
from orchestrator.state import Folder
from schemas import conversation_events as ce
from schemas.audio import AudioRef
from schemas.envelope import Event, type_of
from schemas.events import decode, new_event, now
from schemas.ids import derive_id

log = logging.getLogger(__name__)

EVENT_CLASSES: dict[str, type[Event]] = {type_of(c): c for c in ce.CONVERSATION_EVENTS}
WAIT_RETRY_S = 1.0
"""Pause between calls while a flow says ``on_unavailable: wait``."""
SYNTHESIZE = "synthesize"
FlowLoader = Callable[[str], Flow]


async def stored_events(bus: Bus, conversation_id: str) -> list[Event]:
    """A conversation's events stored in ``VC_EVENTS``, in order (undecodable ones left out:
    nothing a course reads)."""
    found = []
    async for msg in stored_messages(bus, subjects.EVENTS_STREAM,
                                     subjects.conversation_filter(conversation_id)):
        try:
            found.append(decode(msg.data))
        except (msgspec.DecodeError, msgspec.ValidationError):
            continue
    return found


class Driver:
    def __init__(self, bus: Bus, port: Primitives, lease: Lease, load_flow: FlowLoader,
                 *, clock: Callable[[], dt.datetime] = now) -> None:
        self.bus = bus
        self.port = port
        self.lease = lease
        self.load_flow = load_flow
        self.clock = clock
        self.inbox: asyncio.Queue[Event] = asyncio.Queue()
        self.folder = Folder(lease.conversation_id)
        self.turns: dict[str, ce.TurnReceived] = {}
        """The caller's turns by id (the fold keeps whether one had audio, not its reference)."""
        self.hang_up: ce.ConversationHungUp | None = None
        """The caller's hang-up, once it came: folded before the next decision, even in the
        middle of a step (it changes no turn nor call, so any point of the fold takes it)."""

    @property
    def course(self) -> Course | None:
        return self.folder.course.state()

    def apply(self, event: Event) -> None:
        self.folder.apply(event)
        if isinstance(event, ce.TurnReceived):
            self.turns[event.id] = event

    def deliver(self, event: ce.TurnReceived | ce.ConversationHungUp) -> None:
        """A caller's event, live: a turn waits in the inbox until the driver waits for one
        (a call is the latest turn's); a hang-up also ends the step under way."""
        if isinstance(event, ce.ConversationHungUp):
            self.hang_up = event
        self.inbox.put_nowait(event)  # wakes a driver waiting for the caller

    async def run(self, history: list[Event]) -> Course | None:
        """Drive until the conversation ends (or the lease is lost: :class:`LeaseLost`)."""
        for event in history:
            self.apply(event)
        while not self.inbox.empty():  # turns that came while the history was read
            self.apply(self.inbox.get_nowait())
        course = self.course
        if course is None or not course.request_id or course.status in ("completed",
                                                                        "abandoned"):
            return course
        flow = self.load_flow(course.flow_document)
        while True:
            await self._advance(flow)
            course = self.course
            if course is None or course.status in ("completed", "abandoned"):
                return course
            await self._await_turn(flow, course)

    async def _await_turn(self, flow: Flow, course: Course) -> None:
        record = last_run(course)
        timeout = None
        if record is not None and record.status == "active":
            left = deadline(find(flow, record.id), record) - self.clock()
            timeout = max(0.0, left.total_seconds())
        try:
            event = await asyncio.wait_for(self.inbox.get(), timeout)
        except TimeoutError:
            return  # decide() fails the objective: TIMEOUT
        self.apply(event)

    async def _advance(self, flow: Flow) -> None:
        off_record: Outcome | None = None
        while True:
            if self.hang_up is not None:
                self.apply(self.hang_up)  # once: the fold ignores an event id it has seen
            decision = decide(flow, self.course, self.clock(), off_record)
            if isinstance(decision, Call):
                outcome = await self._call(flow, decision)
                if not await self._fold_call(decision.primitive, outcome):
                    off_record = outcome
                continue
            if not decision.events:
                return
            await self._publish(flow, decision)
            off_record = None

    async def _call(self, flow: Flow, call: Call) -> Outcome:
        """One call through the port; with ``on_unavailable: wait``, again until the
        objective's deadline while the core cannot be reached."""
        params = self._params(call)
        course = self.course
        assert course is not None
        while True:
            outcome = await self.port.execute(
                call.primitive, params, conversation_id=self.folder.conversation_id,
                trace_id=course.trace_id, purpose=purpose_for(call.objective.id, call.role),
                timeout_s=0.0, idempotency_key=f"{call.turn_id}-{call.primitive}")
            record = last_run(course)
            if not outcome.unavailable or flow.on_unavailable != "wait" or record is None:
                return outcome
            left = (deadline(call.objective, record) - self.clock()).total_seconds()
            if left <= 0:
                return outcome
            await pause(min(WAIT_RETRY_S, left))

    def _params(self, call: Call) -> dict[str, Any]:
        course = self.course
        language = course.language if course is not None else "en"
        if call.role != "transcribe":
            return {"transcript": call.text, "language": language}
        audio = self.turns[call.turn_id].data.audio
        hint = "confirmation" if (course is not None and (record := last_run(course))
                                  and record.phase == "confirm") else call.objective.hint
        return {"audio": msgspec.to_builtins(audio), "hint": hint, "language": language}

    async def _fold_call(self, primitive: str, outcome: Outcome) -> bool:
        """Fold the call's request and result events; ``False`` when it left none."""
        if not outcome.request_id or not outcome.result_id:
            return False
        cid = self.folder.conversation_id
        kinds = ("requested", "completed" if outcome.success else "failed")
        wanted = (outcome.request_id, outcome.result_id)
        found = list(await asyncio.gather(*(
            self._last(subjects.event_subject(cid, f"{primitive}.{kind}")) for kind in kinds)))
        if [e.id if e else "" for e in found] != list(wanted):  # not the last ones: read all
            found = [e for e in await stored_events(self.bus, cid) if e.id in wanted]
        for event in found:
            if event is not None:
                self.apply(event)
        return len([e for e in found if e is not None]) == 2

    async def _last(self, subject: str) -> Event | None:
        with nats_errors():
            try:
                msg = await self.bus.js.get_last_msg(subjects.EVENTS_STREAM, subject)
            except NotFoundError:
                return None
        try:
            return decode(msg.data or b"")
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None

    async def _publish(self, flow: Flow, step: Step) -> None:
        course = self.course
        assert course is not None
        cause = course.step_cause
        for event_type, data in step.events:
            if event_type == "prompt.spoken":
                data = await self._voiced(flow, course, data, cause)
            what = f"{event_type}:{getattr(data, 'objective', '')}:{getattr(data, 'attempt', '')}"
            event = new_event(EVENT_CLASSES[event_type],
                              conversation_id=self.folder.conversation_id,
                              trace_id=course.trace_id, data=data, causation_id=cause,
                              event_id=derive_id(cause, what))
            # Checked right before each publish, after the synthesis that can take seconds:
            # a process stalled past the TTL meanwhile renews (and finds the lease taken)
            # before it can publish, not after.
            await self.lease.ensure()
            await self.bus.publish(event)
            self.apply(event)

    async def _voiced(self, flow: Flow, course: Course, prompt: Any, cause: str) -> Any:
        """The prompt with its synthesized audio when the conversation speaks (every part,
        ``audio_parts``; the first also as ``audio``, for readers of before); without,
        when the core cannot."""
        if not course.speak or prompt.kind == "fallback":
            return prompt
        params = {"text": prompt.text, "voice": course.voice or flow.voice,
                  "language": course.language}
        outcome = await self.port.execute(
            SYNTHESIZE, params, conversation_id=self.folder.conversation_id,
            trace_id=course.trace_id, purpose=purpose_for(prompt.objective, "speak"),
            timeout_s=0.0, idempotency_key=derive_id(cause, f"say:{prompt.kind}:{prompt.attempt}"))
        chunks = (outcome.data.get("chunks") or []) if outcome.success else []
        if not chunks:
            log.warning("conversation prompt not synthesized (%s)", outcome.code or "no audio")
            return prompt
        parts = msgspec.convert(chunks, tuple[AudioRef, ...])
        return msgspec.structs.replace(prompt, audio=parts[0], audio_parts=parts)

