"""``voicecore log export --with-audio DIR``: the audio the exported events reference.

Events carry :class:`~schemas.audio.AudioRef` objects (``data.audio`` of a
``synthesize.chunk``, ``data.chunks`` of a ``synthesize.completed``, …); every one found
in an exported row's data is fetched from the object store (as the read-only ``cli``
identity, sha256 checked) and written to ``DIR/<object name>``. An object name is
``<conversation>/<request>/<part>.<ext>``; one whose parts are not plain file names is
written as ``<sha256>.<ext>`` instead, so nothing escapes ``DIR``. Audio that is gone
(TTL, redaction) is counted, not fatal: the events are exported either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa

from core.audiostore import EXTENSIONS, AudioStore
from core.bus import Bus
from core.errors import AudioUnavailable, ConfigError
from core.eventlog.readback import json_column
from core.natsauth import NatsAuth
from schemas.audio import AudioRef
from schemas.limits import MAX_DEPTH
from voicecore import literal

_REF_KEYS = frozenset(("bucket", "name", "size", "sha256", "format"))
_SAFE_PART = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}")
"""A file name that is not hidden, not ``.``/``..``, and has no separator."""


def audio_refs(value: Any, depth: int = 0) -> Iterator[AudioRef]:
    """Every AudioRef in a JSON value (what does not convert to one is skipped)."""
    if depth > MAX_DEPTH:
        return
    if isinstance(value, dict):
        if value.keys() >= _REF_KEYS:
            with contextlib.suppress(msgspec.ValidationError):  # else: look inside it
                yield msgspec.convert(value, AudioRef)
                return
        children: Iterable[Any] = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return
    for child in children:
        yield from audio_refs(child, depth + 1)


@dataclass
class AudioCollector:
    """The distinct references of the exported rows, in the order first met."""

    refs: dict[tuple[str, str, str], AudioRef] = field(default_factory=dict)

    def add_page(self, page: pa.Table) -> None:
        for data in page.column("data").to_pylist():
            for ref in audio_refs(json_column(data)):
                self.refs.setdefault((ref.bucket, ref.name, ref.sha256), ref)


def file_for(directory: Path, ref: AudioRef) -> Path:
    """Where ``ref`` is written: its object name below ``directory``, or, when a part of
    the name is not a plain file name, ``<sha256>.<ext>``."""
    parts = ref.name.split("/")
    if not all(_SAFE_PART.fullmatch(part) for part in parts):
        parts = [f"{ref.sha256}.{EXTENSIONS.get(ref.format, 'audio')}"]
    path = directory.joinpath(*parts)
    if not path.resolve().is_relative_to(directory.resolve()):  # e.g. a planted symlink
        raise ConfigError(f"{literal.escape_controls(str(path))} is outside "
                          f"{literal.escape_controls(str(directory))}")
    return path


@dataclass(frozen=True)
class AudioExport:
    written: int
    unavailable: int


async def export_audio(refs: Iterable[AudioRef], directory: Path, url: str,
                       auth: NatsAuth) -> AudioExport:
    """Fetch each reference and write it below ``directory``."""
    wanted = list(refs)
    if not wanted:
        return AudioExport(0, 0)
    bus = await Bus.connect(url, name="voicecore-export", auth=auth)
    written = unavailable = 0
    try:
        store = AudioStore(bus)
        for ref in wanted:
            try:
                data = await store.get(ref)
            except AudioUnavailable:
                unavailable += 1
                continue
            await asyncio.to_thread(_write, file_for(directory, ref), data)
            written += 1
    finally:
        await bus.drain()
    return AudioExport(written, unavailable)


def _write(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise ConfigError(f"cannot write {literal.escape_controls(str(path))}: "
                          f"{exc.strerror or exc}") from exc
