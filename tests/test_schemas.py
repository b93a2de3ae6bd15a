"""Schemas: round trips, golden files (schema evolution), JSON Schema export."""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from pathlib import Path

import msgspec
import pytest

from schemas import event_schema, ids, limits
from schemas import events as ev
from tests.samples import DATA, sample

GOLDEN = Path(__file__).parent / "golden"
JSON_SCHEMA = Path(__file__).parents[1] / "schemas" / "json" / "events.schema.json"


def test_every_builtin_event_type_has_a_sample() -> None:
    assert set(DATA) == set(ev.BUILTIN_EVENTS)


@pytest.mark.parametrize("cls", ev.BUILTIN_EVENTS, ids=ev.type_of)
def test_round_trip(cls: type[ev.Event]) -> None:
    event = sample(cls)
    assert ev.decode(ev.encode(event)) == event
    body = json.loads(ev.encode(event))
    assert body["type"] == ev.type_of(cls)
    assert body["occurred_at"] == "2026-11-23T16:39:27.123456Z"
    assert list(body)[:9] == ["type", "id", "conversation_id", "trace_id", "causation_id",
                              "occurred_at", "producer", "schema_version", "attempt"]


@pytest.mark.parametrize("cls", ev.BUILTIN_EVENTS, ids=ev.type_of)
def test_golden_v1(cls: type[ev.Event]) -> None:
    """A golden file is never edited: today's encoder must still write, and read, the same bytes."""
    path = GOLDEN / "v1" / f"{ev.type_of(cls)}.json"
    encoded = ev.encode(sample(cls))
    if not path.exists() and os.environ.get("VOICECORE_WRITE_GOLDEN") == "1":
        path.write_bytes(encoded + b"\n")
    assert path.exists(), f"missing golden {path.name}: create it with VOICECORE_WRITE_GOLDEN=1"
    golden = path.read_bytes().strip()
    assert ev.decode(golden) == sample(cls)
    assert encoded == golden


def test_all_golden_files_still_decode() -> None:
    files = sorted(GOLDEN.glob("v*/*.json"))  # one event a file (conversations/: lists)
    assert len(files) >= len(ev.BUILTIN_EVENTS)
    for path in files:
        ev.decode(path.read_bytes())


def test_readers_ignore_unknown_fields_and_default_missing_ones() -> None:
    body = json.loads(ev.encode(sample(ev.CaptureEmailCompleted)))
    body["added_in_a_future_version"] = {"x": 1}
    body["data"]["future_field"] = 3
    del body["attempt"]  # written before the field existed
    event = ev.decode(json.dumps(body).encode())
    assert event.attempt == 1
    assert event.data == DATA[ev.CaptureEmailCompleted]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("conversation_id", "c.42", "conversation_id"),
        ("conversation_id", "", "conversation_id"),
        ("trace_id", "x" * 65, "trace_id"),
        ("type", "capture_email.exploded", "Invalid value 'capture_email.exploded'"),
        ("occurred_at", "yesterday", "occurred_at"),
    ],
)
def test_invalid_envelopes_are_rejected(field: str, value: str, message: str) -> None:
    body = json.loads(ev.encode(sample(ev.CaptureEmailRequested)))
    body[field] = value
    with pytest.raises(msgspec.ValidationError, match=message):
        ev.decode(json.dumps(body).encode())


def test_invalid_params_are_rejected() -> None:
    body = json.loads(ev.encode(sample(ev.CaptureEmailRequested)))
    body["data"]["params"]["language"] = "it"
    with pytest.raises(msgspec.ValidationError, match="language"):
        ev.decode(json.dumps(body).encode())
    body["data"]["params"]["language"] = "en"
    del body["data"]["params"]["transcript"]
    with pytest.raises(msgspec.ValidationError, match="transcript"):
        ev.decode(json.dumps(body).encode())


def test_registering_a_clashing_type_fails() -> None:
    class Other(ev.Event, frozen=True, kw_only=True, tag="capture_email.completed"):
        data: int

    with pytest.raises(ValueError, match="already registered"):
        ev.register(Other)


def test_committed_json_schema_is_current() -> None:
    current = event_schema.json_schema(ev.BUILTIN_EVENTS)
    if os.environ.get("VOICECORE_WRITE_GOLDEN") == "1":
        JSON_SCHEMA.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    assert json.loads(JSON_SCHEMA.read_text()) == current
    names = {d["properties"]["type"]["enum"][0] for d in current["$defs"].values()
             if "type" in d.get("properties", {}) and "enum" in d["properties"]["type"]}
    assert {"capture_email.requested", "capture_date.failed"} <= names


def test_uuid7_is_time_ordered_and_unique() -> None:
    made = [ids.uuid7() for _ in range(5000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    assert all(m[14] == "7" for m in made)


def test_derived_id_is_deterministic_and_keeps_the_timestamp() -> None:
    request = ids.uuid7()
    result = ids.derive_id(request, "result")
    assert result == ids.derive_id(request, "result")
    assert result != ids.derive_id(request, "other")
    assert result[:13] == request[:13]


@pytest.mark.parametrize(("source", "purpose", "derived"), [
    ("01890a5d-ac96-7b2e-8f6a-0123456789ab", "result", "01890a5d-ac96-7c27-aa52-14725ae4e1f4"),
    ("01890A5D-AC96-7B2E-8F6A-0123456789AB", "result", "01890a5d-ac96-7e8c-a97b-b35b0f80df58"),
    ("{01890a5d-ac96-7b2e-8f6a-0123456789ab}", "result", "01890a5d-ac96-7a37-a656-3b48dc60a6c7"),
    ("01890a5dac967b2e8f6a0123456789ab", "say:ask:1", "01890a5d-ac96-7129-9e5f-2faade43b666"),
    ("idempotency/c1/k", "request", "00000000-0000-73b5-8f40-9e9f8d03162a"),
    ("+1890a5d-ac96-7b2e-8f6a-0123456789ab", "result", "01890a5d-ac96-77b9-b01b-d054d9d4cbb4"),
    ("0189_a5d-ac96-7b2e-8f6a-0123456789ab", "result", "00189a5d-ac96-78de-a99b-b128b040d539"),
    ("", "result", "00000000-0000-76a3-bff3-f701f7e3e261"),
])
def test_derived_ids_never_change(source: str, purpose: str, derived: str) -> None:
    """Golden values (made by the first implementation, through ``uuid.UUID``): a result
    redelivered across an upgrade must get the id its first delivery got."""
    assert ids.derive_id(source, purpose) == derived


def test_uuid7_text_is_the_uuid_modules() -> None:
    for made in (ids.uuid7() for _ in range(200)):
        assert str(uuid.UUID(made)) == made and uuid.UUID(made).version == 7


def test_schema_text_does_not_depend_on_how_msgspec_indents_docstrings() -> None:
    indented = {"description": "First line.\n\n    More, indented as in source.", "x": [
        {"title": "  T  "}]}
    dedented = {"description": "First line.\n\nMore, indented as in source.", "x": [
        {"title": "T"}]}
    assert event_schema._normalized_text(indented) == event_schema._normalized_text(dedented)


@pytest.mark.parametrize("depth", [65, 1000, 5000])
def test_bodies_nested_too_deep_are_decode_errors_not_recursion(depth: int) -> None:
    body = json.loads(ev.encode(sample(ev.CaptureEmailRequested)))
    body["data"]["purpose"] = "[[[[ brackets in strings do not count {{{{"
    text = json.dumps(body).encode()
    deep = text[:-1] + b', "extra": ' + b"[" * depth + b"]" * depth + b"}"
    for decode in (ev.decode, ev.decode_envelope):
        with pytest.raises(msgspec.DecodeError, match=f"nested {depth + 1} levels"):
            decode(deep)
    ev.decode(text)  # brackets inside strings are not nesting
    envelope = ev.decode_envelope(limits.flatten_too_deep(deep))
    assert envelope.conversation_id == "c42"


def golden_shape(name: str, event: ev.Event) -> ev.Event:
    """A later shape of an event type held by its own golden file ``v1/<name>.json``
    (written once, with VOICECORE_WRITE_GOLDEN=1): today's encoder writes its bytes and
    the decoder reads them back as ``event``. Returns what was read."""
    golden = GOLDEN / "v1" / f"{name}.json"
    if not golden.exists() and os.environ.get("VOICECORE_WRITE_GOLDEN") == "1":
        golden.write_bytes(ev.encode(event) + b"\n")
    assert ev.encode(event) == golden.read_bytes().strip()
    read = ev.decode(golden.read_bytes())
    assert read == event
    return read


def test_a_deadline_is_written_only_when_set() -> None:
    request = sample(ev.CaptureEmailRequested)
    assert b"deadline" not in ev.encode(request)
    when = dt.datetime(2026, 11, 23, 16, 40, tzinfo=dt.UTC)
    with_deadline = msgspec.structs.replace(
        request, data=msgspec.structs.replace(request.data, deadline=when))
    read = golden_shape("capture_email.requested.with_deadline", with_deadline)
    assert read.data.deadline == when


def test_word_times_of_a_streamed_final_are_written_only_when_asked() -> None:
    """``word_timestamps`` came after the v1 golden: unset, it is not written (so the golden
    still reads and encodes the same); set, it has its own golden shape."""
    request = sample(ev.TranscribeStreamRequested)
    assert b"word_timestamps" not in ev.encode(request)
    params = msgspec.structs.replace(request.data.params, word_timestamps=True)
    asked = msgspec.structs.replace(
        request, data=msgspec.structs.replace(request.data, params=params))
    read = golden_shape("transcribe_stream.requested.with_word_timestamps", asked)
    assert read.data.params.word_timestamps is True


def test_a_spoken_prompt_lists_every_part_of_its_audio() -> None:
    """``audio_parts`` is written only when there are parts (so the v1 golden, a prompt
    without it, still reads and encodes the same); ``audio`` stays the first part."""
    prompt = sample(ev.PromptSpoken)
    assert b"audio_parts" not in ev.encode(prompt)
    first = prompt.data.audio
    assert first is not None
    second = msgspec.structs.replace(first, name=first.name.replace("/0.", "/1."), size=40044,
                                     duration_s=0.907)
    with_parts = msgspec.structs.replace(
        prompt, data=msgspec.structs.replace(prompt.data, audio_parts=(first, second)))
    read = golden_shape("prompt.spoken.with_audio_parts", with_parts)
    assert read.data.audio == read.data.audio_parts[0] == first
    assert [p.name for p in read.data.audio_parts] == [first.name, second.name]


@pytest.mark.parametrize(("field", "value"), [
    ("attempt", 2**31), ("schema_version", 2**40), ("attempt", -1), ("id", "i" * 129)])
def test_envelope_numbers_and_ids_are_bounded(field: str, value: object) -> None:
    body = json.loads(ev.encode(sample(ev.CaptureEmailRequested)))
    body[field] = value
    for decode in (ev.decode, ev.decode_envelope):
        with pytest.raises(msgspec.ValidationError, match=field):
            decode(json.dumps(body).encode())


@pytest.mark.parametrize(("field", "value"), [
    ("conversation_id", "c42\n"), ("trace_id", "abc\n")])
def test_a_trailing_newline_is_not_a_valid_token(field: str, value: str) -> None:
    # msgspec matches patterns with re.search, where "$" also matches before a final "\n".
    body = json.loads(ev.encode(sample(ev.CaptureEmailRequested)))
    body[field] = value
    with pytest.raises(msgspec.ValidationError, match=field):
        ev.decode(json.dumps(body).encode())
