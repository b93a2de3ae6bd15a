"""Event ids: UUIDv7 (RFC 9562), so ids sort by creation time.

A result event's id is *derived* from its request's id: the same request, however
often it is redelivered, always yields the same result id, and JetStream's
``Nats-Msg-Id`` de-duplication (and the event log's unique key) keeps one result.
The derived id keeps the request's 48-bit timestamp, so it still sorts in time.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
import uuid

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
    value = (ms << 80) | (0x7 << 76) | (seq << 64) | (0b10 << 62) | rand
    return str(uuid.UUID(int=value))


def derive_id(source_id: str, purpose: str) -> str:
    """A deterministic UUIDv7-shaped id for ``purpose`` (e.g. ``"result"``) of ``source_id``."""
    try:
        ms = uuid.UUID(source_id).int >> 80
    except ValueError:
        ms = 0
    digest = int.from_bytes(hashlib.sha256(f"{source_id}/{purpose}".encode()).digest()[:10], "big")
    seq = digest >> 68 & 0xFFF
    rand = digest & ((1 << 62) - 1)
    value = (ms << 80) | (0x7 << 76) | (seq << 64) | (0b10 << 62) | rand
    return str(uuid.UUID(int=value))
