"""How the sink's own process runs (``python -m voicecore.log_sink``, started by ``up``)."""

from __future__ import annotations

import asyncio
import gc
import sys
from pathlib import Path
from typing import Any

import pytest

from core.eventlog.sink import SinkOptions
from core.natsauth import NatsAuth
from voicecore import log_sink
from voicecore.loop import SETTLED_GC_THRESHOLDS


def test_the_sink_process_runs_on_uvloop_with_the_collector_settled(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, restored_gc: None) -> None:
    seen: dict[str, Any] = {}

    async def serve(nats_url: str, data_dir: Path, options: SinkOptions, auth: NatsAuth) -> None:
        seen["user"] = auth.user
        seen["loop"] = type(asyncio.get_running_loop()).__module__
        seen["thresholds"] = gc.get_threshold()
        seen["frozen"] = gc.get_freeze_count()

    monkeypatch.setattr(log_sink, "serve", serve)
    monkeypatch.setenv("VOICECORE_NATS_USER", "voicecore-sink")  # how `up` hands it over
    monkeypatch.setenv("VOICECORE_NATS_PASSWORD", "not-a-real-one")
    monkeypatch.setattr(sys, "argv", ["log_sink", "--nats-url", "nats://127.0.0.1:1",
                                      "--data-dir", str(tmp_path)])
    log_sink.main()
    assert seen["user"] == "voicecore-sink"
    assert seen["loop"].startswith("uvloop")  # was asyncio's own loop
    assert seen["thresholds"] == SETTLED_GC_THRESHOLDS
    assert seen["frozen"] > 10_000  # the imports: out of every collection
