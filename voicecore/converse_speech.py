"""Speech for ``voicecore converse``: spoken prompts to files, replies as stored audio.

* ``--speak``: each prompt's synthesized audio (every part of it, in the ``VC_AUDIO``
  store) is written to ``<data-dir>/conversations/<id>/<n>-<objective>.wav``
  and its path shown on standard error (this machine may have no speaker).
* An audio reply (``--audio-dir``, a script's ``{audio: FILE}``) is decoded, stored in
  ``VC_AUDIO`` as 16 kHz mono WAV under ``<conversation>/<turn id>/0.wav`` and sent as the
  turn's ``audio``; the orchestrator transcribes it with the objective's hint.
* A scripted caller with ``--voice`` speaks its text replies: ``synthesize`` through the
  bridge, the parts joined into one WAV, stored like a file reply.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from core import audio
from core.audiostore import AudioStore, object_name
from core.bus import Bus
from core.errors import ConfigError, VoiceCoreError
from schemas import conversation as cv
from schemas.audio import AudioRef
from voicecore.converse_replies import Reply
from voicecore.options import Caller

RATE = 16_000


class SpeechIo:
    def __init__(self, bus: Bus, bridge: Caller, data_dir: Path, voice: str) -> None:
        self.store = AudioStore(bus)
        self.bridge = bridge
        self.data_dir = data_dir
        self.voice = voice
        self.played = 0

    async def play(self, prompt: cv.Prompt, parts: tuple[AudioRef, ...],
                   conversation_id: str) -> None:
        """Write the prompt's audio (all its parts, joined) to a WAV file."""
        try:
            pcm = [audio.decode(await self.store.get(part)) for part in parts]
        except VoiceCoreError as exc:
            print(f"voicecore: prompt audio unavailable: {exc}", file=sys.stderr)
            return
        self.played += 1
        folder = self.data_dir / "conversations" / conversation_id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.played:02d}-{prompt.objective}.wav"
        path.write_bytes(audio.encode(_joined(pcm), "wav"))
        print(f"voicecore: spoken: {path}", file=sys.stderr)

    async def reply_audio(self, reply: Reply, conversation_id: str,
                          turn_id: str) -> AudioRef | None:
        if reply.audio is not None:
            pcm = _decoded(reply.audio)
        elif reply.speak:
            pcm = await self._synthesized(reply.text, conversation_id)
        else:
            return None
        data = audio.encode(pcm, "wav")
        return await self.store.put(object_name(conversation_id, turn_id, 0, "wav"), data,
                                    format="wav", sample_rate=pcm.rate,
                                    duration_s=pcm.duration_s)

    async def _synthesized(self, text: str, conversation_id: str) -> audio.Pcm:
        from bridge.client import CoreError, VoiceCoreClient

        try:
            async with VoiceCoreClient(self.bridge.addr, token=self.bridge.token,
                                       tls=self.bridge.tls) as client:
                result = await client.execute("synthesize", {"text": text, "voice": self.voice},
                                              conversation_id=conversation_id,
                                              purpose="caller")
        except CoreError as exc:
            raise ConfigError(f"cannot speak a scripted reply: {exc}") from None
        if not result.success:
            raise ConfigError(f"cannot speak a scripted reply: {result.error_code}: "
                              f"{result.error_message}")
        return _joined([audio.decode(await self.store.get(_ref(c)), rate=RATE)
                        for c in result.data.get("chunks", [])])


def _joined(parts: list[audio.Pcm]) -> audio.Pcm:
    """The parts one after the other (at the first part's rate: one voice's parts share it)."""
    rate = parts[0].rate if parts else RATE
    samples = [p.samples if p.rate == rate else audio.resample(p, rate).samples for p in parts]
    return audio.Pcm(np.concatenate(samples) if samples else np.zeros(0, np.float32), rate)


def _ref(chunk: Any) -> AudioRef:
    import msgspec

    return msgspec.convert(chunk, AudioRef)


def _decoded(path: Path) -> audio.Pcm:
    try:
        return audio.decode(path, rate=RATE)
    except VoiceCoreError as exc:
        raise ConfigError(f"{path}: {exc}") from None
