"""The ``usage`` view and ``voicecore log usage``: speech usage summed and priced.

Results are written into a real DuckDB log through the real row building
(``LogStore.apply``, as the sink does), with hostile rows among them; the CLI runs as a
real process on the file, and once through the running sink over NATS.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from core import subjects
from core.bus import Bus
from core.eventlog import reading
from core.eventlog.schema import DB_FILE
from core.eventlog.store import LogStore
from orchestrator.views import VIEWS
from schemas import events as ev
from schemas.audio import Usage
from tests.samples import RESULT_ID, WHEN, sample
from tests.support import proc
from tests.support.eventlog import caught_up, email_pair, publish_many, running_sink
from tests.support.readme import blocks
from voicecore.prices import DEFAULT_PRICES, load_prices

PAID = "cloud-tts"
PRICES = f"""currency = "EUR"
[engines.{PAID}]
per_million_characters = 16
per_audio_hour = 0.5
"""


def synthesized(conversation: str, n: int, usage: Usage, hours: float = 0.0) -> ev.Event:
    """A ``synthesize.completed`` of ``conversation`` (the sample's, with this usage)."""
    done = sample(ev.SynthesizeCompleted, conversation)
    data = msgspec.structs.replace(done.data, usage=usage)
    return msgspec.structs.replace(done, id=f"{RESULT_ID[:-4]}{n:04d}", data=data,
                                   occurred_at=WHEN + dt.timedelta(hours=hours))


def message(seq: int, event: ev.Event, subject: str | None = None,
            body: bytes | None = None) -> tuple[int, str, bytes, None]:
    subject = subject or subjects.event_subject(event.conversation_id, event.event_type)
    return seq, subject, ev.encode(event) if body is None else body, None


GOOD = [
    synthesized("c1", 1, Usage(engine="piper", voice="en_US-joe-medium", characters=35,
                               audio_seconds=1.25)),
    synthesized("c1", 2, Usage(engine="piper", voice="en_US-joe-medium", characters=100,
                               audio_seconds=5.5), hours=1),
    synthesized("c1", 3, Usage(engine="espeak-ng", voice="es", characters=20,
                               audio_seconds=1.0), hours=2),
    synthesized("c2", 4, Usage(engine=PAID, voice="premium", characters=2_000_000,
                               audio_seconds=7200.0), hours=48),
]


def hostile(seq: int) -> list[tuple[int, str, bytes, None]]:
    """Rows the view must pass over, or show as what they are, without failing."""
    forged = synthesized("c2", 90, Usage(engine="piper", characters=999))
    odd = {**msgspec.to_builtins(synthesized("c1", 91, Usage(engine="x"))),
           "data": {"usage": {"engine": 7, "characters": "many", "audio_seconds": None}}}
    not_usage = {**odd, "id": f"{RESULT_ID[:-4]}0092", "data": {"usage": "lots"}}
    requested = {**msgspec.to_builtins(sample(ev.SynthesizeRequested, "c1")),
                 "data": {"usage": {"engine": "piper", "characters": 5}}}
    return [
        message(seq, GOOD[0], body=b"\x00{not json"),  # quarantined
        message(seq + 1, forged, subject=subjects.event_subject("c1", forged.event_type)),
        message(seq + 2, GOOD[0], body=json.dumps(odd).encode()),
        message(seq + 3, GOOD[0], body=json.dumps(not_usage).encode()),
        message(seq + 4, GOOD[0], subject="vc.ev.c1.synthesize.requested",
                body=json.dumps(requested).encode()),
        *(message(seq + 5 + i, e) for i, e in enumerate(email_pair("c1", "x at y dot com",
                                                                   "x@y.com"))),
    ]


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    """A closed log holding GOOD, the hostile rows, then c1 redacted."""
    data = tmp_path / "data"
    store = LogStore.open(data / DB_FILE, views=VIEWS)
    try:
        store.apply([message(i + 1, e) for i, e in enumerate(GOOD)] + hostile(len(GOOD) + 1))
        store.redact("c1", "test")  # usage is not personal: it stays
    finally:
        store.close()
    return data


def usage_cli(data: Path, *args: str, **env: str) -> Any:
    done = proc.run("log", "usage", "--data-dir", str(data), *args,
                    env={"COLUMNS": "200", **env})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if "--json" in args else done.stdout


def test_the_view_has_one_row_per_result_with_usage_and_never_breaks(recorded: Path) -> None:
    store = LogStore.open(recorded / DB_FILE, views=VIEWS)
    try:
        rows = reading.query(store.con, "SELECT conversation_id, primitive, engine, voice, "
                                        "characters, audio_seconds FROM usage "
                                        "ORDER BY result_id").to_pylist()
    finally:
        store.close()
    good = [{"conversation_id": e.conversation_id, "primitive": "synthesize",
             **msgspec.to_builtins(e.data.usage)} for e in GOOD]
    odd = {"conversation_id": "c1", "primitive": "synthesize", "engine": "", "voice": "",
           "characters": None, "audio_seconds": None}
    assert rows == [*good, odd]  # no forged, quarantined, request or capture row


def test_json_sums_per_conversation_and_engine_with_default_prices(recorded: Path) -> None:
    rows = usage_cli(recorded, "--json")
    assert [{k: r[k] for k in ("conversation_id", "engine", "calls", "characters",
                               "audio_seconds", "cost", "currency")} for r in rows] == [
        {"conversation_id": "c1", "engine": "", "calls": 1, "characters": 0,
         "audio_seconds": 0.0, "cost": None, "currency": "USD"},
        {"conversation_id": "c1", "engine": "espeak-ng", "calls": 1, "characters": 20,
         "audio_seconds": 1.0, "cost": 0.0, "currency": "USD"},
        {"conversation_id": "c1", "engine": "piper", "calls": 2, "characters": 135,
         "audio_seconds": 6.75, "cost": 0.0, "currency": "USD"},
        {"conversation_id": "c2", "engine": PAID, "calls": 1, "characters": 2_000_000,
         "audio_seconds": 7200.0, "cost": None, "currency": "USD"},  # no price: unknown
    ]
    piper = rows[2]
    assert (piper["first_at"], piper["last_at"]) == (
        WHEN.isoformat(), (WHEN + dt.timedelta(hours=1)).isoformat())


def test_a_prices_file_prices_a_paid_engine_and_filters_select(recorded: Path,
                                                               tmp_path: Path) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text(PRICES)
    since = (WHEN + dt.timedelta(hours=1)).isoformat()
    rows = usage_cli(recorded, "--json", "--since", since, VOICECORE_PRICES=str(prices))
    assert [(r["conversation_id"], r["engine"], r["calls"], r["cost"], r["currency"])
            for r in rows] == [("c1", "espeak-ng", 1, 0.0, "EUR"), ("c1", "piper", 1, 0.0, "EUR"),
                               ("c2", PAID, 1, 2 * 16 + 2 * 0.5, "EUR")]
    only = usage_cli(recorded, "--json", "--conversation", "c2", "--prices", str(prices))
    assert [(r["engine"], r["characters"], r["cost"]) for r in only] == [(PAID, 2_000_000, 33.0)]
    assert usage_cli(recorded, "--json", "--conversation", "nobody") == []
    assert usage_cli(recorded, "--json", "--since", "1h") == []  # an age: WHEN is long past


def test_the_table_shows_rows_and_a_total_per_engine(recorded: Path, tmp_path: Path) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text(PRICES)
    lines = usage_cli(recorded, "--prices", str(prices)).splitlines()
    assert "cost in EUR" in lines[0]
    totals = [line.split("│")[1:-1] for line in lines if "total" in line]
    assert [[cell.strip() for cell in row] for row in totals] == [
        ["total", "", "1", "0", "0.0", "?"],
        ["total", "espeak-ng", "1", "20", "1.0", "0.0000"],
        ["total", "piper", "2", "135", "6.8", "0.0000"],
        ["total", PAID, "1", "2000000", "7200.0", "33.0000"]]


@pytest.mark.parametrize(("text", "error"), [
    ("[engines.gtts]\nper_audio_hour = 'free'\n",
     "engines.gtts.per_audio_hour: expected `float`, got `str`"),
    ("[engines.x]\nper_million_characters = -1\n",
     "engines.x.per_million_characters: expected `float` >= 0.0"),
    ("[engines.x]\nper_millon_characters = 1\n",
     "engines.x: object contains unknown field `per_millon_characters`"),
    ("currency = \n", "not TOML: Invalid value (at line 1, column 12)"),
])
def test_a_bad_prices_file_is_one_line_naming_file_and_field(recorded: Path, tmp_path: Path,
                                                             text: str, error: str) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text(text)
    done = proc.run("log", "usage", "--data-dir", str(recorded), "--prices", str(prices))
    assert done.returncode == 1
    assert done.stderr == f"voicecore: error: prices file {prices}: {error}\n"


async def test_usage_through_the_running_sink(bus: Bus, tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with running_sink(bus, data) as sink:
        await publish_many(bus, GOOD[:2])
        await caught_up(sink, bus)
        rows = await asyncio.to_thread(usage_cli, data, "--json")  # the loop serves the sink
    assert [(r["engine"], r["calls"], r["characters"]) for r in rows] == [("piper", 2, 135)]



def test_the_readme_shows_the_built_in_prices_and_example_files_that_load(
        tmp_path: Path) -> None:
    tables = [b for b in blocks(proc.ROOT / "README.md") if b.lang == "toml"
              and "per_million_characters" in b.text]
    assert tables[0].text.strip() == DEFAULT_PRICES.strip()  # the built-in table, as shown
    for block in tables:
        path = tmp_path / f"line{block.line}.toml"
        path.write_text(block.text)
        assert load_prices(path).engines, block.line
