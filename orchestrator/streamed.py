"""Re-running a ``transcribe_stream`` request (``voicecore replay --rerun``).

A recorded ``transcribe_stream.requested`` names a stream whose audio never was in the
request: its chunks are raw messages on ``vc.audio.<conversation>.<stream id>`` in
``VC_AUDIO_IN``, kept minutes. Re-publishing the request alone would have the worker wait
for chunks on the re-run's conversation and close it empty after its idle timeout. So
the chunks still there are read back, in order, and re-streamed on the re-run's
conversation (same stream id, same positions and final mark, all at once) just before
the fresh request: the worker hears the same utterance, and its final is compared with
the recorded one like any result. When they are gone (the stream's TTL, a redaction) or
incomplete, the request is not re-run and the report says why in one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from core import subjects
from core.audioin import AudioPiece, publish_chunk, stored_pieces
from core.bus import Bus

PRIMITIVE = "transcribe_stream"
REQUESTED = f"{PRIMITIVE}.requested"


@dataclass
class StreamedAudio:
    """The recorded streams' chunks by original request id, and the requests whose
    chunks are gone (request id → why, one line)."""

    pieces: dict[str, list[AudioPiece]] = field(default_factory=dict)
    gone: dict[str, str] = field(default_factory=dict)


async def recorded_streams(bus: Bus, requests: list[dict[str, Any]]) -> StreamedAudio:
    """The chunks of every ``transcribe_stream`` request among the logged ``requests``."""
    found = StreamedAudio()
    for request in requests:
        if request["type"] != REQUESTED:
            continue
        stream_id = _stream_id(request)
        pieces = await stored_pieces(bus, request["conversation_id"], stream_id)
        if [p.sequence for p in pieces] != list(range(len(pieces))) or not pieces:
            subject = subjects.audio_in_subject(request["conversation_id"], stream_id)
            found.gone[request["id"]] = (
                f"{REQUESTED} {request['id']}: its streamed audio ({subject}) is "
                f"{'incomplete' if pieces else 'gone'} in {subjects.AUDIO_IN_STREAM} (kept "
                "minutes; expired or redacted): not re-run")
        else:
            found.pieces[request["id"]] = pieces
    return found


async def restream(bus: Bus, request: dict[str, Any], pieces: list[AudioPiece],
                   conversation_id: str, trace_id: str) -> None:
    """Publish the recorded chunks as the same stream of ``conversation_id``."""
    stream_id = _stream_id(request)
    for piece in pieces:
        await publish_chunk(bus, conversation_id, stream_id, piece.sequence, piece.data,
                            final=piece.final, trace_id=trace_id)


def _stream_id(request: dict[str, Any]) -> str:
    data = msgspec.json.decode(request["data"])
    return str(data["params"]["stream_id"])
