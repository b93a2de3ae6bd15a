"""Composition of the long-lived parts, started in order and stopped in reverse.

First every setting that can be checked is (``check_settings``: URL, data directory,
ports), so nothing starts when something would fail later. Start: embedded nats-server
(unless a URL is given) → connection → streams →
one worker per primitive → the gRPC bridge (``voicecore up``); with
``event_log``, the DuckDB file opens before the connection and the sink starts
before the workers. With ``separate`` (``voicecore up``), the sink and the workers
each run in a supervised child process instead (:mod:`voicecore.roles`), in the same order.
Stop (``AsyncExitStack``, last in first out): bridge health
NOT_SERVING and gRPC stop with a grace period → workers (or their process, on
SIGTERM) finish or nak in-flight work → the sink stores and acks what it fetched →
the connection drains → the DuckDB file closes → the server exits.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

# These register the built-in primitives: the four captures, and transcribe.
import core.captures
import core.transcribe  # noqa: F401
from core import primitive as registry
from core import tracing
from core.audiostore import AudioStore
from core.bus import Bus
from core.config import (
    Settings,
    check_listen_address,
    data_dir_problem,
    nats_url_problem,
    prepare_data_dir,
    split_host_port,
)
from core.errors import ConfigError
from core.natsserver import EmbeddedNats
from core.primitive import Primitive
from core.synthesize import SYNTHESIZER  # (registers synthesize)
from core.transcribe_stream import LISTENER  # noqa: F401  (registers transcribe_stream)
from core.tts.settings import TtsSettings
from core.worker import Worker
from voicecore.roles import ChildRole, orchestrator_role, sink_role, worker_role

log = logging.getLogger(__name__)


@dataclass
class Running:
    settings: Settings
    nats_url: str
    bus: Bus
    workers: list[Worker] = field(default_factory=list)
    """The workers running in this process."""
    primitives: list[str] = field(default_factory=list)
    """Names of the primitives served, in this process or in ``worker_process``."""
    children: list[ChildRole] = field(default_factory=list)
    """The roles running as child processes (``separate``)."""
    server: EmbeddedNats | None = None
    bridge: Any = None
    """The gRPC bridge (``bridge.server.Bridge``) when one was started."""
    event_log: Any = None
    """The event log sink (``core.eventlog.sink.Sink``) when one was started."""


def select_primitives(names: Iterable[str] | None) -> list[Primitive]:
    """The named primitives (all registered ones when ``names`` is empty)."""
    wanted = list(names or [])
    if not wanted:
        return registry.all_primitives()
    chosen = []
    for name in wanted:
        prim = registry.get(name)
        if prim is None:
            known = ", ".join(p.name for p in registry.all_primitives())
            raise ConfigError(f"unknown primitive {name!r} (known: {known})")
        chosen.append(prim)
    return chosen


def check_settings(settings: Settings, *, grpc_bridge: bool, event_log: bool) -> None:
    """Every problem that can be seen before anything starts, all in one one-line error:
    a malformed NATS URL, an unusable data directory, a taken NATS or gRPC port (so a user
    fixes them in one go, rather than learning of the gRPC port after NATS started).
    Then create the data directory when this process uses it."""
    uses_data_dir = settings.embedded or event_log
    problems = [
        "--nats-tls is for the embedded server: with --nats-url pass --nats-tls-ca (and "
        "--nats-tls-cert/--nats-tls-key)" if settings.nats_tls and not settings.embedded
        else None,
        nats_url_problem(settings.nats_url) if settings.nats_url is not None else None,
        _data_dir_problem(settings) if uses_data_dir else None,
        _embedded(settings).port_problem() if settings.embedded else None,
        _grpc_problem(settings) if grpc_bridge else None,
    ]
    found = [problem for problem in problems if problem]
    if found:
        raise ConfigError("; ".join(found))
    if uses_data_dir:
        prepare_data_dir(settings.data_dir)


def _embedded(settings: Settings, primitives: Iterable[Primitive] = ()) -> EmbeddedNats:
    return EmbeddedNats(settings.data_dir, settings.nats_host, settings.nats_port,
                        auth=not settings.nats_no_auth, primitives=[p.name for p in primitives],
                        tls=settings.nats_tls)


def _data_dir_problem(settings: Settings) -> str | None:
    problem = data_dir_problem(settings.data_dir)
    return f"{problem}: pass --data-dir DIR" if problem else None


_ANY_HOST = {"", "0.0.0.0", "::", "[::]"}
_LOOPBACK = {"127.0.0.1", "localhost"}


def _grpc_problem(settings: Settings) -> str | None:
    addr = settings.grpc_addr
    try:  # the bridge runs this check again when it starts
        host, port = split_host_port(addr)
        if port > 65535:
            return f"gRPC address {addr!r}: the port must be at most 65535"
        if settings.embedded and port == settings.nats_port and _same_host(
                host, settings.nats_host):
            return (f"--grpc-addr {addr} and --nats-port {port} are the same port: "
                    "pick another for one of them")
        check_listen_address(addr)
        if settings.grpc_tls is not None:  # its files read, or one line naming the flag
            from bridge.tls import server_credentials

            server_credentials(settings.grpc_tls)
    except ConfigError as exc:
        return str(exc)
    return None


def _same_host(a: str, b: str) -> bool:
    """Whether listening on ``a`` and ``b`` with the same port would clash."""
    return a == b or bool({a, b} & _ANY_HOST) or {a, b} <= _LOOPBACK


@asynccontextmanager
async def running(
    settings: Settings, primitives: Iterable[Primitive] | None = None, *,
    grpc_bridge: bool = False, event_log: bool = False,
    separate: SeparateProcesses | None = None, role: str = "admin",
    tts: TtsSettings | None = None,
) -> AsyncIterator[Running]:
    """``role``: the NATS identity of this process's connection (core/natsperms.py); the
    default, admin, is for everything in one process (tests, embedding). ``tts``: how
    ``synthesize`` speaks (``--tts-engine`` …); ``None``: from the ``VOICECORE_*``
    environment when first needed."""
    tracing.provider()  # a bad VOICECORE_TRACE_EXPORTER fails here, before anything starts
    check_settings(settings, grpc_bridge=grpc_bridge, event_log=event_log)
    chosen = registry.all_primitives() if primitives is None else list(primitives)
    async with AsyncExitStack() as stack:
        server: EmbeddedNats | None = None
        url = settings.nats_url
        if url is None:
            server = _embedded(settings, chosen)
            url = await server.start()
            stack.push_async_callback(server.stop)
        database = None
        if event_log and separate is None:  # opened before the bus: closes after NATS drained
            from core.eventlog.database import LogDatabase
            from orchestrator.views import VIEWS

            database = await stack.enter_async_context(
                await LogDatabase.open(settings.data_dir, views=VIEWS))
        if separate is not None:  # the streams as configured: the admin's right alone
            await _update_streams(settings, url)
        bus = await Bus.connect(url, auth=settings.identity(role))
        stack.push_async_callback(bus.drain)
        await bus.ensure_streams(settings.streams, update=role == "admin")
        if role == "admin":
            await AudioStore(bus).ensure(settings.streams.audio_ttl_s)
        state = Running(settings=settings, nats_url=url, bus=bus, server=server)
        if event_log and separate is not None:  # the sink before the workers, as below
            await _start_child(stack, state,
                               sink_role(url, settings.data_dir, settings.identity("sink")))
        if database is not None:  # stops after the workers, so it stores their last results
            from core.eventlog.sink import Sink

            state.event_log = await stack.enter_async_context(Sink(bus, database, nats_url=url))
        state.primitives = [p.name for p in chosen]
        if separate is not None:
            await _start_child(stack, state, worker_role(
                url, chosen, settings.worker, separate.plugins, settings.identity("worker"),
                tts, settings.data_dir, dict(separate.settings_env)))
        else:
            if tts is not None:
                SYNTHESIZER.configure(tts)
            await _start_workers(state, chosen)
            stack.push_async_callback(_stop_workers, state.workers)
        if grpc_bridge:
            from bridge.server import BridgeOptions, serve_bridge

            # the bridge checks voices against the same catalogue as the workers speak from
            options = BridgeOptions(token=settings.grpc_token, tls=settings.grpc_tls,
                                    tts=tts)
            state.bridge = await stack.enter_async_context(
                serve_bridge(bus, settings.grpc_addr, options))
            if separate is not None and separate.orchestrator:  # after the bridge it calls
                await _start_orchestrator(stack, state, url)
        yield state


@dataclass(frozen=True)
class SeparateProcesses:
    """Run the sink and the workers each in a supervised child process (``voicecore up``)."""

    plugins: tuple[str, ...] = ()
    """Plugin modules the worker process imports (``--plugin``)."""
    settings_env: tuple[tuple[str, str], ...] = ()
    """The primitives' settings for the worker process, as ``VOICECORE_*`` variables."""
    orchestrator: bool = True
    """Run an orchestrator process too (``voicecore up --no-orchestrator``: not)."""


async def _update_streams(settings: Settings, url: str) -> None:
    """Create or update the streams and the audio bucket on a short admin connection (the
    bridge may not)."""
    admin = await Bus.connect(url, name="voicecore-admin", auth=settings.identity("admin"))
    try:
        await admin.ensure_streams(settings.streams)
        await AudioStore(admin).ensure(settings.streams.audio_ttl_s)
    finally:
        await admin.drain()


async def _start_child(stack: AsyncExitStack, state: Running, role: ChildRole) -> None:
    await role.start()
    stack.push_async_callback(role.stop)
    state.children.append(role)


async def _start_orchestrator(stack: AsyncExitStack, state: Running, url: str) -> None:
    settings = state.settings
    if settings.grpc_tls is not None:  # its client would need the bridge's CA (and a
        # client certificate for mutual TLS), which up does not have
        log.warning("no orchestrator process: the bridge serves TLS; run `voicecore "
                    "orchestrator --grpc-tls-ca …` against it")
        return
    await _start_child(stack, state, orchestrator_role(
        url, state.bridge.address, settings.identity("orchestrator"), settings.grpc_token,
        settings.data_dir))


async def _start_workers(state: Running, primitives: list[Primitive]) -> None:
    for prim in primitives:
        worker = Worker(state.bus, prim, state.settings.worker)
        await worker.start()
        state.workers.append(worker)


async def _stop_workers(workers: list[Worker]) -> None:
    await asyncio.gather(*(w.stop() for w in workers))


async def serve_until_signalled(
    settings: Settings,
    primitives: Iterable[Primitive] | None,
    on_ready: Callable[[Running], None],
    *,
    grpc_bridge: bool = False,
    event_log: bool = False,
    separate: SeparateProcesses | None = None,
    role: str = "admin",
    tts: TtsSettings | None = None,
) -> None:
    """Run until SIGINT/SIGTERM, then stop in order."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with running(settings, primitives, grpc_bridge=grpc_bridge,
                           event_log=event_log, separate=separate, role=role,
                           tts=tts) as state:
            on_ready(state)
            await stop.wait()
            log.info("stopping")
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
