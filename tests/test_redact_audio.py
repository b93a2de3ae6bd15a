"""`voicecore log redact` erases the conversation's stored audio too (issue 10, item 2): a
real `voicecore up`, audio objects stored by its worker identity in two conversations;
after the redaction the secret conversation's objects are gone (no delete marker names
them) and, once `up` stopped, no file of the data directory holds their bytes, while the
other conversation's audio is all there. The same for streamed audio (issue 11): the
chunks the bridge identity published to VC_AUDIO_IN for either conversation."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from core import subjects
from core.audioin import publish_chunk
from core.audiostore import AudioStore, object_name
from core.bus import Bus
from core.errors import AudioUnavailable
from core.natsauth import NatsAuth, identity
from schemas.audio import AudioRef
from tests.support import proc
from tests.test_redact_no_copy import (
    CONVERSATION,
    KEPT,
    KEPT_TEXT,
    TRANSCRIPT,
    capture_in,
    files_holding,
    sink_caught_up,
    wait_until,
)
from tests.test_up import up_args

SECRET_AUDIO, KEPT_AUDIO = b"aardwolf-audio-bytes", b"pangolin-audio-bytes"
SECRET_STREAMED, KEPT_STREAMED = b"okapi-streamed-pcm", b"quokka-streamed-pcm"


def audio(mark: bytes) -> bytes:
    """Over two chunks of the object store (128 KiB each), the mark in every one."""
    return (mark + bytes(1000)) * 300


async def store_audio(url: str, data: Path) -> dict[str, list[AudioRef]]:
    """Both conversations in the log (a capture each), then their audio, as the worker
    stores it; the secret conversation's first, so the block files go on holding the
    kept ones after it."""
    admin = await Bus.connect(url, auth=proc.admin(data))
    worker = await Bus.connect(url, auth=identity("worker", NatsAuth(), data))
    try:
        for conversation_id, transcript in ((CONVERSATION, TRANSCRIPT), (KEPT, KEPT_TEXT)):
            await capture_in(admin, conversation_id, transcript)
        await wait_until(lambda: sink_caught_up(admin))
        refs: dict[str, list[AudioRef]] = {}
        for conversation_id, mark in ((CONVERSATION, SECRET_AUDIO), (KEPT, KEPT_AUDIO)):
            refs[conversation_id] = [await AudioStore(worker).put(
                object_name(conversation_id, "req1", part, "wav"), audio(mark), format="wav",
                sample_rate=16000, duration_s=1.0) for part in (0, 1)]
        return refs
    finally:
        await worker.drain()
        await admin.drain()


async def stream_audio(url: str, data: Path) -> None:
    """Two streams of chunks per conversation, as the bridge publishes them."""
    bridge = await Bus.connect(url, auth=identity("bridge", NatsAuth(), data))
    try:
        for conversation_id, mark in ((CONVERSATION, SECRET_STREAMED), (KEPT, KEPT_STREAMED)):
            for stream_id in ("s1", "s2"):
                for seq in range(3):
                    await publish_chunk(bridge, conversation_id, stream_id, seq,
                                        mark + bytes(2000), final=seq == 2, trace_id="t")
    finally:
        await bridge.drain()


async def streamed_subjects(url: str, data: Path) -> dict[str, int]:
    admin = await Bus.connect(url, auth=proc.admin(data))
    try:
        info = await admin.js.stream_info(subjects.AUDIO_IN_STREAM, subjects_filter=">")
        return dict(info.state.subjects or {})
    finally:
        await admin.drain()


async def readable(url: str, data: Path, refs: list[AudioRef]) -> list[bool]:
    cli = await Bus.connect(url, auth=identity("cli", NatsAuth(), data))
    try:
        return [await _readable(AudioStore(cli), ref) for ref in refs]
    finally:
        await cli.drain()


async def _readable(store: AudioStore, ref: AudioRef) -> bool:
    try:
        return await store.get(ref) == audio(KEPT_AUDIO)
    except AudioUnavailable:
        return False


async def metadata_names(url: str, data: Path) -> set[str | None]:
    admin = await Bus.connect(url, auth=proc.admin(data))
    try:
        info = await admin.js.stream_info(subjects.AUDIO_STREAM,
                                          subjects_filter=subjects.object_metas("VC_AUDIO"))
        return {subjects.object_name_of(s) for s in info.state.subjects or {}}
    finally:
        await admin.drain()


@pytest.mark.timeout(300)
def test_redact_erases_the_conversations_audio_objects(tmp_path: Path) -> None:
    data, port = tmp_path / "data", proc.free_port()
    url = f"nats://127.0.0.1:{port}"
    env = {"VOICECORE_DATA_DIR": str(data), "VOICECORE_NATS_URL": url}
    with proc.started(*up_args(data, port)) as (up, _):
        refs = asyncio.run(store_audio(url, data))
        asyncio.run(stream_audio(url, data))
        # the test finds them when they are there
        assert files_holding(data, (SECRET_AUDIO,)) and files_holding(data, (SECRET_STREAMED,))
        redacted = proc.run("log", "redact", CONVERSATION, "--json", env=env)
        assert redacted.returncode == 0, redacted.stderr
        erased = json.loads(redacted.stdout)["stream_erased"]
        assert (erased["VC_AUDIO"], erased["VC_AUDIO_IN"]) == (2, 6)
        assert asyncio.run(streamed_subjects(url, data)) == {
            f"vc.audio.{KEPT}.s1": 3, f"vc.audio.{KEPT}.s2": 3}
        assert asyncio.run(readable(url, data, refs[CONVERSATION])) == [False, False]
        assert asyncio.run(readable(url, data, refs[KEPT])) == [True, True]
        assert asyncio.run(metadata_names(url, data)) == {ref.name for ref in refs[KEPT]}
        stopped = proc.stop(up)
    assert stopped.returncode == 0, stopped.stderr
    assert files_holding(data, (SECRET_AUDIO, SECRET_STREAMED)) == []
    assert files_holding(data, (KEPT_AUDIO,)) and files_holding(data, (KEPT_STREAMED,))
