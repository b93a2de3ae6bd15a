"""How a worker's own process runs (``voicecore worker``, as ``up`` starts one per role)."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from voicecore import cli
from voicecore.loop import SETTLED_GC_THRESHOLDS


def test_a_worker_runs_on_uvloop_with_the_collector_settled(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, restored_gc: None) -> None:
    seen: dict[str, Any] = {}

    async def serve(*args: Any, **kwargs: Any) -> None:
        seen["role"] = kwargs.get("role")
        seen["loop"] = type(asyncio.get_running_loop()).__module__
        seen["thresholds"] = gc.get_threshold()
        seen["frozen"] = gc.get_freeze_count()

    monkeypatch.setattr(cli, "serve_until_signalled", serve)
    done = CliRunner().invoke(cli.app, ["worker", "capture_email",
                                        "--nats-url", "nats://127.0.0.1:1",
                                        "--data-dir", str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert seen["role"] == "worker"
    assert seen["loop"].startswith("uvloop")
    assert seen["thresholds"] == SETTLED_GC_THRESHOLDS  # Python's own are (700, 10, 10)
    assert seen["frozen"] > 10_000  # the imports: out of every later collection
