"""``voicecore voices`` (the named voices and who speaks them here) and ``voicecore
voices pull NAME`` (download a Piper voice)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from core.config import default_data_dir
from core.errors import ConfigError
from core.tts.engine import GENDERS
from core.tts.piper_pull import pull
from core.tts.settings import ENV_PIPER_VOICES_URL, PIPER_VOICES_URL
from core.tts.voices import VoiceCatalog, VoiceInfo
from core.tts.voicesfile import LANGUAGES
from voicecore import literal
from voicecore.options import AsJson, DataDir
from voicecore.tts_options import TtsEngine, VoicesFile, tts_settings

voices_app = typer.Typer(help="The named voices and the engine voice each becomes here; "
                         "`voices pull NAME` downloads a Piper voice.")
console = literal.console()


@voices_app.callback(invoke_without_command=True)
def voices(
    ctx: typer.Context,
    language: Annotated[str | None, typer.Option(
        "--language", help="Only this language: en, es, fr, de")] = None,
    engine: Annotated[str | None, typer.Option(
        "--engine", help="Only voices this engine speaks: gtts, piper, espeak-ng")] = None,
    gender: Annotated[str | None, typer.Option("--gender", help="female or male")] = None,
    as_json: AsJson = False,
    tts_engine: TtsEngine = "auto",
    voices_file: VoicesFile = None,
    data_dir: DataDir = None,
) -> None:
    """List the named voices, each language's engine and engine voice."""
    if ctx.invoked_subcommand is not None:
        return
    _check_choice("--language", language, LANGUAGES)
    _check_choice("--gender", gender, GENDERS)
    catalog = VoiceCatalog(tts_settings(data_dir, engine=tts_engine, voices_file=voices_file))
    rows = catalog.list(language=language, engine=engine, gender=gender)
    if as_json:
        print(json.dumps([dataclasses.asdict(row) for row in rows], indent=2))
    else:
        console.print(_table(rows))


def _check_choice(flag: str, value: str | None, choices: tuple[str, ...]) -> None:
    if value is not None and value not in choices:
        raise ConfigError(f"{flag} {value[:32]!r}: choose from {', '.join(choices)}")


def _table(rows: list[VoiceInfo]) -> Table:
    table = Table("voice", "name", "language", "gender", "engine", "engine voice",
                  "its gender", "note")
    for row in rows:
        table.add_row(literal.literal(row.id), literal.literal(row.name), row.language,
                      row.gender, row.engine, literal.literal(row.engine_voice),
                      row.engine_gender, literal.literal(row.note))
    return table


@voices_app.command("pull")
def pull_voice(
    name: Annotated[str, typer.Argument(help="A Piper voice, e.g. en_US-amy-medium")],
    directory: Annotated[Path | None, typer.Option(
        "--dir", help="Where to store it [default: <data-dir>/voices, where voicecore "
        "looks]")] = None,
    url: Annotated[str, typer.Option(
        "--url", envvar=ENV_PIPER_VOICES_URL,
        help="The piper-voices repository (a mirror)")] = PIPER_VOICES_URL,
    data_dir: DataDir = None,
) -> None:
    """Download a Piper voice (NAME.onnx and NAME.onnx.json) from the piper-voices repository."""
    target = directory or (data_dir or default_data_dir()) / "voices"
    bar = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                   TransferSpeedColumn(), console=literal.console(stderr=True))
    tasks: dict[str, TaskID] = {}

    def advance(file: str, done: int, total: int | None) -> None:
        if not tasks:  # drawn once bytes flow: a failure before is one line, no empty bar
            bar.start()
        if file not in tasks:
            tasks[file] = bar.add_task(file, total=total)
        bar.update(tasks[file], completed=done)

    try:
        model = pull(name, target, url, progress=advance)
    finally:
        if tasks:
            bar.stop()
    print(f"pulled {name}: {model}")


def register(app: typer.Typer) -> None:
    """Add ``voices`` and ``voices pull`` to the ``voicecore`` app (voicecore/cli.py)."""
    app.add_typer(voices_app, name="voices")
