"""Driving one conversation: perform what :func:`orchestrator.decide.decide` says.

A :class:`Driver` owns one conversation while its process holds the lease. It folds
the conversation's stored events (a new conversation has just its request; one taken
over has everything its last owner and the caller published), then loops: decide,
call the primitive a decision asks for (through the :class:`~orchestrator.port.Primitives`
port, with the conversation's trace id and a ``purpose`` naming the objective), or publish
the step's events (each applied to the progress at once), until the step is to wait for
the caller's turn (its inbox) or the objective's deadline.

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

from core import subjects
from core.bus import Bus
from core.stored import stored_messages
from orchestrator.decide import Call, Heard, Step, deadline, decide, find
from orchestrator.flow import Flow
from orchestrator.lease import Lease
from orchestrator.port import UNAVAILABLE, Outcome, Primitives
from orchestrator.progress import Progress, capture_result, purpose_for
from schemas import conversation_events as ce
from schemas.audio import AudioRef
from schemas.envelope import Event, type_of
from schemas.events import decode, new_event, now
from schemas.ids import derive_id

log = logging.getLogger(__name__)

EVENT_CLASSES: dict[str, type[Event]] = {type_of(c): c for c in ce.CONVERSATION_EVENTS}
WAIT_RETRY_S = 1.0
"""Pause between calls while a flow says ``on_unavailable: wait``."""
TRANSCRIBE, SYNTHESIZE = "transcribe", "synthesize"
FlowLoader = Callable[[str], Flow]


async def stored_progress(bus: Bus, conversation_id: str) -> Progress:
    """The progress of a conversation from its events stored in ``VC_EVENTS``."""
    progress = Progress()
    async for msg in stored_messages(bus, subjects.EVENTS_STREAM,
                                     subjects.conversation_filter(conversation_id)):
        try:
            progress.apply(decode(msg.data))
        except (msgspec.DecodeError, msgspec.ValidationError):
            continue  # not an event this process knows: nothing a progress reads
    return progress


class Driver:
    def __init__(self, bus: Bus, port: Primitives, lease: Lease, load_flow: FlowLoader,
                 *, clock: Callable[[], dt.datetime] = now) -> None:
        self.bus = bus
        self.port = port
        self.lease = lease
        self.load_flow = load_flow
        self.clock = clock
        self.inbox: asyncio.Queue[Event] = asyncio.Queue()
        self.progress = Progress()
        self._transcripts: dict[str, str] = {}

    async def run(self, progress: Progress) -> Progress:
        """Drive until the conversation ends (or the lease is lost: :class:`LeaseLost`)."""
        for queued in self._drain():  # turns that came while the history was read
            progress.apply(queued)
        self.progress = progress
        if progress.request is None or progress.ended:
            return progress
        flow = self.load_flow(progress.request.flow.document)
        while not progress.ended:
            await self._advance(flow)
            if progress.ended:
                break
            await self._await_turn(flow)
        return progress

    def _drain(self) -> list[Event]:
        found = []
        while not self.inbox.empty():
            found.append(self.inbox.get_nowait())
        return found

    async def _await_turn(self, flow: Flow) -> None:
        run = self.progress.run
        timeout = None
        if run is not None and run.status == "open":
            left = deadline(find(flow, run.id), run) - self.clock()
            timeout = max(0.0, left.total_seconds())
        try:
            event = await asyncio.wait_for(self.inbox.get(), timeout)
        except TimeoutError:
            return  # decide() fails the objective: TIMEOUT
        self.progress.apply(event)

    async def _advance(self, flow: Flow) -> None:
        heard: Heard | None = None
        while True:
            decision = decide(flow, self.progress, heard, self.clock())
            if isinstance(decision, Call):
                heard = await self._hear(flow, decision, heard)
                continue
            if not decision.events:
                return
            await self._publish(flow, decision)

    async def _hear(self, flow: Flow, call: Call, heard: Heard | None) -> Heard:
        turn = self.progress.pending_turn
        assert turn is not None
        heard = heard if heard is not None and heard.turn_id == turn.id else Heard(turn.id)
        text = await self._text_of(flow, turn, call)
        if text is None:
            outcome = Outcome(False, code=UNAVAILABLE, reason="transcription unavailable")
        else:
            purpose = purpose_for(call.objective.id, "capture" if call.role == "capture"
                                  else "confirm")
            params = {"transcript": text, "language": self._language(flow)}
            outcome = await self._call(flow, call.primitive, params, purpose, turn.id)
        if outcome.success and call.role == "capture":
            result = capture_result(outcome.data)
            if result is not None:
                self.progress.captured(call.objective.id, result)
        if call.role == "capture":
            return Heard(heard.turn_id, capture=outcome, confirmation=heard.confirmation)
        return Heard(heard.turn_id, capture=heard.capture, confirmation=outcome)

    async def _text_of(self, flow: Flow, turn: ce.TurnReceived, call: Call) -> str | None:
        """The turn's text; an audio turn transcribed once, with the objective's hint."""
        if turn.data.audio is None:
            return turn.data.text
        if turn.id not in self._transcripts:
            hint = "confirmation" if call.role == "confirmation" else call.objective.hint
            params = {"audio": msgspec.to_builtins(turn.data.audio), "hint": hint,
                      "language": self._language(flow)}
            outcome = await self._call(flow, TRANSCRIBE, params,
                                       purpose_for(call.objective.id, "transcribe"), turn.id)
            if not outcome.success:
                return None if outcome.unavailable else ""
            self._transcripts[turn.id] = str(outcome.data.get("text", ""))
        return self._transcripts[turn.id]

    def _language(self, flow: Flow) -> str:
        request = self.progress.request
        return request.language if request is not None else flow.language

    async def _call(self, flow: Flow, primitive: str, params: dict[str, Any], purpose: str,
                    key: str) -> Outcome:
        """One call through the port; with ``on_unavailable: wait``, again until the
        objective's deadline while the core cannot be reached."""
        while True:
            outcome = await self.port.execute(
                primitive, params, conversation_id=self.progress.conversation_id,
                trace_id=self.progress.trace_id, purpose=purpose, timeout_s=0.0,
                idempotency_key=f"{key}-{primitive}")
            run = self.progress.run
            if not outcome.unavailable or flow.on_unavailable != "wait" or run is None:
                return outcome
            left = (deadline(find(flow, run.id), run) - self.clock()).total_seconds()
            if left <= 0:
                return outcome
            await asyncio.sleep(min(WAIT_RETRY_S, left))

    async def _publish(self, flow: Flow, step: Step) -> None:
        await self.lease.ensure()
        progress = self.progress
        turn = progress.pending_turn
        cause = turn.id if turn is not None else progress.last_event_id or progress.request_id
        for event_type, data in step.events:
            if event_type == "prompt.spoken":
                data = await self._voiced(flow, data, cause)
            what = f"{event_type}:{getattr(data, 'objective', '')}:{getattr(data, 'attempt', '')}"
            event = new_event(EVENT_CLASSES[event_type], conversation_id=progress.conversation_id,
                              trace_id=progress.trace_id, data=data, causation_id=cause,
                              event_id=derive_id(cause, what))
            await self.bus.publish(event)
            progress.apply(event)

    async def _voiced(self, flow: Flow, prompt: Any, cause: str) -> Any:
        """The prompt with its synthesized audio when the conversation speaks (its first
        part: ``Prompt.audio`` holds one reference); without, when the core cannot."""
        request = self.progress.request
        if request is None or not request.speak or prompt.kind == "fallback":
            return prompt
        params = {"text": prompt.text, "voice": request.voice or flow.voice,
                  "language": self._language(flow)}
        outcome = await self.port.execute(
            SYNTHESIZE, params, conversation_id=self.progress.conversation_id,
            trace_id=self.progress.trace_id, purpose=purpose_for(prompt.objective, "speak"),
            timeout_s=0.0,
            idempotency_key=derive_id(cause, f"say:{prompt.kind}:{prompt.attempt}"))
        chunks = outcome.data.get("chunks") or [] if outcome.success else []
        if not chunks:
            log.warning("conversation prompt not synthesized (%s)", outcome.code or "no audio")
            return prompt
        return msgspec.structs.replace(prompt, audio=msgspec.convert(chunks[0], AudioRef))

