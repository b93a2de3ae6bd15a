"""Payloads of the orchestrator's events (layer 2): a conversation driven by a flow.

A conversation is asked for (``conversation.requested``, by whoever answers the call: a
telephony gateway, ``voicecore converse``), then driven by one orchestrator, which records
every step as an event so that its state is a pure fold over them
(:mod:`orchestrator.state`): ``conversation.started``, per objective ``objective.started``,
``prompt.spoken`` (what the caller was told or asked), ``turn.received`` (what the caller
answered, published by the caller's side), the primitives' own request and result events,
``objective.completed`` or ``objective.failed``, and at the end
``conversation.completed`` or ``conversation.abandoned``. The caller's side may say it
hung up (``conversation.hung_up``) at any time; the orchestrator then abandons the
conversation (``HUNG_UP``).

Slot values, turns and prompts (which read values back) are personal data: they live in
events only, never in logs, spans or metric labels, and ``voicecore log redact`` removes them.
The evolution rules of :mod:`schemas.events` apply.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from schemas.audio import AudioRef, Count, Sha256, VoiceName
from schemas.envelope import NAME_PATTERN, NAME_TOKEN
from schemas.payloads import Confidence, Language

FlowName = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.-]{1,128}(?!\n)$")]
FlowVersion = Sha256
"""sha256 (hex) of the flow file's bytes: two runs of one version asked the same things."""
ObjectiveId = Annotated[str, msgspec.Meta(pattern=NAME_PATTERN)]
SlotName = ObjectiveId
OptionalSlot = Annotated[str, msgspec.Meta(pattern=f"^({NAME_TOKEN})?(?!\\n)$")]
"""A slot name, or empty for an objective that fills none."""
FlowDocument = Annotated[str, msgspec.Meta(max_length=256 * 1024)]
Utterance = Annotated[str, msgspec.Meta(max_length=4000)]
Code = Annotated[str, msgspec.Meta(max_length=64)]
Reason = Annotated[str, msgspec.Meta(max_length=1000)]
PromptKind = Literal["say", "ask", "reprompt", "confirm", "fallback"]
"""``say``: a line that asks nothing (a greeting); ``ask``: an objective's first prompt;
``reprompt``: a rung of its re-prompt ladder; ``confirm``: the read-back before a yes/no;
``fallback``: the flow's line when the voice core cannot be reached."""


class FlowRef(msgspec.Struct, frozen=True, kw_only=True):
    """Which flow drives a conversation. ``document`` is the flow file itself (YAML), so any
    orchestrator can drive (and, after a crash, rebuild) the conversation from its events."""

    name: FlowName
    version: FlowVersion
    document: FlowDocument = ""


class ConversationRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Data of ``conversation.requested``: drive this conversation with this flow."""

    flow: FlowRef
    language: Language = "en"
    voice: VoiceName = ""
    """Named voice for prompts (``emma``); empty: the flow's, else the engine's default."""
    speak: bool = False
    """Synthesize every prompt (``prompt.spoken`` then carries its audio); off for text-only
    channels (a chat, a test), which read ``prompt.spoken``'s text."""


class ConversationStart(msgspec.Struct, frozen=True, kw_only=True):
    """Data of ``conversation.started``: an orchestrator took the conversation."""

    flow: FlowName
    flow_version: FlowVersion
    objectives: tuple[ObjectiveId, ...]
    """The flow's objectives in order, as it stood at this version."""
    language: Language = "en"


class ObjectiveStart(msgspec.Struct, frozen=True, kw_only=True):
    objective: ObjectiveId
    primitive: OptionalSlot = ""
    """The primitive that reads the caller's answer; empty for a line that asks nothing."""
    slot: OptionalSlot = ""


class Prompt(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What the caller was told. A caller's answer names it as its ``causation_id``.
    Fields at their default are not written (so ``audio_parts`` was added without
    changing how a prompt without it reads); every reader defaults them."""

    objective: ObjectiveId
    kind: PromptKind
    text: Utterance
    attempt: Count = 1
    """Which attempt at the objective this prompt opens (1 = first ask)."""
    audio: AudioRef | None = None
    """The synthesized prompt's first part, when the conversation speaks."""
    audio_parts: tuple[AudioRef, ...] = ()
    """Every part of the synthesized prompt, in order (one per sentence; ``audio`` is the
    first). Empty in prompts written before it existed: a reader then has ``audio`` only."""


class Turn(msgspec.Struct, frozen=True, kw_only=True):
    """What the caller said, as text or audio (then transcribed with the objective's hint).
    Its ``causation_id`` is the ``prompt.spoken`` it answers."""

    text: Utterance = ""
    audio: AudioRef | None = None


class HangUp(msgspec.Struct, frozen=True, kw_only=True):
    """Data of ``conversation.hung_up``: the caller left (published by the caller's side, at
    any time; its ``causation_id`` is the last ``prompt.spoken`` the caller heard, if any)."""

    reason: Reason = ""
    """How the caller's side knew (``end of input``); never what the caller said."""


class ObjectiveResult(msgspec.Struct, frozen=True, kw_only=True):
    objective: ObjectiveId
    slot: OptionalSlot = ""
    value: str = ""
    confidence: Confidence = 1.0
    confirmed: bool = False
    """The caller said yes to the read-back."""
    attempts: Count = 1


class ObjectiveFailure(msgspec.Struct, frozen=True, kw_only=True):
    objective: ObjectiveId
    code: Code
    """``MAX_ATTEMPTS``, ``TIMEOUT``, ``UNAVAILABLE`` (circuit open, core down), or the
    primitive's failure code when it is not one to ask again for."""
    reason: Reason = ""
    attempts: Count = 1


class ConversationResult(msgspec.Struct, frozen=True, kw_only=True):
    slots: dict[SlotName, Utterance]
    failed: tuple[ObjectiveId, ...] = ()
    """Objectives that failed and whose flow said ``continue``."""


class Abandonment(msgspec.Struct, frozen=True, kw_only=True):
    code: Code
    """``OBJECTIVE_FAILED`` (a failure whose flow said ``end``), ``UNAVAILABLE``, ``HUNG_UP``."""
    reason: Reason = ""
    slots: dict[SlotName, Utterance] = {}
