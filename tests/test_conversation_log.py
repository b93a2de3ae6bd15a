"""A conversation driven by a flow, as the event log holds it (issue 12 items 2–4):
``voicecore replay`` shows its objective timeline (``--json``: the same data), stored text
literally; ``voicecore log redact`` removes every personal value it recorded (turns,
prompts that read values back, objective values, the slots) and ``log verify`` still passes.

The conversations are the golden recordings of ``tests/golden/conversations/`` published
to a real nats-server and logged by the real sink into a real DuckDB file.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import msgspec
import pytest

from core.bus import Bus
from orchestrator.state import fold
from orchestrator.timeline import timeline
from schemas import events as ev
from schemas.conversation import Turn
from schemas.conversation_events import TurnReceived
from tests.support import proc
from tests.support.eventlog import caught_up, publish_many, running_sink

GOLDEN = Path(__file__).parent / "golden" / "conversations"
CORRECTED, GOTO = "correct3", "goto6"
HOSTILE = "[bold red]no[/] :x: \x1b[2J it is jon"
PERSONAL = ("john.smith@gmail.com", "jonsmith@gmail.com", "+15551234567", "2026-12-03",
            "jon smith at gmail dot com", "john dot smith at gmail dot com",
            "no it's john with an h", "five five five", "next thursday", "it is jon")
"""Every personal value the two conversations recorded (emails, phone, date, what the
caller said, what the prompts read back)."""


def recorded(name: str) -> list[ev.Event]:
    listed = json.loads((GOLDEN / f"{name}.events.json").read_text())
    return [ev.decode(json.dumps(event).encode()) for event in listed]


def with_hostile_turn(events: list[ev.Event]) -> list[ev.Event]:
    """The first caller's turn replaced by one with markup, an emoji code and an escape."""
    first = next(i for i, e in enumerate(events) if isinstance(e, TurnReceived))
    events[first] = msgspec.structs.replace(events[first], data=Turn(text=HOSTILE))
    return events


@pytest.fixture
async def logged(bus: Bus, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    async with running_sink(bus, data) as sink:
        await publish_many(bus, with_hostile_turn(recorded("confirmation_no_then_correction"))
                           + recorded("max_attempts_goto"))
        await caught_up(sink, bus)
    return data


def cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = proc.run(*args, "--data-dir", str(data), env={"COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    return done


def test_replay_shows_the_objective_timeline(logged: Path) -> None:
    out = cli(logged, "replay", CORRECTED).stdout
    assert "flow contact_details 9d457fc976e0: completed" in out
    lines = [" ".join(line.replace("│", " ").split()) for line in out.splitlines()]
    email = lines[next(i for i, line in enumerate(lines) if line.startswith("email ")):]
    expected = [
        "email prompt ask #1 What is your email address?",
        f"caller {HOSTILE}".replace("\x1b", "\\x1b"),
        "capture_email jonsmith@gmail.com 0.90",
        "prompt confirm #1 I have jon smith at gmail dot com. Is that right?",
        "caller no it's john with an h dot smith at gmail dot com",
        "capture_confirmation (confirm) no 0.95",
        "capture_email john.smith@gmail.com 0.93",
        "prompt confirm #1 I have john dot smith at gmail dot com. Is that right?",
        "caller yes",
        "capture_confirmation (confirm) yes 0.95",
        "→ completed email = john.smith@gmail.com (confirmed, 1 attempt(s))"]
    assert [line for line in email if line and not line.startswith("─")][:len(expected)] == \
        expected
    shown = cli(logged, "log", "show", GOTO).stdout
    assert "What number should we call you back on?" in shown and "no thanks" in shown
    goto = cli(logged, "replay", GOTO).stdout
    assert "MAX_ATTEMPTS: no phone number after three attempts (3 attempt(s))" in goto
    assert goto.index("phone") < goto.index("email") < goto.index("callback_date")
    assert "capture_phone failed: NO_MATCH" in " ".join(goto.replace("│", " ").split())


def test_replay_json_gives_the_same_timeline(logged: Path) -> None:
    for cid, name in ((GOTO, "max_attempts_goto"),):
        shown = json.loads(cli(logged, "replay", cid, "--json").stdout)
        expected = timeline(fold(recorded(name)))
        assert shown["timeline"] == json.loads(msgspec.json.encode(expected))
        steps = shown["timeline"]["objectives"][1]["steps"]
        assert [s["step"] for s in steps[:3]] == ["prompt", "turn", "call"]
        assert shown["course"]["objectives"]["callback_date"]["status"] == "pending"


TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)?")
"""When an event occurred or was logged: not personal, and on the day the test runs its
date part equals the recorded callback date."""


def all_text(data: Path, cid: str) -> str:
    """What the CLI shows of a conversation, its timestamps blanked."""
    shown = cli(data, "log", "show", cid, "--json").stdout
    queried = cli(data, "log", "query", "--json",
                  f"SELECT * FROM log_events WHERE conversation_id = '{cid}'").stdout
    replayed = cli(data, "replay", cid, "--json").stdout
    return TIMESTAMP.sub("<time>", "\n".join((shown, queried, replayed)))


def test_redaction_removes_every_personal_value_of_a_conversation(logged: Path) -> None:
    before = all_text(logged, CORRECTED)
    assert all(value in before for value in PERSONAL)
    done = json.loads(cli(logged, "log", "redact", CORRECTED, "--reason", "erasure",
                          "--json").stdout)
    fields: list[str] = done["fields"]
    assert {"data.text", "data.value", "data.slots.email", "data.slots.callback_date",
            "data.slots.phone"} <= set(fields)
    after = all_text(logged, CORRECTED)
    leaked = [value for value in PERSONAL if value in after]
    assert leaked == []
    assert cli(logged, "log", "verify").stdout.startswith("ok: ")
    replayed: dict[str, Any] = json.loads(cli(logged, "replay", CORRECTED, "--json").stdout)
    course = replayed["course"]
    assert course["status"] == "completed" and course["flow_version"].startswith("9d457fc976e0")
    assert course["slots"] == {"email": "[redacted]", "phone": "[redacted]",
                               "callback_date": "[redacted]"}
    assert [o["status"] for o in course["objectives"].values()] == ["completed"] * 5
    listed = json.loads(cli(logged, "log", "query", "--json",
                            "SELECT conversation_id, status FROM conversations ORDER BY 1").stdout)
    assert listed == [{"conversation_id": CORRECTED, "status": "completed"},
                      {"conversation_id": GOTO, "status": "completed"}]
    untouched = all_text(logged, GOTO)
    assert "john.smith@gmail.com" in untouched
