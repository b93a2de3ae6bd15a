"""Running the real ``voicecore`` CLI as child processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.natsauth import NatsAuth, identity

ROOT = Path(__file__).parents[2]


def admin(data_dir: Path) -> NatsAuth:
    """The admin identity ``voicecore up`` generated in ``data_dir`` (for test clients)."""
    return identity("admin", NatsAuth(), data_dir)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def voicecore(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start ``voicecore ARGS`` from the repo root (so ``tests.support.plugin`` imports)."""
    with ctrl_c_as_from_a_terminal():
        return subprocess.Popen(
            [sys.executable, "-m", "voicecore", *args], cwd=ROOT, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, "VOICECORE_LOG_LEVEL": "WARNING", **(env or {})},
        )


@contextmanager
def ctrl_c_as_from_a_terminal() -> Iterator[None]:
    """Children started meanwhile take Ctrl-C (SIGINT) as from a terminal, whoever started
    the tests.

    A process started in the background by a shell without job control ignores SIGINT,
    and so does every child it starts (an ignored signal is inherited across exec): a
    test's Ctrl-C then did not stop ``voicecore events`` or grpcurl, and the suite waited.
    A handler, unlike an ignored signal, is reset to the default at exec.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers are set from the main thread only
        return
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run(*args: str, timeout: float = 60,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "voicecore", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=timeout, check=False,
                          env={**os.environ, **(env or {})})


def wait_ready(proc: subprocess.Popen[str], timeout: float = 30) -> str:
    """The ready line; fails with the process's stderr when it exits instead."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    line = proc.stdout.readline()
    if "ready" not in line or time.monotonic() > deadline:
        proc.kill()
        _, err = proc.communicate(timeout=10)
        raise AssertionError(f"not ready: {line!r}\n{err}")
    return line


def stop(
    proc: subprocess.Popen[str], sig: int = signal.SIGTERM, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """Signal the process, collect its exit status and the rest of its output."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:  # never leave it running behind the failure
        proc.kill()
        proc.communicate()
        raise AssertionError(f"signal {sig} did not stop {proc.args!r}") from None
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def worker(url: str, *extra: str) -> subprocess.Popen[str]:
    proc = voicecore("worker", *extra, "--nats-url", url, "--plugin", "tests.support.plugin")
    wait_ready(proc)
    return proc


@contextmanager
def started(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``voicecore ARGS`` until its ready line; killed on the way out if a test failed early."""
    with supervised(voicecore(*args)) as started_child:
        yield started_child


@contextmanager
def supervised(child: subprocess.Popen[str]) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A started process and its ready line; killed on the way out if a test failed early."""
    line = wait_ready(child)
    try:
        yield child, line
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate(timeout=10)
