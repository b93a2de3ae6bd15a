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
from collections.abc import Iterable, Mapping
from pathlib import Path

from core.config import DATA_DIR_ENV, WorkerOptions
from core.errors import VoiceCoreError
from core.natsauth import NatsAuth, without_auth_env
from core.natsserver import stop_with_parent
from core.pause import pause, stop_tasks
from core.primitive import Primitive
from core.tts.settings import TtsSettings

log = logging.getLogger(__name__)
RESTART_PAUSE_S = 1.0
STOP_TIMEOUT_S = 30.0


def worker_role(nats_url: str, primitives: Iterable[Primitive], options: WorkerOptions,
                plugins: Iterable[str] = (), auth: NatsAuth | None = None,
                tts: TtsSettings | None = None, data_dir: Path | None = None,
                settings_env: Mapping[str, str] | None = None) -> ChildRole:
    """``voicecore worker`` serving ``primitives`` with ``options`` as ``auth``; the URL,
    the credentials, the plugin modules, the text-to-speech settings, the data directory
    (pulled voices) and the other primitives' settings (``settings_env``:
    ``VOICECORE_STT_*``) go through the environment, never argv (which ``ps`` shows to
    every user)."""
    command = [sys.executable, "-m", "voicecore", "worker", *(p.name for p in primitives),
               "--concurrency", str(options.concurrency), "--ack-wait", str(options.ack_wait_s),
               "--max-deliver", str(options.max_deliver)]
    env = {**child_env(nats_url, auth), **(settings_env or {}),
           "VOICECORE_PLUGINS": ",".join(plugins),
           **(tts.env() if tts is not None else {}),
           **({DATA_DIR_ENV: str(data_dir)} if data_dir is not None else {})}
    return ChildRole("worker", command, env, ready="voicecore ready")


def sink_role(nats_url: str, data_dir: Path, auth: NatsAuth | None = None) -> ChildRole:
    """``python -m voicecore.log_sink``: the event log of ``data_dir`` as ``auth`` (URL and
    credentials in the environment)."""
    command = [sys.executable, "-m", "voicecore.log_sink", "--data-dir", str(data_dir)]
    return ChildRole("event log", command, child_env(nats_url, auth), ready="eventlog ready")


def orchestrator_role(nats_url: str, grpc_addr: str, auth: NatsAuth | None = None,
                      grpc_token: str | None = None, data_dir: Path | None = None
                      ) -> ChildRole:
    """``voicecore orchestrator`` against ``up``'s own bridge at ``grpc_addr`` (the URL,
    the credentials, the bridge's token and ``up``'s data directory through the
    environment: a child never falls back to the default data directory's credentials)."""
    command = [sys.executable, "-m", "voicecore", "orchestrator", "--grpc-addr", grpc_addr]
    env = {**child_env(nats_url, auth),
           **({"VOICECORE_GRPC_TOKEN": grpc_token} if grpc_token else {}),
           **({DATA_DIR_ENV: str(data_dir)} if data_dir is not None else {})}
    return ChildRole("orchestrator", command, env, ready="voicecore ready")


def child_env(nats_url: str, auth: NatsAuth | None) -> dict[str, str]:
    """Our environment with the child's own URL and identity in place of any other."""
    return {**without_auth_env(os.environ), "VOICECORE_NATS_URL": nats_url,
            **(auth or NatsAuth()).to_env()}


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
        self._readers: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self._spawn()
        self._watch = asyncio.create_task(self._restart_when_dead(), name=f"{self.name} watch")

    async def stop(self) -> None:
        self._stopping = True
        await stop_tasks(self._watch)
        await self._end_process()

    async def _spawn(self) -> None:
        pipe = asyncio.subprocess.PIPE
        self.process = process = await asyncio.create_subprocess_exec(
            *self.command, env=self.env, stdin=asyncio.subprocess.DEVNULL, stdout=pipe,
            stderr=pipe, start_new_session=True, preexec_fn=stop_with_parent)
        assert process.stdout is not None and process.stderr is not None
        relay = _StderrRelay(process.stderr)
        line = (await process.stdout.readline()).decode(errors="replace")
        if not line.startswith(self.ready):
            code = await process.wait()
            await relay.task
            raise VoiceCoreError(relay.error() or
                                 f"the {self.name} process exited at start (status {code})")
        relay.pass_on()
        self._readers = [relay.task, asyncio.create_task(_read_to_end(process.stdout))]

    async def _restart_when_dead(self) -> None:
        while not self._stopping:
            assert self.process is not None
            code = await self.process.wait()
            log.error("the %s process exited (status %s); restarting it in %.0f s",
                      self.name, code, RESTART_PAUSE_S)
            await pause(RESTART_PAUSE_S)
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
        await asyncio.gather(*self._readers)


class _StderrRelay:
    """A child's stderr (its logs), held until it is ready and passed on to ours after.

    If it fails to start, its one ``voicecore: error: …`` line becomes ``up``'s error,
    so a failed start still ends in one line.
    """

    PREFIX = "voicecore: error: "

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.held: list[str] = []
        self.passing = False
        self.task = asyncio.create_task(self._relay(stream))

    async def _relay(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            self.held.append(line.decode(errors="replace"))
            if self.passing:
                self.pass_on()

    def pass_on(self) -> None:
        self.passing = True
        sys.stderr.writelines(self.held)
        sys.stderr.flush()
        self.held = []

    def error(self) -> str | None:
        """The child's error line (its other lines passed on), if it wrote one."""
        errors = [line for line in self.held if line.startswith(self.PREFIX)]
        self.held = [line for line in self.held if line not in errors]
        self.pass_on()
        return errors[-1].removeprefix(self.PREFIX).strip() if errors else None


async def _read_to_end(stream: asyncio.StreamReader) -> None:
    """Read what the child prints after its ready line (``voicecore stopped``), unshown."""
    while await stream.readline():
        pass
