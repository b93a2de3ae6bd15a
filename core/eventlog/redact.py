"""What redaction removes: personal values, found by key and by pattern.

* Values under personal keys (``transcript``, ``value``, ``readback``, ``audio``,
  ``text``, …) anywhere in an event's data become ``"[redacted]"`` (numbers too;
  ``null`` and booleans are kept, they carry structure, not identity). So do the values
  of a mapping under a key of :data:`PERSONAL_MAPS` (a conversation's ``slots``: each
  slot a caller's answer, a date as much as an email), whose keys (slot names) stay.
* In every other string, email addresses become ``"[email]"`` and phone-like digit
  runs (7+ digits) become ``"[phone]"``; ISO dates and times are left alone.
* A quarantined message's body (``raw``) the same way when it is JSON, else by
  pattern only.

Keys, types, timing, ids, confidence scores and failure codes stay, so a redacted
conversation still shows what was asked, when, how long it took and how it ended.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from core.eventlog.rows import raw_body, raw_text
from schemas.limits import check_depth

MASK = "[redacted]"
PERSONAL_KEYS = frozenset({
    "transcript", "value", "readback", "audio", "audio_b64", "text", "utterance",
    "email", "phone", "phone_number", "name", "address",
})
PERSONAL_MAPS = frozenset({"slots"})
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w:])\+?\d(?:[\s().-]{0,2}\d){6,}(?![\w:])")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def scrub_text(text: str) -> str:
    text = _EMAIL.sub("[email]", text)
    return _PHONE.sub(_phone, text)


def _phone(match: re.Match[str]) -> str:
    found = match.group(0)
    return found if _ISO_DATE.search(found) else "[phone]"


def scrub(value: Any, path: str, changed: set[str]) -> Any:
    """``value`` without personal values; adds the path of everything removed to ``changed``."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            where = f"{path}.{key}"
            if key in PERSONAL_KEYS and _identifying(item):
                out[key] = _masked(item, where, changed)
            elif key in PERSONAL_MAPS and isinstance(item, dict):
                out[key] = {k: _masked(v, f"{where}.{k}", changed) if _identifying(v) else v
                            for k, v in item.items()}
            else:
                out[key] = scrub(item, where, changed)
        return out
    if isinstance(value, list):
        return [scrub(item, f"{path}[]", changed) for item in value]
    if isinstance(value, str):
        cleaned = scrub_text(value)
        if cleaned != value:
            changed.add(path)
        return cleaned
    return value


def _masked(item: Any, where: str, changed: set[str]) -> str:
    if item != MASK:
        changed.add(where)
    return MASK


def _identifying(item: Any) -> bool:
    return item is not None and not isinstance(item, bool)


def scrub_json(data: str, changed: set[str]) -> str:
    """Redacted JSON text of an event's ``data`` (unchanged text when nothing was personal)."""
    found: set[str] = set()
    cleaned = scrub(msgspec.json.decode(data), "data", found)
    changed |= found
    return msgspec.json.encode(cleaned).decode() if found else data


def scrub_raw(raw: str) -> str:
    """A stored ``raw`` body without personal values (unchanged text when nothing was).

    By key when it reads as JSON (bytes that are not UTF-8 read as U+FFFD), else by
    pattern; either way the result is no longer the exact body, which is the point.
    """
    text = raw_body(raw).decode("utf-8", "replace")
    try:
        check_depth(text.encode())
        value = msgspec.json.decode(text)
    except msgspec.DecodeError:
        cleaned = scrub_text(text)
        return raw if cleaned == text else raw_text(cleaned.encode())
    found: set[str] = set()
    cleaned_value = scrub(value, "raw", found)
    return raw_text(msgspec.json.encode(cleaned_value)) if found else raw


def scrub_rows(rows: list[dict[str, Any]], redaction_id: str, fields: set[str]) -> list[int]:
    """Redact ``rows`` in place; returns the positions of the rows that changed."""
    changed = []
    for row in rows:
        before = (row["data"], row["raw"])
        if row["sub"] == 0:  # a message of the stream; sub ≥ 1: a record the log wrote itself
            row["data"] = scrub_json(row["data"], fields)
        if row["raw"]:
            row["raw"] = scrub_raw(row["raw"])
            if row["raw"] != before[1]:
                fields.add("raw")
        if (row["data"], row["raw"]) != before:
            row["redacted_by"] = redaction_id
            changed.append(row["pos"])
    return changed
