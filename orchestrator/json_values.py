"""JSON values read from stored events, which may lack a field or hold another type (an
older schema, a foreign producer): the value when it has the type asked for, else an
empty one. One place for the rule, used by the request records and the course fold."""

from __future__ import annotations

from typing import Any


def as_dict(value: Any) -> dict[str, Any]:
    """A JSON object as itself; anything else as an empty one."""
    return value if isinstance(value, dict) else {}


def as_text(value: Any) -> str:
    """A JSON string as itself; any other value (missing, null, a number) as no text."""
    return value if isinstance(value, str) else ""
