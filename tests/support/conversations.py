"""Conversations on a real stack: scripted callers, and processes that drive them.

A :func:`scripted_call` is the caller's side as ``voicecore converse`` has it: it asks
for a conversation, answers each question (``ask``/``reprompt``/``confirm`` prompt) with
the next line of its script, naming the prompt (:data:`HANG_UP`: it hangs up instead),
and returns every event of the conversation once it ended
(``conversation.completed``/``.abandoned``).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from core import subjects
from core.bus import Bus
from schemas import conversation as cv
from schemas import conversation_events as ce
from schemas import ids
from schemas.events import Event, decode, new_event
from tests.support import proc

CONTACT = """\
name: contact_test
fallback: "Sorry, we are having technical trouble. Goodbye."
objectives:
  - id: greet
    say: "Hello, this is Acme."
  - id: email
    primitive: capture_email
    prompt: "What is your email address?"
    reprompts: ["Sorry, what is your email address?", "Could you spell it for me?"]
    give_up: "I could not get your email address."
    max_attempts: 3
    timeout_s: 600
    confirm: always
    confirm_prompt: "I have {email}, is that right?"
    hint: email
  - id: phone
    primitive: capture_phone
    prompt: "And your phone number?"
    max_attempts: 2
    give_up: "no phone number"
    timeout_s: 600
    confirm: never
    on_failure: {on_failure}
  - id: goodbye
    say: "Thank you, we will email {email}. Goodbye."
"""
QUESTIONS = frozenset({"ask", "reprompt", "confirm"})
HANG_UP = "<the caller hangs up>"
"""A script line: publish ``conversation.hung_up`` (naming the prompt) instead of a turn."""
ENDS = frozenset({"conversation.completed", "conversation.abandoned"})


def contact_flow(on_failure: str = "continue") -> str:
    return CONTACT.replace("{on_failure}", on_failure)


def request(document: str, speak: bool = False) -> cv.ConversationRequest:
    name = next(line.split(":", 1)[1].strip() for line in document.splitlines()
                if line.startswith("name:"))
    return cv.ConversationRequest(flow=cv.FlowRef(
        name=name, version=hashlib.sha256(document.encode()).hexdigest(), document=document),
        speak=speak)


@dataclass
class Call:
    conversation_id: str
    script: list[str]
    events: list[Event] = field(default_factory=list)
    answered: int = 0

    @property
    def end(self) -> Event:
        return next(e for e in self.events if e.event_type in ENDS)

    def prompts(self) -> list[cv.Prompt]:
        return [e.data for e in self.events if isinstance(e, ce.PromptSpoken)]


async def scripted_call(bus: Bus, document: str, script: list[str], *,
                        conversation_id: str = "", pause: asyncio.Event | None = None,
                        timeout: float = 240.0) -> Call:
    """Hold one conversation; ``pause``: wait for it before each answer (a test's hook)."""
    call = Call(conversation_id or f"t-{ids.uuid7().replace('-', '')[:20]}", list(script))
    queue: asyncio.Queue[Event] = asyncio.Queue()

    async def on_message(msg: object) -> None:
        queue.put_nowait(decode(msg.data))  # type: ignore[attr-defined]

    sub = await bus.nc.subscribe(subjects.conversation_filter(call.conversation_id),
                                 cb=on_message)
    trace = ids.uuid7().replace("-", "")
    try:
        await bus.publish(new_event(ce.ConversationRequested, conversation_id=call.conversation_id,
                                    trace_id=trace, data=request(document)))
        async with asyncio.timeout(timeout):  # bounds a failing test only
            while True:
                event = await queue.get()
                call.events.append(event)
                if event.event_type in ENDS:
                    return call
                if isinstance(event, ce.PromptSpoken) and event.data.kind in QUESTIONS:
                    if pause is not None:
                        await pause.wait()
                    await _answer(bus, call, event, trace)
    finally:
        await sub.unsubscribe()


async def _answer(bus: Bus, call: Call, prompt: ce.PromptSpoken, trace: str) -> None:
    assert call.script, f"script ran out at {prompt.data.kind} {prompt.data.objective}"
    text = call.script.pop(0)
    call.answered += 1
    said: Event = new_event(ce.TurnReceived, conversation_id=call.conversation_id,
                            trace_id=trace, causation_id=prompt.id, data=cv.Turn(text=text))
    if text == HANG_UP:
        said = new_event(ce.ConversationHungUp, conversation_id=call.conversation_id,
                         trace_id=trace, causation_id=prompt.id,
                         data=cv.HangUp(reason="end of the script"))
    await bus.publish(said)


@dataclass
class Stack:
    url: str
    grpc_addr: str
    data_dir: Path
    orchestrators: list[object] = field(default_factory=list)

    def orchestrator(self, lease_ttl: float = 3.0) -> object:
        """Start one more ``voicecore orchestrator`` process (until its ready line)."""
        child = proc.voicecore("orchestrator", "--nats-url", self.url, "--data-dir",
                               str(self.data_dir), "--grpc-addr", self.grpc_addr,
                               "--lease-ttl", str(lease_ttl))
        proc.wait_ready(child)
        self.orchestrators.append(child)
        return child


@contextmanager
def stack(data_dir: Path, *extra: str) -> Iterator[Stack]:
    """``voicecore up --no-orchestrator`` (NATS, workers, sink, bridge); the test starts
    the orchestrator processes it wants with :meth:`Stack.orchestrator`."""
    port, grpc = proc.free_port(), f"127.0.0.1:{proc.free_port()}"
    args = ["up", "--data-dir", str(data_dir), "--nats-port", str(port), "--grpc-addr", grpc,
            "--no-orchestrator", *extra]
    with proc.started(*args):
        running = Stack(f"nats://127.0.0.1:{port}", grpc, data_dir)
        try:
            yield running
        finally:
            for child in running.orchestrators:
                stopped = proc.stop(child)  # type: ignore[arg-type]
                if stopped.stderr.strip():
                    print(f"orchestrator {child.pid}:\n{stopped.stderr}")  # type: ignore[attr-defined]
