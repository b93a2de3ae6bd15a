"""The README's Node example, run as written with node against a real bridge.

The code block and the line it says it prints are read from README.md, so the two
cannot drift apart. ``@grpc/grpc-js`` and ``@grpc/proto-loader`` are installed with
``npm ci`` from ``tests/bridge/node/`` (package.json + package-lock.json) into a
temporary directory.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bridge.server import Bridge
from core.bus import Bus
from core.worker import Worker
from tests.bridge.conftest import stored_events

ROOT = Path(__file__).parents[2]
NODE_DIR = Path(__file__).parent / "node"
STRUCT_PARAMS = 'params: {fields: {transcript: {stringValue: "john dot smith at gmail dot com"}}},'
PLAIN_PARAMS = 'params: {transcript: "john dot smith at gmail dot com"},'


def readme_node_example() -> tuple[str, str]:
    """The ``js`` code block of the README's "### Node" section and what it says it prints."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("\n### Node\n"):]
    section = section[:section.index("\n### ", 1)]
    code = re.search(r"```js\n(.*?)```", section, re.S)
    prints = re.search(r"It prints `([^`]*)`", section)
    assert code and prints, "the README's Node section lost its example"
    return code.group(1), prints.group(1)


@pytest.fixture(scope="module")
def node_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed: the README's Node example cannot run")
    where = tmp_path_factory.mktemp("node-example")
    for name in ("package.json", "package-lock.json"):
        shutil.copy(NODE_DIR / name, where / name)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=where,
                   check=True, capture_output=True, timeout=600)
    return where


async def run_node(project: Path, code: str, bridge: Bridge) -> str:
    script = project / "example.js"  # beside node_modules, so require() finds them
    script.write_text(code)
    proc = await asyncio.create_subprocess_exec(  # not subprocess.run: the bridge is on this loop
        "node", str(script), cwd=ROOT, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, "VOICECORE_GRPC_ADDR": bridge.address})
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    return out.decode().strip()


async def test_the_readme_node_example_runs_as_written(
        bus: Bus, email_worker: Worker, bridge: Bridge, node_project: Path) -> None:
    code, prints = readme_node_example()
    assert STRUCT_PARAMS in code
    assert await run_node(node_project, code, bridge) == prints
    [requested, _] = await stored_events(bus, "vc.ev.c42.>")
    assert requested.data.deadline  # the example's gRPC deadline travels with the request
    # The mistake the README warns about: a plain object arrives as empty params and is
    # answered INVALID_PARAMS naming the field, never run.
    plain = await run_node(node_project, code.replace(STRUCT_PARAMS, PLAIN_PARAMS), bridge)
    assert plain.startswith("INVALID_PARAMS capture_email: params.transcript is required")
    assert len(await stored_events(bus, "vc.ev.c42.>")) == 2
