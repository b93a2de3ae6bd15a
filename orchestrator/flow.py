"""Flows as data (layer 3 written by users, read here): the typed shape of a flow file.

A flow file is YAML::

    name: contact_details
    language: en
    voice: emma
    fallback: "Sorry, we are having technical trouble. We will call you back."
    objectives:
      - id: greet
        say: "Hello, this is Acme. I need a few details to set up your callback."
      - id: email
        primitive: capture_email
        slot: email
        prompt: "What is your email address?"
        reprompts:
          - "Sorry, I did not catch that. What is your email address?"
          - "Could you spell it for me, letter by letter?"
        give_up: "I could not get your email address."
        max_attempts: 3
        timeout_s: 30
        confirm: always
        confirm_prompt: "I have {email}, is that right?"
        hint: email
        on_failure: continue
      - id: goodbye
        say: "Thank you. We will email you at {email}. Goodbye."

An objective either *says* a line (``say``) or *asks* for a slot through a primitive; its
re-prompt ladder is ``prompt`` then each of ``reprompts`` in turn (the last one repeats),
until ``max_attempts`` answers went unread, then ``give_up`` is the failure's reason and
``on_failure`` decides: ``continue`` with the next objective, ``end`` the conversation
(abandoned), or ``{goto: <objective id>}``. Prompts are templates over the captured slots
(``{email}``). Loading, the file/line/field errors and the JSON Schema are in
:mod:`orchestrator.flowfile`.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from schemas.conversation import ObjectiveId, SlotName
from schemas.payloads import Language

ConfirmPolicy = Literal["always", "never", "when_uncertain"]
"""``when_uncertain``: confirm when the result says ``needs_confirmation`` or its confidence
is below the objective's ``confirm_below``."""
Line = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
Seconds = Annotated[float, msgspec.Meta(gt=0, le=3600)]


class Goto(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    goto: ObjectiveId


OnFailure = Literal["continue", "end"] | Goto


class Objective(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: ObjectiveId
    say: Line | None = None
    """A line that asks nothing; an objective has ``say`` or ``primitive``, not both."""
    primitive: str | None = None
    slot: SlotName | None = None
    """Where the captured value goes; default: the objective's id."""
    prompt: Line | None = None
    reprompts: tuple[Line, ...] = ()
    give_up: Line = "no answer the primitive could read"
    max_attempts: Annotated[int, msgspec.Meta(ge=1, le=10)] = 3
    timeout_s: Seconds = 60.0
    """How long the objective may take in all (waiting for turns included)."""
    confirm: ConfirmPolicy = "when_uncertain"
    confirm_below: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.8
    confirm_prompt: Line | None = None
    """Default: the result's own ``readback`` and "is that right?" in the flow's language."""
    hint: Annotated[str, msgspec.Meta(max_length=500)] = ""
    """The recognizer's hint for spoken answers (``email``, ``phone``, ``date``,
    ``confirmation`` or free text); default: the primitive's."""
    on_failure: OnFailure = "continue"


class Flow(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.-]{1,128}(?!\n)$")]
    objectives: tuple[Objective, ...]
    language: Language = "en"
    voice: str = ""
    fallback: Line = "Sorry, something went wrong on our side. Goodbye."
    """Said when the voice core cannot be reached (a circuit open, the bridge down)."""
    on_unavailable: Literal["abandon", "wait"] = "abandon"
    """``wait``: keep the conversation open and retry the call until the objective's
    ``timeout_s`` instead of abandoning at once."""
