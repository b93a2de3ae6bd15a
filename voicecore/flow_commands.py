"""``voicecore flow check FILE`` and ``voicecore flow schema``: flow files (layer 3).

``check`` loads the file exactly as the orchestrator does (:mod:`orchestrator.flowfile`)
against the primitives registered here (built-ins and ``--plugin``s), and prints one line:
the flow's name, objectives and version, or the error as ``FILE:LINE:COL: field: why`` on
standard error with exit status 2 (an editor jumps to it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import msgspec
import typer

from core import primitive as registry
from core.errors import ConfigError
from orchestrator.flow import Flow
from orchestrator.flowfile import load_flow
from voicecore.options import Plugins, load_plugins

flow_app = typer.Typer(help="Flow files: check one, or print their JSON Schema.",
                       no_args_is_help=True)
USAGE_ERROR = 2


@flow_app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="The flow file (YAML)")],
    plugin: Plugins = None,
) -> None:
    """Check a flow file: its shape, ids, templates, goto targets and primitives."""
    load_plugins(plugin)
    names = [p.name for p in registry.all_primitives()]
    try:
        loaded = load_flow(file, names)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        raise typer.Exit(USAGE_ERROR) from None
    flow = loaded.flow
    print(f"{file}: OK: flow {flow.name!r}, {len(flow.objectives)} objectives "
          f"({', '.join(o.id for o in flow.objectives)}), version {loaded.version[:12]}")


def flow_schema() -> dict[str, object]:
    """The JSON Schema of a flow file (also ``schemas/json/flow.schema.json``)."""
    return msgspec.json.schema(Flow)


@flow_app.command("schema")
def schema() -> None:
    """Print the JSON Schema of flow files (for editors and other languages)."""
    print(json.dumps(flow_schema(), indent=2, sort_keys=True))


def register(app: typer.Typer) -> None:
    app.add_typer(flow_app, name="flow")
