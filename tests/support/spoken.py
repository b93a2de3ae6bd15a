"""Spoken conversations on a real stack: a :class:`~tests.support.spoken_callers.Caller`
answers each question of flows/contact_details.yaml out loud.

Each reply is synthesized by the stack's ``synthesize`` primitive with the caller's voice
(as ``voicecore converse --voice`` does), stored in ``VC_AUDIO`` and sent as an audio
turn; the orchestrator transcribes it with the objective's hint, captures, confirms and
re-prompts. :func:`spoken_call` returns what happened turn by turn (what was said, what
Whisper heard, what the capture read) and the slots the conversation ended with.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from core import subjects
from core.bus import Bus
from core.tts import espeak
from schemas import conversation as cv
from schemas import conversation_events as ce
from schemas import ids
from schemas.events import Event, decode, new_event
from tests.support.conversations import ENDS, QUESTIONS, request
from tests.support.spoken_callers import Caller
from voicecore.converse_replies import Reply
from voicecore.converse_speech import SpeechIo
from voicecore.options import Caller as Bridge

FLOW = Path(__file__).parents[2] / "flows" / "contact_details.yaml"
# espeak-ng's m3 variant: no English voice of espeak-ng (variants, rates, en-gb) is clearly
# better understood by Whisper (benchmarks/espeak_voices.py; README, "Spoken conversations").
VOICES = ("piper:en_US-joe-medium", f"espeak-ng:{espeak.voice_id('en', 'm3')}")
CAPTURES = frozenset({"capture_email", "capture_phone", "capture_date"})


@dataclass
class Exchange:
    """One turn: the question, what the caller said, what was heard and read of it."""

    objective: str
    kind: str
    said: str
    heard: str = ""
    read: str | None = None
    """The objective's capture of the turn (None: nothing read)."""
    answer: str | None = None
    """What capture_confirmation read of an answer to a read-back (yes/no, None)."""


@dataclass
class SpokenCall:
    caller: Caller
    voice: str
    conversation_id: str
    exchanges: list[Exchange] = field(default_factory=list)
    status: str = "open"
    slots: dict[str, str] = field(default_factory=dict)
    wrong_readbacks: dict[str, int] = field(default_factory=dict)
    """Per slot: read-backs of a value the caller did not say (a recognizer error)."""

    @property
    def success(self) -> bool:
        return self.status == "completed" and all(
            self.slots.get(slot) == value for slot, value in self.caller.expected.items())

    @property
    def wrong_slots(self) -> list[str]:
        return [s for s, v in self.caller.expected.items() if self.slots.get(s) != v]

    @property
    def no_read_as_yes(self) -> int:
        """Answers "no, it's …" to a read-back that capture_confirmation read as a yes."""
        return sum(1 for x in self.exchanges
                   if x.kind == "confirm" and x.said.startswith("no") and x.answer == "yes")

    @property
    def caught(self) -> int:
        """Recognizer errors confirmation caught: a wrong read-back, a "no", and the slot
        right in the end."""
        return sum(1 for slot, n in self.wrong_readbacks.items()
                   if n and self.slots.get(slot) == self.caller.expected[slot])


class SpokenCaller:
    """Speaks one caller's replies into a running stack (``grpc_addr``: its bridge)."""

    def __init__(self, bus: Bus, grpc_addr: str, data_dir: Path) -> None:
        self.bus = bus
        self.grpc_addr = grpc_addr
        self.data_dir = data_dir
        self.document = FLOW.read_text()

    async def call(self, caller: Caller, voice: str, timeout: float = 900.0) -> SpokenCall:
        call = SpokenCall(caller, voice, f"spoken-{caller.number}-{ids.uuid7()[-12:]}")
        speech = SpeechIo(self.bus, Bridge(self.grpc_addr, None, None), self.data_dir, voice)
        queue: asyncio.Queue[Event] = asyncio.Queue()

        async def on_message(msg: Any) -> None:
            queue.put_nowait(decode(msg.data))

        sub = await self.bus.nc.subscribe(subjects.conversation_filter(call.conversation_id),
                                          cb=on_message)
        trace = ids.uuid7().replace("-", "")
        read: dict[str, str] = {}  # the latest value each objective's capture read
        try:
            await self.bus.publish(new_event(
                ce.ConversationRequested, conversation_id=call.conversation_id,
                trace_id=trace, data=request(self.document)))
            async with asyncio.timeout(timeout):  # bounds a stuck conversation only
                while call.status == "open":
                    event = await queue.get()
                    _observe(call, event, read)
                    if isinstance(event, ce.PromptSpoken) and event.data.kind in QUESTIONS:
                        await self._answer(call, speech, event, read, trace)
        finally:
            await sub.unsubscribe()
        return call

    async def _answer(self, call: SpokenCall, speech: SpeechIo, prompt: ce.PromptSpoken,
                      read: dict[str, str], trace: str) -> None:
        asked = prompt.data
        readback = read.get(asked.objective, "")
        if asked.kind == "confirm" and readback != call.caller.expected.get(asked.objective) \
                and not _said_on_purpose(call.caller, asked.objective, readback):
            slot = asked.objective
            call.wrong_readbacks[slot] = call.wrong_readbacks.get(slot, 0) + 1
        said = call.caller.answer(asked.objective, asked.kind, asked.text, readback,
                                  asked.attempt)
        call.exchanges.append(Exchange(asked.objective, asked.kind, said))
        turn_id = ids.uuid7()
        audio = await speech.reply_audio(Reply(text=said, speak=True), call.conversation_id,
                                         turn_id)
        await self.bus.publish(new_event(
            ce.TurnReceived, conversation_id=call.conversation_id, trace_id=trace,
            causation_id=prompt.id, event_id=turn_id, data=cv.Turn(audio=audio)))



def _said_on_purpose(caller: Caller, objective: str, readback: str) -> bool:
    """A read-back of the old address the caller gave first: no recognizer error."""
    return objective == "email" and bool(caller.old_email) and readback == caller.old_email


def _observe(call: SpokenCall, event: Event, read: dict[str, str]) -> None:
    kind, _, outcome = event.event_type.partition(".")
    if event.event_type == "transcribe.completed" and call.exchanges:
        call.exchanges[-1].heard = str(_data(event).get("text", ""))
    elif event.event_type == "capture_confirmation.completed" and call.exchanges:
        call.exchanges[-1].answer = str(_data(event).get("value", ""))
    elif kind in CAPTURES and outcome == "completed" and call.exchanges:
        value = str(_data(event).get("value", ""))
        call.exchanges[-1].read = value
        read[call.exchanges[-1].objective] = value
    elif event.event_type in ENDS:
        call.status = event.event_type.split(".")[1]
        call.slots = dict(_data(event).get("slots", {}))


def _data(event: Event) -> dict[str, Any]:
    found = msgspec.to_builtins(event.data)
    return found if isinstance(found, dict) else {}
