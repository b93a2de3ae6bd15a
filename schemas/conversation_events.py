"""The orchestrator's events (layer 2): members of the one union, payloads in
:mod:`schemas.conversation`. Their sources (``conversation``, ``objective``, ``prompt``,
``turn``) are not primitives: :mod:`orchestrator.state` folds them as the conversation's
course, never as primitive requests or results (whose kinds some of them share)."""

from __future__ import annotations

from schemas.conversation import (
    Abandonment,
    ConversationRequest,
    ConversationResult,
    ConversationStart,
    HangUp,
    ObjectiveFailure,
    ObjectiveResult,
    ObjectiveStart,
    Prompt,
    Turn,
)
from schemas.envelope import Event, type_of


class ConversationRequested(Event, frozen=True, kw_only=True, tag="conversation.requested"):
    """Drive this conversation with this flow (published by the caller's side)."""

    data: ConversationRequest


class ConversationStarted(Event, frozen=True, kw_only=True, tag="conversation.started"):
    data: ConversationStart


class ObjectiveStarted(Event, frozen=True, kw_only=True, tag="objective.started"):
    data: ObjectiveStart


class PromptSpoken(Event, frozen=True, kw_only=True, tag="prompt.spoken"):
    data: Prompt


class TurnReceived(Event, frozen=True, kw_only=True, tag="turn.received"):
    """A caller's turn (published by the caller's side); answers a ``prompt.spoken``."""

    data: Turn


class ConversationHungUp(Event, frozen=True, kw_only=True, tag="conversation.hung_up"):
    """The caller hung up (published by the caller's side): the conversation is abandoned.
    Its own type, not a kind of turn: it answers no prompt, may come at any moment (before
    the conversation started, during a primitive call), and the caller's NATS identity may
    publish it while the orchestrator's may not."""

    data: HangUp


class ObjectiveCompleted(Event, frozen=True, kw_only=True, tag="objective.completed"):
    data: ObjectiveResult


class ObjectiveFailed(Event, frozen=True, kw_only=True, tag="objective.failed"):
    data: ObjectiveFailure


class ConversationCompleted(Event, frozen=True, kw_only=True, tag="conversation.completed"):
    data: ConversationResult


class ConversationAbandoned(Event, frozen=True, kw_only=True, tag="conversation.abandoned"):
    data: Abandonment


CONVERSATION_EVENTS: tuple[type[Event], ...] = (
    ConversationRequested,
    ConversationStarted,
    ObjectiveStarted,
    PromptSpoken,
    TurnReceived,
    ObjectiveCompleted,
    ObjectiveFailed,
    ConversationCompleted,
    ConversationAbandoned,
    ConversationHungUp,
)
CONVERSATION_SOURCES = frozenset(type_of(c).split(".")[0] for c in CONVERSATION_EVENTS)
"""``conversation``, ``objective``, ``prompt``, ``turn``: the orchestrator's, not primitives'."""
