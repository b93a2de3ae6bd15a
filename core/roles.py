"""The roles of ``voicecore up`` that run as supervised child processes.

``up`` runs the event-log sink and the workers each in a child process, apart from
the gRPC bridge: in one process they shared one interpreter lock and one event
loop, and each call's worker, bridge and log work queued behind each other
(README, Benchmarks). A child shares nothing with ``up`` but NATS (and the sink
the log file). ``up`` waits for its ready line; if it dies it is restarted after a pause; at stop
it gets SIGTERM (it finishes or naks its in-flight work) and is waited for. It
starts in its own session (Ctrl-C reaches ``up``, which stops the roles in order)
and gets SIGTERM from the kernel if ``up`` dies, even by SIGKILL, so no orphan
keeps working.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Iterable
from pathlib import Path

from core.config import WorkerOptions
from core.errors import VoiceCoreError
from core.natsserver import stop_with_parent
from core.primitive import Primitive

log = logging.getLogger(__name__)
RESTART_PAUSE_S = 1.0
STOP_TIMEOUT_S = 30.0


def worker_role(nats_url: str, primitives: Iterable[Primitive], options: WorkerOptions,
                plugins: Iterable[str] = ()) -> ChildRole:
    """``voicecore worker`` serving ``primitives`` with ``options``; the URL (it may
    hold credentials) and the plugin modules go through the environment, not argv."""
    command = [sys.executable, "-m", "core.cli", "worker", *(p.name for p in primitives),
               "--concurrency", str(options.concurrency), "--ack-wait", str(options.ack_wait_s),
               "--max-deliver", str(options.max_deliver)]
    env = {**os.environ, "VOICECORE_NATS_URL": nats_url,
           "VOICECORE_PLUGINS": ",".join(plugins)}
    return ChildRole("worker", command, env, ready="voicecore ready")


def sink_role(nats_url: str, data_dir: Path) -> ChildRole:
    """``python -m core.eventlog sink``: the event log of ``data_dir`` (URL in the environment)."""
    command = [sys.executable, "-m", "core.eventlog", "sink", "--data-dir", str(data_dir)]
    env = {**os.environ, "VOICECORE_NATS_URL": nats_url}
    return ChildRole("event log", command, env, ready="eventlog ready")


class ChildRole:
    """``await role.start()`` (until its ready line), then watched and restarted until
    ``await role.stop()``."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], *,
                 ready: str) -> None:
        self.name = name
        self.ready = ready
        self.command = command
        self.env = env
        self.restarts = 0
        self.process: asyncio.subprocess.Process | None = None
        self._stopping = False
        self._watch: asyncio.Task[None] | None = None
        self._discard: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._spawn()
        self._watch = asyncio.create_task(self._restart_when_dead(), name=f"{self.name} watch")

    async def stop(self) -> None:
        self._stopping = True
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        await self._end_process()

    async def _spawn(self) -> None:
        self.process = process = await asyncio.create_subprocess_exec(
            *self.command, env=self.env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, start_new_session=True,
            preexec_fn=stop_with_parent)
        assert process.stdout is not None
        line = (await process.stdout.readline()).decode(errors="replace")
        if not line.startswith(self.ready):  # it said why on stderr (ours)
            code = await process.wait()
            raise VoiceCoreError(f"the {self.name} process exited at start (status {code})")
        self._discard = asyncio.create_task(_read_to_end(process.stdout))

    async def _restart_when_dead(self) -> None:
        while not self._stopping:
            assert self.process is not None
            code = await self.process.wait()
            log.error("the %s process exited (status %s); restarting it in %.0f s",
                      self.name, code, RESTART_PAUSE_S)
            await asyncio.sleep(RESTART_PAUSE_S)
            try:
                await self._spawn()
            except VoiceCoreError as exc:
                log.error("%s", exc)  # the next turn of the loop tries again
            else:
                self.restarts += 1

    async def _end_process(self) -> None:
        process = self.process
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):  # exited, not yet reaped
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                log.error("the %s process did not stop in %.0f s; killed",
                          self.name, STOP_TIMEOUT_S)
                process.kill()
                await process.wait()
        if self._discard is not None:
            await self._discard


async def _read_to_end(stream: asyncio.StreamReader) -> None:
    """Read what the child prints after its ready line (``voicecore stopped``), unshown."""
    while await stream.readline():
        pass
