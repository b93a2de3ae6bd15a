"""Erasing a redacted conversation's copies from JetStream (issue 9, item 6).

After ``voicecore log redact`` the conversation's values must not survive anywhere the
system controls. On NATS they are in four streams:

* ``VC_EVENTS``: its messages on ``vc.ev.<conversation>.>`` (those the log holds; later
  ones are not logged yet, and a redaction must not lose them);
* ``VC_DLQ``: dead-lettered copies, kept 30 days, found by their ``Vc-Dlq-Subject``
  header (the subject they had in ``VC_EVENTS``, as the log files them);
* ``VC_REPLAY``: ``voicecore replay --to-stream`` copies on ``vc.replay.<conversation>.>``;
* ``VC_AUDIO_IN``: its streamed audio (``transcribe_stream``'s chunks, raw speech, kept
  minutes) on ``vc.audio.<conversation>.>``, every stream of it.

Each is **erased**, not purged: ``$JS.API.STREAM.MSG.DELETE`` with ``no_erase: false``
makes nats-server overwrite the message's bytes in its block file with random data
(JetStream's secure delete), where a purge or a plain delete only marks it removed and
leaves the bytes on disk until the block is compacted. The request is written out here
rather than through nats-py's ``delete_msg``, so the erase is explicit on the wire.

Stored audio (issue 10) is the fourth copy: the conversation's objects in the object
store ``VC_AUDIO`` (stream ``OBJ_VC_AUDIO``), named ``<conversation>/…``. Their chunks and
metadata are messages too, erased the same way, metadata included, so no delete marker
is left naming them (:meth:`core.audiostore.AudioStore.delete_conversation`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from nats.js.errors import NotFoundError

from core import subjects
from core.audiostore import AudioStore
from core.bus import Bus
from core.pullstatus import delivered
from core.stored import erase_message, stored_messages

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Copies:
    """Where one conversation's messages are in one stream."""

    stream: str
    filter_subject: str
    belongs: Callable[[dict[str, str]], bool] = lambda headers: True
    """Whether a message (by its headers) is the conversation's."""
    up_to_seq: int | None = None
    """Only messages at or below this stream sequence."""


def copies_of(conversation_id: str, logged_up_to: int) -> list[Copies]:
    """Every stream copy of ``conversation_id`` the system controls."""
    own_subject = subjects.conversation_filter(conversation_id).removesuffix(">")  # vc.ev.<id>.

    def dead_lettered(headers: dict[str, str]) -> bool:
        return headers.get(subjects.HEADER_DLQ_SUBJECT, "").startswith(own_subject)

    return [
        Copies(subjects.EVENTS_STREAM, subjects.conversation_filter(conversation_id),
               up_to_seq=logged_up_to),
        Copies(subjects.DLQ_STREAM, f"{subjects.DLQ_PREFIX}.>", dead_lettered),
        Copies(subjects.REPLAY_STREAM, subjects.replay_subject(conversation_id, ">")),
        Copies(subjects.AUDIO_IN_STREAM, subjects.audio_in_filter(conversation_id)),
    ]


async def erase_conversation(bus: Bus, conversation_id: str, logged_up_to: int
                             ) -> dict[str, int]:
    """Erase (overwrite) every stream copy of the conversation; messages erased per stream,
    and objects erased from the audio bucket (under its name, ``VC_AUDIO``).

    Raises :class:`~core.errors.BusError` when NATS refuses; what was erased stays erased.
    """
    erased = {}
    for copies in copies_of(conversation_id, logged_up_to):
        sequences = await _sequences(bus, copies)
        for seq in sequences:
            await erase_message(bus, copies.stream, seq)
        erased[copies.stream] = len(sequences)
    audio = AudioStore(bus)
    erased[audio.bucket] = await audio.delete_conversation(conversation_id)
    return erased


async def _sequences(bus: Bus, copies: Copies) -> list[int]:
    """Stream sequences of the conversation's messages, read as headers only."""
    try:
        info = await bus.js.stream_info(copies.stream, subjects_filter=copies.filter_subject)
    except NotFoundError:
        return []  # e.g. VC_REPLAY before any --to-stream
    if not info.state.subjects:
        return []
    found: list[int] = []
    async for msg in stored_messages(bus, copies.stream, copies.filter_subject,
                                     headers_only=True):
        seq = delivered(msg.reply).stream_sequence
        if copies.up_to_seq is not None and seq > copies.up_to_seq:
            break
        if copies.belongs(dict(msg.headers or {})):
            found.append(seq)
    return found
