"""Event ids: UUIDv7 (RFC 9562), so ids sort by creation time.

A result event's id is *derived* from its request's id: the same request, however
often it is redelivered, always yields the same result id, and JetStream's
``Nats-Msg-Id`` de-duplication (and the event log's unique key) keeps one result.
The derived id keeps the request's 48-bit timestamp, so it still sorts in time.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
import uuid

_CANONICAL = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_lock = threading.Lock()
_last_ms = 0
_seq = 0


def uuid7() -> str:
    """A new UUIDv7 string; monotonic within this process (12-bit counter per ms)."""
    global _last_ms, _seq
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            _seq += 1
            if _seq > 0xFFF:  # counter exhausted in this ms: borrow the next ms
                _last_ms += 1
                _seq = 0
            ms = _last_ms
        else:
            _last_ms, _seq = ms, int.from_bytes(os.urandom(2), "big") & 0x3FF
        seq = _seq
    rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    return _v7(ms, seq, rand)


def derive_id(source_id: str, purpose: str) -> str:
    """A deterministic UUIDv7-shaped id for ``purpose`` (e.g. ``"result"``) of ``source_id``."""
    digest = int.from_bytes(hashlib.sha256(f"{source_id}/{purpose}".encode()).digest()[:10], "big")
    seq = digest >> 68 & 0xFFF
    rand = digest & ((1 << 62) - 1)
    return _v7(_timestamp_ms(source_id), seq, rand)


def _timestamp_ms(source_id: str) -> int:
    """The 48 leading bits of a UUID (a v7's milliseconds), 0 for a string that is none.
    A canonical one is read directly; any other spelling as ``uuid.UUID`` reads it (derived
    ids never change: ``tests/test_schemas.py`` holds golden ones)."""
    if _CANONICAL.fullmatch(source_id):
        return int(source_id[:8] + source_id[9:13], 16)
    try:
        return uuid.UUID(source_id).int >> 80
    except ValueError:
        return 0


def _v7(ms: int, seq: int, rand: int) -> str:
    """The UUIDv7 text of 48-bit ``ms``, 12-bit ``seq`` and 62-bit ``rand`` (RFC 9562's
    layout), formatted as ``str(uuid.UUID(int=…))`` does without the object (a third of
    the time; per event)."""
    h = f"{(ms << 80) | (0x7 << 76) | (seq << 64) | (0b10 << 62) | rand:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
