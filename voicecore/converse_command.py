"""``voicecore converse --flow FILE``: a conversation in the terminal, as a caller has it.

It asks for a conversation (``conversation.requested``, the flow file inside), prints
each prompt the orchestrator speaks (``prompt.spoken``) and answers every question with
the next reply (``turn.received``, naming the prompt it answers), until the
conversation completes or is abandoned. Replies come from the terminal, a scripted
caller or a directory of audio files (:mod:`voicecore.converse_replies`). When standard
input is not a terminal each prompt is one flushed line and one line is read per turn,
so ``printf 'a\\nb\\n' | voicecore converse --flow F --json`` works; ``--json`` prints
``{"conversation_id", "status", "slots"}`` as the last line. When the replies run out
before the conversation ends, the caller hangs up (``conversation.hung_up``): the
orchestrator abandons it at once (``HUNG_UP``), and that is the status shown. The exit
status is 0 when the conversation completed, 1 otherwise.

It talks to the ``voicecore up`` of ``--data-dir`` (the NATS URL its event log
advertises, the ``caller`` identity) or, when none runs, to an embedded one (NATS, the
workers, the event log and the bridge in this process, with an orchestrator), on the
same data directory: afterwards ``voicecore log show`` and ``voicecore replay`` show
the conversation either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import typer

from core.bus import Bus
from core.config import Settings
from core.errors import BusError, ConfigError
from core.natsauth import NatsAuth
from orchestrator.flowfile import load_flow
from schemas import conversation as cv
from schemas import conversation_events as ce
from schemas import ids
from schemas.events import Event, decode, new_event
from voicecore.converse_replies import Replies, Reply, audio_files, scripted
from voicecore.converse_speech import SpeechIo
from voicecore.options import (
    AsJson,
    Caller,
    DataDir,
    NatsUrl,
    run_async,
    settings,
    with_grpc_caller,
    with_nats_auth,
)
from voicecore.orchestrator_command import orchestrating

QUESTIONS = frozenset({"ask", "reprompt", "confirm"})
HANG_UP_WAIT_S = 60.0
"""How long, after hanging up, to wait for the orchestrator to end the conversation (it may
be finishing a primitive call first); then the status stays ``open``."""
ENDS = {"conversation.completed": "completed", "conversation.abandoned": "abandoned"}


@dataclasses.dataclass
class Ended:
    conversation_id: str
    status: str = "open"
    slots: dict[str, str] = dataclasses.field(default_factory=dict)
    reason: str = ""


@with_nats_auth
@with_grpc_caller
def converse_command(
    nats_auth: NatsAuth,
    flow: Annotated[Path, typer.Option("--flow", help="The flow file (YAML)")],
    speak: Annotated[bool, typer.Option("--speak", help="Synthesize every prompt and write "
                                        "it to an audio file (path on standard error)")] = False,
    audio_dir: Annotated[Path | None, typer.Option(
        "--audio-dir", help="Reply with these audio files, in name order")] = None,
    script: Annotated[Path | None, typer.Option(
        "--script", help="A scripted caller: YAML list of replies")] = None,
    voice: Annotated[str, typer.Option(
        "--voice", help="With --script: speak the replies with this voice")] = "",
    as_json: AsJson = False,
    data_dir: DataDir = None,
    nats_url: NatsUrl = None,
    conversation: Annotated[str, typer.Option("--conversation",
                                              help="Conversation id [new]")] = "",
    *,
    caller: Caller,
) -> None:
    """Hold a conversation driven by a flow file: prompts printed, replies typed (or
    scripted, or audio files); through a running `voicecore up`, or an embedded one."""
    if audio_dir is not None and script is not None:
        raise ConfigError("give --audio-dir or --script, not both")
    if voice and script is None:
        raise ConfigError("--voice speaks a scripted caller's replies: give --script too")
    request = flow_request(flow, speak)
    replies = Replies(scripted(script, voice) if script is not None
                      else audio_files(audio_dir) if audio_dir is not None else None)
    cid = conversation or f"conv-{ids.uuid7().replace('-', '')[:20]}"
    chosen = settings(data_dir, nats_url, nats_auth=nats_auth)
    ended = run_async(converse(chosen, caller, request, replies, cid, voice))
    if ended.status != "completed" and ended.reason:
        print(f"voicecore: conversation {ended.status}: {ended.reason}", file=sys.stderr)
    if as_json:
        print(json.dumps({"conversation_id": ended.conversation_id, "status": ended.status,
                          "slots": ended.slots}), flush=True)
    raise typer.Exit(0 if ended.status == "completed" else 1)


def flow_request(path: Path, speak: bool) -> cv.ConversationRequest:
    loaded = load_flow(path)
    return cv.ConversationRequest(flow=loaded.ref, language=loaded.flow.language,
                                  voice=loaded.flow.voice, speak=speak)


async def converse(chosen: Settings, caller: Caller, request: cv.ConversationRequest,
                   replies: Replies, cid: str, voice: str) -> Ended:
    async with connected(chosen, caller) as (bus, bridge):
        return await Session(bus, SpeechIo(bus, bridge, chosen.data_dir, voice), replies,
                             cid).run(request)


@contextlib.asynccontextmanager
async def connected(chosen: Settings, caller: Caller) -> AsyncIterator[tuple[Bus, Caller]]:
    """The running ``up``'s NATS as the caller, else an embedded stack (as its admin)."""
    from core.eventlog.client import service_url

    url = chosen.nats_url or service_url(chosen.data_dir)
    if url is not None:
        bus = None
        with contextlib.suppress(BusError):
            bus = await Bus.connect(url, name="voicecore-converse",
                                    auth=chosen.identity("caller"))
        if bus is not None or chosen.nats_url is not None:
            if bus is None:
                raise ConfigError(f"cannot reach NATS at {url}")
            try:
                yield bus, caller
            finally:
                await bus.drain()
            return
    from voicecore.app import running

    print("voicecore: no voicecore up for this data directory: conversing through an "
          "embedded one", file=sys.stderr)
    embedded = dataclasses.replace(chosen, grpc_addr="127.0.0.1:0")
    async with running(embedded, grpc_bridge=True, event_log=True) as state:
        bridge = Caller(state.bridge.address, None, None)
        async with orchestrating(state.bus, bridge):
            yield state.bus, bridge


class Session:
    """One conversation from the caller's side."""

    def __init__(self, bus: Bus, speech: SpeechIo, replies: Replies, cid: str) -> None:
        self.bus = bus
        self.speech = speech
        self.replies = replies
        self.ended = Ended(cid)
        self.events: asyncio.Queue[Event] = asyncio.Queue()
        self.trace_id = ids.uuid7().replace("-", "")
        self.hung_up = False

    async def run(self, request: cv.ConversationRequest) -> Ended:
        from core import subjects

        sub = await self.bus.nc.subscribe(subjects.conversation_filter(self.ended.conversation_id),
                                          cb=self._on_message)
        try:
            await self.bus.publish(new_event(
                ce.ConversationRequested, conversation_id=self.ended.conversation_id,
                trace_id=self.trace_id, data=request))
            while self.ended.status == "open":
                try:
                    async with asyncio.timeout(HANG_UP_WAIT_S if self.hung_up else None):
                        event = await self.events.get()
                except TimeoutError:
                    self.ended.reason = "hung up, but no orchestrator ended the conversation"
                    break
                await self._next(event)
        finally:
            await sub.unsubscribe()
        return self.ended

    async def _on_message(self, msg: Any) -> None:
        with contextlib.suppress(ValueError):  # msgspec's errors are ValueErrors
            self.events.put_nowait(decode(msg.data))

    async def _next(self, event: Event) -> None:
        """Handle one event of the conversation (a question with no reply left: hang up)."""
        if isinstance(event, ce.PromptSpoken):
            self._show(event.data)
            if event.data.audio is not None:  # every part (an older orchestrator: the first)
                parts = event.data.audio_parts or (event.data.audio,)
                await self.speech.play(event.data, parts, self.ended.conversation_id)
            if event.data.kind in QUESTIONS and not self.hung_up:
                reply = await self.replies.next()
                if reply is None:
                    await self._hang_up(event)
                else:
                    await self._answer(event, reply)
        elif event.event_type in ENDS:
            data = event.data
            self.ended.status = ENDS[event.event_type]
            self.ended.slots = dict(data.slots)
            self.ended.reason = getattr(data, "reason", "")

    def _show(self, prompt: cv.Prompt) -> None:
        print(f"agent: {prompt.text}" if self.replies.interactive else prompt.text, flush=True)

    async def _answer(self, prompt: ce.PromptSpoken, reply: Reply) -> None:
        turn_id = ids.uuid7()
        audio = await self.speech.reply_audio(reply, self.ended.conversation_id, turn_id)
        data = cv.Turn(text="" if audio is not None else reply.text[:4000], audio=audio)
        await self.bus.publish(new_event(
            ce.TurnReceived, conversation_id=self.ended.conversation_id,
            trace_id=self.trace_id, causation_id=prompt.id, data=data, event_id=turn_id))


    async def _hang_up(self, prompt: ce.PromptSpoken) -> None:
        """No reply left: the caller hangs up (the orchestrator then abandons at once)."""
        self.hung_up = True
        await self.bus.publish(new_event(
            ce.ConversationHungUp, conversation_id=self.ended.conversation_id,
            trace_id=self.trace_id, causation_id=prompt.id,
            data=cv.HangUp(reason=self.replies.ran_out)))


def register(app: typer.Typer) -> None:
    app.command("converse")(converse_command)
