"""Tamper evidence: two SHA-256 hash chains over the log's rows.

* **Conversation chain** (column ``hash``): each row's hash is
  ``sha256(previous hash of its conversation ␞ content)``, where *content* is
  every stored field of the row (position, stream sequence, subject, envelope,
  headers, data, raw body, redaction mark, quarantine reason). It pins what each
  conversation said.
  The first row of a conversation chains from ``sha256("voicecore-eventlog/
  conversation/" + id)``.
* **Log chain** (column ``log_hash``): ``sha256(previous log hash ␞ skeleton)``
  in log order, where *skeleton* is the row's position, sequence, subject and
  envelope **without** data or headers. It pins which events exist, in which
  order: a deleted, inserted or reordered row breaks it.

Redaction rewrites the data of one conversation, so it recomputes that
conversation's chain (and only that one) and records the old and new heads in
a redaction record: the explicit re-anchoring. The log chain never covered the
personal values, so it is untouched. Positions (``pos``) are contiguous, so a
deleted row also shows up as a gap.

An attacker who can write the file can recompute both chains; what the chains
buy is that any edit which does not is caught, and that an externally kept copy
of a head (``voicecore log verify --json`` prints them) pins everything before it.
"""

from __future__ import annotations

import hashlib
from hashlib import sha256
from typing import Any

LOG_GENESIS = hashlib.sha256(b"voicecore-eventlog/log").hexdigest()
_SEP = "\x1f"
_LINK = b"\x1e"


def conversation_genesis(conversation_id: str) -> str:
    return hashlib.sha256(f"voicecore-eventlog/conversation/{conversation_id}".encode()).hexdigest()


def _skeleton(row: dict[str, Any]) -> list[str]:
    return [
        str(row["pos"]), str(row["seq"]), str(row["sub"]), row["subject"], row["id"], row["type"],
        row["conversation_id"], row["trace_id"], row["causation_id"] or "",
        str(row["occurred_us"]), row["producer"], str(row["schema_version"]), str(row["attempt"]),
    ]


def content(row: dict[str, Any], skeleton_parts: list[str] | None = None) -> bytes:
    parts = list(skeleton_parts or _skeleton(row))
    parts += [row["headers"], row["data"], row["raw"] or "", row["redacted_by"] or ""]
    reason = row.get("quarantine_reason")
    if reason is not None:  # only then: rows logged before the column keep their hashes
        parts.append(reason)
    return _SEP.join(parts).encode()


def skeleton(row: dict[str, Any]) -> bytes:
    return _SEP.join(_skeleton(row)).encode()


def link(previous: str, payload: bytes) -> str:
    return hashlib.sha256(previous.encode() + _LINK + payload).hexdigest()


def conversation_link(previous: str, row: dict[str, Any]) -> str:
    return link(previous, content(row))


def log_link(previous: str, row: dict[str, Any]) -> str:
    return link(previous, skeleton(row))


def links(skeletons: list[str], rests: list[str], conversations: list[str],
          heads: dict[str, str], log_head: str) -> tuple[list[str], list[str]]:
    """(conversation hashes, log hashes) of consecutive rows: the ingest path.

    A row is given as its *skeleton* text and the rest of its *content* text
    (:func:`core.eventlog.batch.chain_texts`, built column by column); the bytes hashed
    are those of :func:`conversation_link` and :func:`log_link` (a test holds them equal).
    ``heads`` holds each conversation's head so far (missing: its genesis) and is moved on.
    """
    hashes, log_hashes = [], []
    for conversation, skeleton_text, rest in zip(conversations, skeletons, rests, strict=True):
        head = heads.get(conversation) or conversation_genesis(conversation)
        heads[conversation] = head = sha256(
            f"{head}\x1e{skeleton_text}\x1f{rest}".encode()).hexdigest()
        log_head = sha256(f"{log_head}\x1e{skeleton_text}".encode()).hexdigest()
        hashes.append(head)
        log_hashes.append(log_head)
    return hashes, log_hashes
