"""core/audiostore.py on a real nats-server: AudioRefs, sha256 checks, TTL, erasure by
conversation, and each NATS identity's rights on the bucket."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import msgspec
import nats.errors
import nats.js.errors
import pytest
from nats.js import api as js_api

from core import audiostore, subjects
from core.audiostore import DEFAULT_AUDIO_TTL_S, AudioStore, object_name
from core.bus import Bus, ServerErrors, open_connection
from core.config import StreamLimits
from core.errors import (
    AudioUnavailable,
    BusUnavailable,
    InvalidConversationId,
    InvalidParams,
    translate_object,
)
from core.natsauth import NatsAuth, identity
from core.natsserver import EmbeddedNats
from schemas.audio import AudioRef
from tests.support import proc
from tests.test_up import up_args

BIG = bytes(range(256)) * 1200
"""307,200 bytes: three chunks of nats-py's 128 KiB."""
REFUSAL_WAIT_S = 30.0
"""How long to wait for the server's -ERR (it comes at once; the bound only ends a hang)."""


@pytest.fixture
async def store(bus: Bus) -> AudioStore:
    audio = AudioStore(bus)
    await audio.ensure()
    return audio


async def put(store: AudioStore, name: str, data: bytes) -> AudioRef:
    return await store.put(name, data, format="wav", sample_rate=16000, duration_s=1.25)


async def chunks_subject(bus: Bus, name: str) -> str:
    """The subject of the object's chunks, from its metadata."""
    meta = await bus.js.get_last_msg(subjects.AUDIO_STREAM,
                                     subjects.object_meta_subject("VC_AUDIO", name))
    return subjects.object_chunks_subject("VC_AUDIO", json.loads(meta.data or b"")["nuid"])


async def stored_subjects(bus: Bus) -> dict[str, int]:
    info = await bus.js.stream_info(subjects.AUDIO_STREAM, subjects_filter="$O.>")
    return dict(info.state.subjects or {})


def test_object_names_are_conversation_request_part() -> None:
    assert object_name("c42", "01JREQ", 3, "mp3") == "c42/01JREQ/3.mp3"
    assert object_name("c42", "r-1", 0, "pcm_s16le") == "c42/r-1/0.pcm"
    with pytest.raises(InvalidConversationId):
        object_name("c/42", "r", 0, "wav")
    for request_id in ("../x", "a/b", "", "a.b"):
        with pytest.raises(InvalidParams, match="request id"):
            object_name("c42", request_id, 0, "wav")
    with pytest.raises(InvalidParams, match="unknown audio format"):
        object_name("c42", "r", 0, "exe")


async def test_put_returns_a_reference_and_get_returns_the_bytes(store: AudioStore,
                                                                 bus: Bus) -> None:
    ref = await put(store, "c1/r1/0.wav", BIG)
    assert ref == AudioRef(bucket="VC_AUDIO", name="c1/r1/0.wav", size=len(BIG),
                           sha256=hashlib.sha256(BIG).hexdigest(), format="wav",
                           sample_rate=16000, duration_s=1.25, channels=1)
    assert await store.get(ref) == BIG
    # A plain object store object: nats-py (and the nats CLI) read it as well.
    plain = await bus.js.object_store("VC_AUDIO")
    assert (await plain.get("c1/r1/0.wav")).data == BIG
    empty = await put(store, "c1/r1/1.wav", b"")
    assert await store.get(empty) == b""


async def test_a_long_object_is_written_a_window_of_chunks_at_a_time(
        store: AudioStore, bus: Bus, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audiostore, "IN_FLIGHT", 2)  # BIG's three chunks: two windows
    ref = await put(store, "c1/r1/0.wav", BIG)
    assert await store.get(ref) == BIG
    assert (await (await bus.js.object_store("VC_AUDIO")).get("c1/r1/0.wav")).data == BIG
    assert (await stored_subjects(bus))[await chunks_subject(bus, ref.name)] == 3


async def test_the_same_bytes_under_the_same_name_are_stored_once(store: AudioStore,
                                                                  bus: Bus) -> None:
    first = await put(store, "c1/r1/0.wav", BIG)
    before = await stored_subjects(bus)
    assert await put(store, "c1/r1/0.wav", BIG) == first  # e.g. a redelivered request
    assert await stored_subjects(bus) == before
    replaced = await put(store, "c1/r1/0.wav", b"other bytes")
    assert await store.get(replaced) == b"other bytes"


async def test_a_replaced_object_leaves_only_its_new_chunks(store: AudioStore,
                                                             bus: Bus) -> None:
    await put(store, "c1/r1/0.wav", BIG)
    await put(store, "c1/r1/0.wav", b"other bytes")
    meta = subjects.object_meta_subject("VC_AUDIO", "c1/r1/0.wav")
    assert await stored_subjects(bus) == {meta: 1, await chunks_subject(bus, "c1/r1/0.wav"): 1}


async def test_a_bucket_without_direct_gets_is_read_through_the_api(store: AudioStore,
                                                                    bus: Bus) -> None:
    """Direct gets are the fast path; a stream that does not answer them (a bucket made
    elsewhere without ``allow_direct``) is read from its leader instead."""
    ref = await put(store, "c1/r1/0.wav", BIG)
    info = await bus.js.stream_info(subjects.AUDIO_STREAM)
    assert info.config.allow_direct
    await bus.js.update_stream(info.config.evolve(allow_direct=False))
    with pytest.raises(nats.errors.NoRespondersError):
        await bus.js.get_last_msg(subjects.AUDIO_STREAM,
                                  subjects.object_meta_subject("VC_AUDIO", ref.name), direct=True)
    assert await store.get(ref) == BIG


async def test_a_replaced_object_fails_the_old_reference(store: AudioStore) -> None:
    ref = await put(store, "c1/r1/0.wav", BIG)
    await put(store, "c1/r1/0.wav", BIG[:-1] + b"!")  # same size, other bytes
    with pytest.raises(AudioUnavailable, match="does not match its reference's size and "
                       "sha256") as raised:
        await store.get(ref)
    assert raised.value.code == "AUDIO_UNAVAILABLE"


async def test_a_tampered_chunk_fails_the_sha256(store: AudioStore, bus: Bus) -> None:
    """Bytes written straight onto the object's chunk subject (no metadata change)."""
    ref = await put(store, "c1/r1/0.wav", b"x" * 1000)
    chunks = await chunks_subject(bus, ref.name)
    await bus.js.purge_stream(subjects.AUDIO_STREAM, subject=chunks)
    await bus.js.publish(chunks, b"y" * 1000)
    with pytest.raises(AudioUnavailable, match="does not match its reference's"):
        await store.get(ref)


async def test_a_missing_object_or_chunk_is_unavailable(store: AudioStore, bus: Bus) -> None:
    ref = await put(store, "c1/r1/0.wav", BIG)
    with pytest.raises(AudioUnavailable, match=r"^audio object VC_AUDIO/c1/r1/9\.wav is gone"):
        await store.get(msgspec.structs.replace(ref, name="c1/r1/9.wav"))
    await bus.js.purge_stream(subjects.AUDIO_STREAM, subject=await chunks_subject(bus, ref.name))
    with pytest.raises(AudioUnavailable, match="is incomplete: chunk 1 of 3 is gone"):
        await store.get(ref)
    await (await bus.js.object_store("VC_AUDIO")).delete("c1/r1/0.wav")
    with pytest.raises(AudioUnavailable, match="is gone"):
        await store.get(ref)


async def test_a_reference_reads_only_the_audio_bucket(store: AudioStore, bus: Bus) -> None:
    """A reference is data (an event's): its bucket cannot point the reader elsewhere."""
    ref = await put(store, "c1/r1/0.wav", b"abc")
    await bus.js.create_object_store("OTHER")
    for bucket in ("OTHER", "bad.name>", "x\ny"):
        elsewhere = msgspec.structs.replace(ref, bucket=bucket)
        with pytest.raises(AudioUnavailable, match=r"is not in the audio bucket VC_AUDIO$"):
            await store.get(elsewhere)
    with pytest.raises(AudioUnavailable, match=r"^audio object x\\ny/c1/r1/0\.wav is not"):
        await store.get(msgspec.structs.replace(ref, bucket="x\ny"))


async def test_unreadable_metadata_is_unavailable(store: AudioStore, bus: Bus) -> None:
    ref = await put(store, "c1/r1/0.wav", b"abc")
    await bus.js.publish(subjects.object_meta_subject("VC_AUDIO", ref.name), b"{not json")
    with pytest.raises(AudioUnavailable, match="has unreadable metadata"):
        await store.get(ref)


async def test_without_the_bucket_audio_is_unavailable(bus: Bus) -> None:
    ref = AudioRef(bucket="VC_AUDIO", name="c/r/0.wav", size=1, sha256="0" * 64,
                   format="wav", sample_rate=8000, duration_s=0.1)
    message = r"^no audio bucket VC_AUDIO \(stream OBJ_VC_AUDIO\): `voicecore up` creates it$"
    with pytest.raises(AudioUnavailable, match=message):
        await AudioStore(bus).get(ref)
    with pytest.raises(AudioUnavailable, match=message):
        await put(AudioStore(bus), "c/r/0.wav", b"abc")
    assert await AudioStore(bus).delete_conversation("c") == 0


async def test_the_bucket_has_file_storage_and_its_own_ttl(bus: Bus) -> None:
    store = AudioStore(bus)
    await store.ensure()
    config = (await bus.js.stream_info(subjects.AUDIO_STREAM)).config
    assert config.max_age == DEFAULT_AUDIO_TTL_S == 7 * 24 * 3600
    assert config.storage == js_api.StorageType.FILE
    assert config.max_age != StreamLimits().dlq_max_age_s
    await store.ensure(ttl_s=3600, update=False)  # another identity: create only
    assert (await bus.js.stream_info(subjects.AUDIO_STREAM)).config.max_age == 7 * 24 * 3600
    await store.ensure(ttl_s=3600)
    assert (await bus.js.stream_info(subjects.AUDIO_STREAM)).config.max_age == 3600


async def test_delete_conversation_erases_only_that_conversations_objects(
        store: AudioStore, bus: Bus) -> None:
    gone = [await put(store, "c1/r1/0.wav", BIG), await put(store, "c1/r2/0.mp3", b"mp3")]
    kept = [await put(store, "c10/r1/0.wav", b"ten"), await put(store, "c1-b/r1/0.wav", b"b"),
            await put(store, "c2/r1/0.wav", BIG)]
    assert await store.delete_conversation("c1") == 2
    for ref in gone:
        with pytest.raises(AudioUnavailable, match="is gone"):
            await store.get(ref)
    for ref in kept:
        assert len(await store.get(ref)) == ref.size
    left = await stored_subjects(bus)
    metas = {subjects.object_name_of(s) for s in left if ".M." in s}
    assert metas == {ref.name for ref in kept}  # no delete marker names c1's objects
    state = (await bus.js.stream_info(subjects.AUDIO_STREAM)).state
    assert state.messages == sum(left.values()) == (1 + 1) + (1 + 1) + (3 + 1)  # chunks, meta
    assert await store.delete_conversation("c1") == 0


# Each identity's rights on the bucket (core/natsperms.py), against the generated config.

@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[EmbeddedNats]:
    started = EmbeddedNats(tmp_path, port=-1, primitives=["capture_email"])
    await started.start()
    admin = await Bus.connect(started.url, auth=started.identity("admin"))
    await AudioStore(admin).ensure()
    await put(AudioStore(admin), "c1/r0/0.wav", BIG)
    await admin.drain()
    yield started
    await started.stop()


async def connect_as(server: EmbeddedNats, role: str) -> tuple[AudioStore, ServerErrors]:
    errors = ServerErrors(logging.getLogger(__name__), quiet=True)
    nc = await open_connection(server.url, server.identity(role), errors, name=f"test-{role}")
    return AudioStore(Bus(nc)), errors


async def refused(errors: ServerErrors, action: Callable[[], Awaitable[object]],
                  subject: str) -> None:
    """``action`` is stopped by the server refusing a publish to ``subject`` (its -ERR).

    A refusal that names another subject is waited past: an earlier action's second publish
    (an object's metadata after its chunks) may be refused after that action was stopped,
    and its late -ERR is not this action's (a full run once failed on exactly that)."""
    wanted = f'publish to "{subject}'.lower()
    errors.denied.clear()
    task = asyncio.ensure_future(action())
    try:
        async with asyncio.timeout(REFUSAL_WAIT_S):
            while not (errors.denied.is_set() and wanted in str(errors.last).lower()):
                errors.denied.clear()  # no await since the check: nothing arrived between
                await errors.denied.wait()
    except TimeoutError:
        raise AssertionError(f"not refused for {subject}: last error {errors.last}") from None
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.mark.parametrize("role", ["worker", "bridge", "cli", "sink", "admin"])
async def test_every_identity_reads_audio(server: EmbeddedNats, role: str) -> None:
    store, _ = await connect_as(server, role)
    admin, _ = await connect_as(server, "admin")
    try:
        ref = await put(admin, "c1/r1/0.wav", BIG)
        assert await store.get(ref) == BIG
    finally:
        await store.bus.nc.close()
        await admin.bus.nc.close()


async def test_the_worker_writes_audio_but_cannot_erase_it(server: EmbeddedNats) -> None:
    store, errors = await connect_as(server, "worker")
    try:
        ref = await put(store, "c1/r1/0.wav", BIG)
        assert await store.get(ref) == BIG
        replaced = await put(store, "c1/r1/0.wav", b"replaced")  # purges the old chunks
        assert await store.get(replaced) == b"replaced"
        await refused(errors, lambda: store.delete_conversation("c1"),
                      f"$JS.API.CONSUMER.CREATE.{subjects.AUDIO_STREAM}")
        await refused(errors, lambda: store.ensure(ttl_s=60), "$JS.API.STREAM.UPDATE.")
    finally:
        await store.bus.nc.close()


async def test_the_cli_cannot_write_or_erase_audio(server: EmbeddedNats) -> None:
    store, errors = await connect_as(server, "cli")
    try:
        # its chunks and its metadata go out together: either refusal may come first
        await refused(errors, lambda: put(store, "c1/r1/0.wav", b"forged"), "$O.VC_AUDIO.")
        await refused(errors, lambda: store.delete_conversation("c1"),
                      f"$JS.API.CONSUMER.CREATE.{subjects.AUDIO_STREAM}")
    finally:
        await store.bus.nc.close()


async def test_the_bridge_stores_audio_to_transcribe_but_cannot_erase_it(
        server: EmbeddedNats) -> None:
    store, errors = await connect_as(server, "bridge")
    try:
        ref = await put(store, "c1/r1/0.wav", BIG)
        assert await store.get(ref) == BIG
        await refused(errors, lambda: store.delete_conversation("c1"),
                      f"$JS.API.CONSUMER.CREATE.{subjects.AUDIO_STREAM}")
        await refused(errors, lambda: store.ensure(ttl_s=60), "$JS.API.STREAM.UPDATE.")
    finally:
        await store.bus.nc.close()


@pytest.mark.parametrize("role", ["sink", "admin"])
async def test_the_sink_and_the_admin_erase_a_conversations_audio(
        server: EmbeddedNats, role: str) -> None:
    store, errors = await connect_as(server, role)
    try:
        assert await store.delete_conversation("c1") == 1
        assert not errors.denied.is_set()
    finally:
        await store.bus.nc.close()


async def test_up_creates_the_bucket_with_its_ttl_and_the_worker_writes_to_it(
        tmp_path: Path) -> None:
    """`voicecore up --audio-ttl`: the bucket, as the admin created it; its worker identity
    stores audio that its read-only cli identity reads back."""
    port = proc.free_port()
    url = f"nats://127.0.0.1:{port}"
    with proc.started(*up_args(tmp_path, port), "--audio-ttl", "3600") as (up, _):
        admin = await Bus.connect(url, auth=proc.admin(tmp_path))
        worker = await Bus.connect(url, auth=identity("worker", NatsAuth(), tmp_path))
        cli = await Bus.connect(url, auth=identity("cli", NatsAuth(), tmp_path))
        try:
            config = (await admin.js.stream_info(subjects.AUDIO_STREAM)).config
            assert (config.max_age, config.storage) == (3600, js_api.StorageType.FILE)
            ref = await put(AudioStore(worker), "up-1/r1/0.wav", BIG)
            assert await AudioStore(cli).get(ref) == BIG
        finally:
            for bus in (admin, worker, cli):
                await bus.drain()
        assert proc.stop(up).returncode == 0


def test_object_store_errors_are_mapped_in_one_place() -> None:
    what = "audio object VC_AUDIO/c/r/0.wav"
    for gone in (nats.js.errors.ObjectNotFoundError(), nats.js.errors.BucketNotFoundError(),
                 nats.js.errors.ObjectDeletedError()):
        mapped = translate_object(gone, what)
        assert isinstance(mapped, AudioUnavailable)
        assert str(mapped) == f"{what} is gone (expired, deleted or redacted)"
    assert str(translate_object(nats.js.errors.DigestMismatchError(), what)) == (
        f"{what} does not match its digest")
    assert isinstance(translate_object(nats.errors.TimeoutError(), what), BusUnavailable)
