"""Audio on the bus: the JetStream object store ``VC_AUDIO``; events carry an AudioRef.

An object is ``<conversation_id>/<request_id>/<part>.<ext>`` (:func:`object_name`), so a
conversation's audio is found by name and erased with it. The bucket keeps objects for a
TTL of its own (``voicecore up --audio-ttl``, default 7 days), in file storage.

* :meth:`AudioStore.put` stores as nats-py's object store does (chunks, then the
  metadata, in one round trip), so ``nats object get VC_AUDIO <name>`` reads it too. A
  name already holding the same bytes is not written again (a redelivered request stores
  nothing twice).
* :meth:`AudioStore.get` reads the metadata and then each chunk with a plain message get
  (direct gets first, then the API's), bounded by the chunk count the metadata declares:
  reading needs no consumer (the bridge's and the CLI's identities may only read), and a
  chunk that is missing is an error at once rather than a wait. The bytes must match the
  reference's sha256.
* :meth:`AudioStore.delete_conversation` *erases* (secure delete, core/stored.py) every
  message of the conversation's objects, metadata included: no delete marker is left
  naming them, and nats-server overwrites their bytes on disk.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from nats.js import api as js_api
from nats.js.errors import NotFoundError
from nats.js.object_store import OBJ_DEFAULT_CHUNK_SIZE
from nats.nuid import NUID

from core import subjects
from core.bus import Bus
from core.config import StreamLimits
from core.errors import AudioUnavailable, InvalidParams, nats_errors, object_errors
from core.stored import erase_subject, stored_messages
from core.text import cut, escape_controls
from schemas.audio import AudioFormat, AudioRef
from schemas.events import CONVERSATION_ID_PATTERN

DEFAULT_AUDIO_TTL_S = StreamLimits().audio_ttl_s
EXTENSIONS: dict[str, str] = {"wav": "wav", "mp3": "mp3", "ogg": "ogg", "flac": "flac",
                              "webm": "webm", "pcm_s16le": "pcm"}
"""The file extension of each audio format in object names."""
IN_FLIGHT = 8
"""Chunks published before their acks are awaited (1 MiB): a 25 MiB upload is not 200
publishes racing one 5 s ack timeout each."""
ROLLUP_SUBJECT = "sub"
"""``Nats-Rollup: sub``: a new metadata message replaces the subject's older ones."""
CHUNK_SIZE = OBJ_DEFAULT_CHUNK_SIZE
"""Bytes per chunk message (nats-py's and the nats CLI's default: 128 KiB)."""
STREAM_NOT_FOUND = 10059
"""JetStream's error code for a stream that does not exist."""
_NUIDS = NUID()
"""Each written object's chunks go on a subject of their own (a fresh nuid, as nats-py)."""
_REQUEST_ID = re.compile(CONVERSATION_ID_PATTERN)
"""A request id is one name token too (an event id: a UUID)."""


def object_name(conversation_id: str, request_id: str, part: int, fmt: str) -> str:
    """``<conversation_id>/<request_id>/<part>.<ext>``: the name of one stored part."""
    subjects.check_conversation_id(conversation_id)
    if not _REQUEST_ID.match(request_id):
        raise InvalidParams(f"request id {subjects.preview(request_id)} is not a name token")
    if part < 0:
        raise InvalidParams(f"part {part} is negative")
    if fmt not in EXTENSIONS:
        raise InvalidParams(f"unknown audio format {subjects.preview(fmt)}")
    return f"{conversation_id}/{request_id}/{part}.{EXTENSIONS[fmt]}"


def reference(name: str, data: bytes, *, format: AudioFormat, sample_rate: int,
              duration_s: float, channels: int = 1,
              bucket: str = subjects.AUDIO_BUCKET) -> AudioRef:
    """The reference :meth:`AudioStore.put` answers for ``data`` stored as ``name``: known
    before it is stored, so a request that names it can be checked first."""
    return AudioRef(bucket=bucket, name=name, size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(), format=format,
                    sample_rate=sample_rate, duration_s=round(duration_s, 6), channels=channels)


@dataclass(frozen=True)
class _Stored:
    """One object as its metadata describes it."""

    name: str
    nuid: str
    chunks: int
    size: int
    digest: str
    deleted: bool = False


class AudioStore:
    """The ``VC_AUDIO`` bucket (or ``bucket``) on ``bus``."""

    def __init__(self, bus: Bus, bucket: str = subjects.AUDIO_BUCKET) -> None:
        self.bus = bus
        self.bucket = bucket
        self.stream = subjects.object_stream(bucket)

    async def ensure(self, ttl_s: float = DEFAULT_AUDIO_TTL_S, *, update: bool = True) -> None:
        """Create the bucket (file storage, objects kept ``ttl_s``), or set its TTL when it
        exists and ``update`` (the admin's right)."""
        with nats_errors():
            try:
                info = await self.bus.js.stream_info(self.stream)
            except NotFoundError:
                await self.bus.js.create_object_store(self.bucket, js_api.ObjectStoreConfig(
                    description="voicecore audio: <conversation>/<request>/<part>.<ext>",
                    ttl=ttl_s, storage=js_api.StorageType.FILE))
                return
            if update and info.config.max_age != ttl_s:
                await self.bus.js.update_stream(info.config.evolve(max_age=ttl_s))

    async def put(self, name: str, data: bytes, *, format: AudioFormat, sample_rate: int,
                  duration_s: float, channels: int = 1) -> AudioRef:
        """Store ``data`` as ``name``; the reference events carry."""
        ref = reference(name, data, format=format, sample_rate=sample_rate,
                        duration_s=duration_s, channels=channels, bucket=self.bucket)
        digest = _nats_digest(bytes.fromhex(ref.sha256))
        with nats_errors():
            stored = await self._stored(name)
            if stored is None or stored.digest != digest or stored.size != len(data):
                await self._write(name, data, digest, f"{format} {sample_rate} Hz")
                if stored is not None and stored.nuid:  # the bytes it held before
                    old = subjects.object_chunks_subject(self.bucket, stored.nuid)
                    await self.bus.js.purge_stream(self.stream, subject=old)
        return ref

    async def _write(self, name: str, data: bytes, digest: str, description: str) -> None:
        """The object as nats-py's and the nats CLI's object store write it (chunks on a new
        nuid's subject, then the metadata rolling its subject up), in one round trip up to
        :data:`IN_FLIGHT` chunks: the publishes go out in order on one connection and their
        acks are awaited together, where nats-py awaits each (and first reads the metadata
        again). On a failure the new chunks are purged; a metadata stored without them names
        an incomplete object, which :meth:`get` refuses, and the failed attempt's retry
        replaces it."""
        nuid = _NUIDS.next().decode()
        chunks = subjects.object_chunks_subject(self.bucket, nuid)
        size = CHUNK_SIZE
        parts = [data[at:at + size] for at in range(0, len(data), size)]
        info = js_api.ObjectInfo(
            name=name, bucket=self.bucket, nuid=nuid, size=len(data), chunks=len(parts),
            digest=digest, description=description,
            mtime=datetime.now(UTC).isoformat(),
            options=js_api.ObjectMetaOptions(max_chunk_size=size))
        meta = json.dumps(info.as_dict()).encode()
        rollup = {js_api.Header.ROLLUP.value: ROLLUP_SUBJECT}
        try:
            windows = [parts[at:at + IN_FLIGHT] for at in range(0, len(parts), IN_FLIGHT)]
            *before, last = windows or [[]]
            for window in before:  # a long object: its acks awaited a window at a time
                await asyncio.gather(*(self.bus.publish_raw(chunks, part, {})
                                       for part in window))
            await asyncio.gather(
                *(self.bus.publish_raw(chunks, part, {}) for part in last),
                self.bus.publish_raw(subjects.object_meta_subject(self.bucket, name), meta,
                                     rollup))
        except Exception:
            with contextlib.suppress(Exception):  # best effort: the error says what failed
                await self.bus.js.purge_stream(self.stream, subject=chunks)
            raise

    async def get(self, ref: AudioRef) -> bytes:
        """The bytes ``ref`` names, checked against its size and sha256.

        Read first with direct gets (raw bytes, ~4 times faster than the JetStream API's
        base64 in JSON for a 100 KB part), which any replica may answer; whatever such a
        read misses or gets wrong (a replica not yet up to date, a bucket without direct
        gets) is read again from the stream's leader through the API, whose answer stands.
        Raises :class:`~core.errors.AudioUnavailable` when the object is gone (TTL,
        redaction), incomplete or not the bytes the reference describes."""
        what = f"audio object {cut(escape_controls(f'{ref.bucket}/{ref.name}'), 200)}"
        if ref.bucket != self.bucket:  # a reference is data: it picks no other store to read
            raise AudioUnavailable(f"{what} is not in the audio bucket {self.bucket}")
        with object_errors(what):
            fast = await self._read_direct(ref.name)
            if fast is not None and _matches(fast, ref):
                return fast
            stored = await self._stored(ref.name)
            if stored is None:
                raise AudioUnavailable(f"{what} is gone (expired, deleted or redacted)")
            data = await self._chunks(stored, what)
        if not _matches(data, ref):
            raise AudioUnavailable(f"{what} does not match its reference's size and sha256 "
                                   "(replaced or damaged since)")
        return data

    async def _read_direct(self, name: str) -> bytes | None:
        """The object's bytes by direct gets, or ``None`` for anything but a clean read."""
        try:
            msg = await self.bus.js.get_last_msg(
                self.stream, subjects.object_meta_subject(self.bucket, name), direct=True)
            stored = _metadata(name, msg.data)
            if stored is None or stored.deleted:
                return None
            return await self._chunks(stored, name, direct=True)
        except (NotFoundError, NoRespondersError, NatsTimeout, AudioUnavailable):
            return None  # NatsTimeout: e.g. an identity of an older config, refused direct gets

    async def delete_conversation(self, conversation_id: str) -> int:
        """Erase every object named ``<conversation_id>/…``; how many there were."""
        prefix = f"{subjects.check_conversation_id(conversation_id)}/"
        names = [name for name in await self._names() if name.startswith(prefix)]
        with nats_errors():
            for name in names:
                await self._erase(name)
        return len(names)

    async def _names(self) -> list[str]:
        """Every object's name (deleted ones too), read off its metadata subject: one
        message per object (each put rolls its subject up), headers only."""
        with nats_errors():
            try:
                await self.bus.js.stream_info(self.stream)
            except NotFoundError:
                return []  # no bucket, no audio
        found = []
        async for msg in stored_messages(self.bus, self.stream,
                                         subjects.object_metas(self.bucket), headers_only=True):
            name = subjects.object_name_of(msg.subject)
            if name is not None:
                found.append(name)
        return found

    async def _erase(self, name: str) -> None:
        """Chunks first, then the metadata: an interrupted erase leaves the name findable."""
        stored = await self._stored(name, deleted_too=True)
        if stored is not None and stored.nuid:
            chunks = subjects.object_chunks_subject(self.bucket, stored.nuid)
            await erase_subject(self.bus, self.stream, chunks)
        meta = subjects.object_meta_subject(self.bucket, name)
        await erase_subject(self.bus, self.stream, meta)

    async def _stored(self, name: str, *, deleted_too: bool = False) -> _Stored | None:
        """The object's current metadata (``None``: no such object, or deleted)."""
        try:
            msg = await self.bus.js.get_last_msg(
                self.stream, subjects.object_meta_subject(self.bucket, name))
        except NotFoundError as exc:
            if exc.err_code == STREAM_NOT_FOUND:
                raise AudioUnavailable(f"no audio bucket {self.bucket} (stream {self.stream}):"
                                       " `voicecore up` creates it") from None
            return None
        stored = _metadata(name, msg.data)
        if stored is None:
            raise AudioUnavailable(f"audio object {self.bucket}/{name} has unreadable "
                                   "metadata")
        return None if stored.deleted and not deleted_too else stored

    async def _chunks(self, stored: _Stored, what: str, *, direct: bool = False) -> bytes:
        """The object's chunks in order, one message get each (no consumer needed)."""
        subject = subjects.object_chunks_subject(self.bucket, stored.nuid)
        parts: list[bytes] = []
        seq = 1
        for _ in range(stored.chunks):
            try:
                msg = await self.bus.js.get_msg(self.stream, seq=seq, subject=subject,
                                                next=True, direct=direct)
            except NotFoundError:
                raise AudioUnavailable(f"{what} is incomplete: chunk {len(parts) + 1} of "
                                       f"{stored.chunks} is gone") from None
            parts.append(msg.data or b"")
            seq = (msg.seq or seq) + 1
        return b"".join(parts)


def _metadata(name: str, data: bytes | None) -> _Stored | None:
    """An object's metadata message read (``None``: it does not read)."""
    try:
        meta = json.loads(data or b"")
        return _Stored(name=name, nuid=str(meta.get("nuid") or ""),
                       chunks=int(meta.get("chunks") or 0), size=int(meta.get("size") or 0),
                       digest=str(meta.get("digest", "")), deleted=bool(meta.get("deleted")))
    except (ValueError, TypeError, AttributeError):
        return None


def _matches(data: bytes, ref: AudioRef) -> bool:
    return len(data) == ref.size and hashlib.sha256(data).hexdigest() == ref.sha256


def _nats_digest(digest: bytes) -> str:
    """How the object store's metadata writes a sha256 (nats-py, the nats CLI)."""
    return f"SHA-256={base64.urlsafe_b64encode(digest).decode()}"
