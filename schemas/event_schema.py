"""The event union as a JSON Schema (2020-12), for consumers in other languages.

``voicecore schema`` prints it; ``schemas/json/events.schema.json`` is the committed copy
(tests/test_schemas.py keeps it current).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any, Union

import msgspec

from schemas.envelope import Event
from schemas.events import event_classes


def json_schema(classes: Iterable[type[Event]] | None = None) -> dict[str, Any]:
    """JSON Schema (2020-12) of the event union, for consumers in other languages.

    Descriptions come from docstrings, whose indentation msgspec has written
    differently across versions (0.23 dedents them); they are normalized here so the
    schema is the same whichever msgspec is installed. It is returned as JSON reads it back
    (a tuple default ``()`` is the array ``[]``).
    """
    members = tuple(classes) if classes is not None else event_classes()
    schema = _normalized_text(msgspec.json.schema(Union[members]))  # noqa: UP007
    as_json: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(schema))
    return as_json


def _normalized_text(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: inspect.cleandoc(value).strip() if key in ("description", "title")
                and isinstance(value, str) else _normalized_text(value)
                for key, value in node.items()}
    if isinstance(node, list):
        return [_normalized_text(item) for item in node]
    return node
