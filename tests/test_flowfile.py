"""Flow files (issue 12 item 1): every error names the file, the line, the column and the
field; the shipped flow checks clean; ``voicecore flow check|schema`` as a user runs them.

In each broken flow below, the line the error must point at ends with ``# <-``.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml

from core.errors import ConfigError
from orchestrator.flow import Flow, Goto, Objective
from orchestrator.flowfile import parse_flow
from tests.support import proc
from voicecore.flow_commands import flow_schema

ROOT = Path(__file__).parents[1]
SHIPPED = ROOT / "flows" / "contact_details.yaml"
SCHEMA = ROOT / "schemas" / "json" / "flow.schema.json"
PRIMITIVES = ("capture_email", "capture_phone", "capture_date", "capture_confirmation")
MARK = "# <-"

HEAD = """\
name: demo
objectives:
  - id: greet
    say: "Hello."
"""
BROKEN = {
    "a number out of range": (HEAD + """\
  - id: email
    primitive: capture_email
    prompt: "Your email?"
    max_attempts: 0  # <-
""", "objectives[1].max_attempts: Expected int >= 1, got '0'"),
    "a value of the wrong type": (HEAD + """\
  - id: email
    primitive: capture_email
    prompt: "Your email?"
    timeout_s: soon  # <-
""", "objectives[1].timeout_s: Expected float, got str"),
    "a policy that does not exist": (HEAD + """\
  - id: email
    primitive: capture_email
    prompt: "Your email?"
    confirm: sometimes  # <-
""", "objectives[1].confirm: Invalid enum value 'sometimes'"),
    "an unknown field": (HEAD + """\
  - id: email
    primitive: capture_email
    prompt: "Your email?"
    retries: 2  # <-
""", "objectives[1].retries: unknown field (a typo?)"),
    "a missing required field": (HEAD + """\
  - primitive: capture_email  # <-
    prompt: "Your email?"
""", "objectives[1]: Object missing required field id"),
    "a duplicate YAML key": (HEAD + """\
  - id: email
    primitive: capture_email
    prompt: "Your email?"
    prompt: "Your email, please?"  # <-
""", "objectives[1].prompt: duplicate key (first on line 7)"),
    "a duplicate objective id": (HEAD + """\
  - id: greet  # <-
    say: "Hello again."
""", "objectives[1].id: duplicate objective id 'greet' (also objectives[0])"),
    "say and primitive": (HEAD + """\
  - id: email  # <-
    say: "Hi."
    primitive: capture_email
    prompt: "Your email?"
""", "objectives[1]: an objective has either `say` (a line) or `primitive` (a question), "
     "not both"),
    "neither say nor primitive": (HEAD + """\
  - id: email  # <-
    prompt: "Your email?"
""", "objectives[1]: an objective has either `say` (a line) or `primitive` (a question), "
     "and has neither"),
    "a primitive objective without a prompt": (HEAD + """\
  - id: email  # <-
    primitive: capture_email
""", "objectives[1]: a primitive objective needs a `prompt`"),
    "a goto to nowhere": (HEAD + """\
  - id: email
    primitive: capture_email
    prompt: "Your email?"
    on_failure: {goto: phone}  # <-
""", "objectives[1].on_failure.goto: no objective 'phone' to go to"),
    "an unknown primitive": (HEAD + """\
  - id: email
    primitive: capture_emial  # <-
    prompt: "Your email?"
""", "objectives[1].primitive: unknown primitive 'capture_emial' (known: capture_confirmation, "
     "capture_date, capture_email, capture_phone)"),
    "a slot filled later": (HEAD + """\
  - id: email
    primitive: capture_email
    prompt: "Your email, {name}?"  # <-
  - id: name
    primitive: capture_email
    prompt: "Your name?"
""", "objectives[1].prompt: unknown slot {name}: objective 'name' fills it, but only later"),
    "a slot nobody fills, in a re-prompt": (HEAD + """\
  - id: email
    primitive: capture_email
    slot: address
    prompt: "Your email?"
    reprompts:
      - "Again?"
      - "Spell {email}?"  # <-
""", "objectives[1].reprompts[1]: unknown slot {email}: no objective fills it "
     "(slots: address)"),
    "an objective's own slot outside its confirm_prompt": (HEAD + """\
  - id: email
    primitive: capture_email
    prompt: "Is it {email}?"  # <-
    confirm_prompt: "I have {email}, right?"
""", "objectives[1].prompt: unknown slot {email}: objective 'email' fills it, but only later"),
    "a fallback that uses a slot": ("""\
name: demo
fallback: "Sorry {email}."  # <-
objectives:
  - id: email
    primitive: capture_email
    prompt: "Your email?"
""", "fallback: unknown slot {email}: the fallback may be said before any slot is filled"),
    "a broken template": (HEAD + """\
  - id: email
    primitive: capture_email
    prompt: "Your {email?"  # <-
""", "objectives[1].prompt: not a template: expected '}' before end of string "
     "(write {{ for a brace)"),
    "no objectives": ("""\
name: demo
objectives: []  # <-
""", "objectives: a flow needs at least one objective"),
    "a flow name with a space": ("""\
name: my demo  # <-
objectives: [{id: greet, say: Hi}]
""", r"name: Expected str matching regex '^[A-Za-z0-9_.-]{1,128}(?!\\n)$', got 'my demo'"),
    "not YAML": ("""\
name: [demo
objectives: []  # <-
""", "not valid YAML: expected ',' or ']', but got ':' (while parsing a flow sequence "
     "on line 1)"),
}


def marked_line(text: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if MARK in line)


def error_of(text: str | bytes) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_flow(text, "flows/x.yaml", PRIMITIVES)
    return str(caught.value)


@pytest.mark.parametrize("kind", BROKEN)
def test_an_error_names_the_file_the_line_the_column_and_the_field(kind: str) -> None:
    text, why = BROKEN[kind]
    found = re.fullmatch(r"flows/x\.yaml:(\d+):(\d+): (.*)", error_of(text))
    assert found is not None, error_of(text)
    assert int(found[1]) == marked_line(text), (kind, found[0])
    assert found[3] == why


def test_the_column_is_the_offending_nodes() -> None:
    text = HEAD + "  - id: email\n    primitive: capture_email\n    prompt: \"Hi\"\n" \
        "    on_failure: {goto: phone}\n"
    assert error_of(text).startswith("flows/x.yaml:8:24: ")  # the `phone` of goto


def test_an_empty_file_or_one_that_is_no_mapping() -> None:
    assert error_of("") == "flows/x.yaml:1:1: empty: a flow needs a name and objectives"
    assert error_of("- a\n") == "flows/x.yaml:1:1: (the document): Expected object, got array"


def test_the_shipped_flow_checks_clean_and_its_version_is_the_sha256_of_its_bytes() -> None:
    loaded = parse_flow(SHIPPED.read_bytes(), str(SHIPPED), PRIMITIVES)
    assert [o.id for o in loaded.flow.objectives] == [
        "greet", "email", "phone", "callback_date", "goodbye"]
    assert loaded.version == hashlib.sha256(SHIPPED.read_bytes()).hexdigest()
    assert loaded.ref.document == SHIPPED.read_text()
    again = parse_flow(loaded.ref.document, "conversation c1")  # as a driver rebuilds it
    assert again.flow == loaded.flow and again.version == loaded.version
    email = loaded.flow.objectives[1]
    assert email.confirm == "always" and len(email.reprompts) == 2


def test_a_committed_schema_is_the_current_one() -> None:
    """Regenerate it with ``voicecore flow schema > schemas/json/flow.schema.json``."""
    assert json.loads(SCHEMA.read_text()) == json.loads(json.dumps(flow_schema()))


def struct_schema(name: str) -> dict[str, Any]:
    found: dict[str, Any] = flow_schema()["$defs"][name]  # type: ignore[index]
    return found


@pytest.mark.parametrize("cls", [Flow, Objective, Goto])
def test_the_schema_has_the_fields_msgspec_reads(cls: type[msgspec.Struct]) -> None:
    """No JSON Schema validator is installed: hold the schema's shape to msgspec's structs."""
    schema = struct_schema(cls.__name__)
    info = msgspec.inspect.type_info(cls)
    assert isinstance(info, msgspec.inspect.StructType)
    assert set(schema["properties"]) == {f.encode_name for f in info.fields}
    assert set(schema.get("required", ())) == {f.encode_name for f in info.fields if f.required}
    assert schema["additionalProperties"] is False


def test_the_shipped_flow_uses_only_fields_the_schema_names() -> None:
    document = yaml.safe_load(SHIPPED.read_text())
    assert set(document) <= set(struct_schema("Flow")["properties"])
    for objective in document["objectives"]:
        assert set(objective) <= set(struct_schema("Objective")["properties"])


def test_flow_check_prints_one_line() -> None:
    done = proc.run("flow", "check", str(SHIPPED))
    assert done.returncode == 0, done.stderr
    version = hashlib.sha256(SHIPPED.read_bytes()).hexdigest()[:12]
    assert done.stdout == (f"{SHIPPED}: OK: flow 'contact_details', 5 objectives (greet, email, "
                           f"phone, callback_date, goodbye), version {version}\n")


def test_flow_check_of_a_broken_file_prints_the_error_line_and_exits_2(tmp_path: Path) -> None:
    text, why = BROKEN["an unknown primitive"]
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    done = proc.run("flow", "check", str(path))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"{path}:{marked_line(text)}:16: {why.split(' (known')[0]}")
    missing = proc.run("flow", "check", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2
    assert missing.stderr.startswith(f"{tmp_path / 'nope.yaml'}: cannot read the flow file: ")


def test_flow_schema_prints_the_committed_schema() -> None:
    done = proc.run("flow", "schema")
    assert done.returncode == 0 and json.loads(done.stdout) == json.loads(SCHEMA.read_text())


def test_a_document_that_is_not_utf8() -> None:
    assert error_of(b"name: \xff\n") == "flows/x.yaml: not UTF-8 text (byte 6)"
