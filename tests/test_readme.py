"""The README's examples, run as written against a real `voicecore up` (issue 7, item 12).

Every fenced block of README.md is picked up (tests/support/readme.py), in README order,
so an example added later is run too; a kind of example this test cannot run fails it
until it is handled here or listed, with the reason, in ``NOT_RUN``. What differs from a
reader's machine, and why:

* `voicecore up` listens on free ports (``--nats-port``, ``--grpc-addr`` added) and keeps
  its data in a temporary directory (``VOICECORE_DATA_DIR``); the other commands find it
  through the documented variables (``VOICECORE_GRPC_ADDR``, ``VOICECORE_NATS_URL``,
  ``VOICECORE_DATA_DIR``), and grpcurl and the Python example get the address swapped in.
* `voicecore` is the console script of the virtualenv running the tests, which is what
  `. .venv/bin/activate` puts on PATH; `grpcurl` is the real binary (dev extra).
* The `nats` CLI is not on PyPI (`pip download natscli` finds nothing), so its lines are
  checked with nats-py against the same server: each `sub` filter receives the published
  request and its result, each stream and consumer named exists, `pub` is published with
  its headers and is answered.
* Synopsis lines (``[--json]``, ``parquet|jsonl``) run in their simplest form.
* `voicecore log redact` runs after everything else: it removes the conversation's values,
  after which `replay --rerun` refuses that conversation, as the README says.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import itertools
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec
import nats
import pytest

from core import primitive as registry
from core.bus import Bus
from core.natsauth import NatsAuth
from tests.support import proc
from tests.support.readme import Block, Command, blocks, commands, minimal
from tests.support.streams import results_for, wait_for_events
from voicecore.call_commands import params_types, parse_params

README = proc.ROOT / "README.md"
BIN = Path(sys.executable).parent
DOC_NATS, DOC_GRPC = "127.0.0.1:4222", "50051"
NOT_RUN = {
    "": "not an example (the layout tree)",
    "js": "the Node example has its own test",
    "javascript": "the Node example has its own test",
    "toml": "price tables: tests/test_eventlog_usage.py loads them",
}
NOT_RUN_PROGRAMS = {
    "grpc_health_probe": "not on PyPI; the same grpc.health.v1 Check is run with grpcurl",
    "node": "the Node example has its own test",
    "npm": "the Node example has its own test",
}
STREAMING_WAIT_S = 60.0
"""Bound for a streaming example's first event; reached only when it is broken."""


class Setup:
    """The running `voicecore up` and how each example reaches it."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.data_dir = work / "data"
        shutil.copytree(proc.ROOT / "flows", work / "flows")  # examples name flows/*.yaml
        self.nats_port = proc.free_port()
        self.grpc = f"127.0.0.1:{proc.free_port()}"
        self.nats_url = f"nats://127.0.0.1:{self.nats_port}"
        self.env = {**os.environ, "VOICECORE_DATA_DIR": str(self.data_dir),
                    "VOICECORE_GRPC_ADDR": self.grpc, "VOICECORE_NATS_URL": self.nats_url,
                    "XDG_CONFIG_HOME": str(work / "config")}  # where `nats` contexts go

    @property
    def admin(self) -> NatsAuth:
        return proc.admin(self.data_dir)

    def swap_address(self, text: str) -> str:
        for doc in (f"localhost:{DOC_GRPC}", f"127.0.0.1:{DOC_GRPC}"):
            text = text.replace(doc, self.grpc)
        return text


def test_every_readme_block_is_run_or_listed_as_not_run() -> None:
    langs = {b.lang for b in blocks(README)}
    assert langs <= {"sh", "console", "python", "json", *NOT_RUN}, langs


def test_readme_event_examples_decode() -> None:
    from schemas import events

    for block in blocks(README):
        if block.lang == "json":
            events.decode(block.text.encode())


def test_readme_examples_work_as_written(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    examples = [b for b in blocks(README) if b.lang in ("sh", "console", "python")]
    [up] = [c for b in examples if b.lang != "python" for c in commands(b)
            if c.argv[:2] == ("voicecore", "up")]
    with _up(setup, up):
        deferred: list[Command] = []
        for block in examples:
            if block.lang == "python":
                _python(setup, block)
                continue
            runnable = [c for c in commands(block) if c != up]
            nats_lines = [c for c in runnable if c.argv[0] == "nats"]
            if nats_lines:  # the block's `voicecore nats-context` lines write the contexts
                contexts = [c for c in runnable if c.argv[:2] == ("voicecore", "nats-context")]
                for command in contexts:
                    _run(setup, command)
                runnable = [c for c in runnable if c not in contexts]
                asyncio.run(_nats(setup, nats_lines))
            for command in runnable:
                if command.argv[:3] == ("voicecore", "log", "redact"):
                    deferred.append(command)
                elif command.argv[0] != "nats":
                    _run(setup, command)
        for command in deferred:
            _run(setup, command)


@pytest.fixture(autouse=True)
def _no_stray_token(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("VOICECORE_GRPC_TOKEN", "VOICECORE_PLUGINS"):
        monkeypatch.delenv(name, raising=False)


@contextmanager
def _up(setup: Setup, command: Command) -> Iterator[None]:
    """The README's `voicecore up`, on this test's ports; its ready line is the documented
    one with the ports and the data directory swapped in."""
    env = {k: v for k, v in setup.env.items() if k != "VOICECORE_NATS_URL"}
    argv = [str(BIN / "voicecore"), *command.argv[1:], "--nats-port", str(setup.nats_port),
            "--grpc-addr", setup.grpc]
    child = subprocess.Popen(argv, cwd=setup.work, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with proc.supervised(child) as (up, ready):
        [documented] = command.output
        expected = setup.swap_address(documented).replace(DOC_NATS,
                                                          f"127.0.0.1:{setup.nats_port}")
        expected = expected.rsplit("data: ", 1)[0] + f"data: {setup.data_dir}"
        assert ready.strip() == expected, command.where
        yield
        stopped = proc.stop(up)
        assert stopped.returncode == 0, stopped.stderr


def _run(setup: Setup, command: Command) -> None:
    program = command.argv[0]
    if program in NOT_RUN_PROGRAMS:
        return _not_run(setup, command)
    runners: dict[str, Callable[[Setup, Command], None]] = {
        "voicecore": _voicecore, "grpcurl": _grpcurl, "make": _make, ".": _activate}
    assert program in runners, f"{command.where}: an example this test cannot run yet"
    runners[program](setup, command)


def _not_run(setup: Setup, command: Command) -> None:
    if command.argv[0] == "grpc_health_probe":
        done = _grpcurl_run(setup, ["-plaintext", setup.grpc, "grpc.health.v1.Health/Check"])
        assert json.loads(done.stdout) == {"status": "SERVING"}, command.where


def _voicecore(setup: Setup, command: Command) -> None:
    argv = [str(BIN / "voicecore"), *minimal(command.argv)[1:]]
    if argv[1] in ("log", "replay"):
        asyncio.run(_logged(setup))  # the sink stores asynchronously: let it catch up
    if argv[1] == "events":
        first = _first_output(argv, setup, lambda line: line.startswith("{"), command)
        assert json.loads(first)["conversation_id"] == "c42", command.where
        return
    done = subprocess.run(argv, cwd=setup.work, env=setup.env, text=True,
                          capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, (command.where, done.stdout, done.stderr)
    _documented_output(command, done.stdout)
    if argv[1] == "say":  # the file it wrote plays
        from core.audio import decode

        written = setup.work / argv[argv.index("-o") + 1]
        assert decode(written.read_bytes()).duration_s > 0.5, command.where
    if argv[1] == "exec" and argv[2] != "synthesize":  # speech differs on every run (Piper):
        # its documented output lines are what is checked
        pairs = [value for flag, value in itertools.pairwise(argv) if flag == "--param"]
        params = parse_params(pairs, params_types(argv[2]))
        _check_execution(json.loads(done.stdout), argv[2], params, command)


def _documented_output(command: Command, stdout: str) -> None:
    lines = stdout.splitlines()
    for expected in command.output:
        assert any(expected in line for line in lines), (command.where, expected, stdout)


def _check_execution(response: dict[str, Any], name: str, params: dict[str, Any],
                     command: Command) -> None:
    """The response succeeded and carries what the primitive itself makes of the params."""
    assert response.get("success") is True, (command.where, response)
    prim = registry.get(name)
    assert prim is not None
    data_type = next(f.type for f in msgspec.structs.fields(prim.requested) if f.name == "data")
    request = msgspec.convert({"params": params}, data_type)
    expected = asyncio.run(prim.execute(request.params))
    assert response["data"]["value"] == expected.value, (command.where, response)


def _grpcurl(setup: Setup, command: Command) -> None:
    args = [setup.swap_address(a) for a in command.argv[1:]]
    if args[-1].endswith("/StreamEvents"):
        first = _first_output([str(BIN / "grpcurl"), *args], setup,
                              lambda line: '"type":' in line, command)
        assert first.strip().startswith('"type":'), command.where
        return
    done = _grpcurl_run(setup, args)
    assert done.returncode == 0, (command.where, done.stderr)
    if args[-1] == "list":
        assert "voicecore.v1.VoiceCore" in done.stdout.split(), command.where
    elif args[-1].endswith("/HealthCheck"):
        assert json.loads(done.stdout)["status"] == "SERVING", command.where
    elif "voicecore.v1.AudioService" in args[-1]:
        _check_audio_service(args, done.stdout, command)
    elif args[-1].endswith("/ExecutePrimitive"):
        sent = json.loads(args[args.index("-d") + 1])
        response = json.loads(done.stdout)
        _check_execution(response, sent["objective_type"], sent["params"], command)
        if "-H" in args and args[args.index("-H") + 1].startswith("trace-id:"):
            trace = args[args.index("-H") + 1].split(":", 1)[1].strip()
            assert response["metadata"]["trace_id"] == trace, command.where


def _check_audio_service(args: list[str], stdout: str, command: Command) -> None:
    """What each AudioService example answers: the service described, voices as
    filtered, audio chunks that decode (the last one final)."""
    from core.audio import decode

    method = args[-1].rsplit("/", 1)[-1]
    sent = json.loads(args[args.index("-d") + 1]) if "-d" in args else {}
    if method == "voicecore.v1.AudioService":  # describe
        assert "rpc TextToSpeech" in stdout, command.where
    elif method == "ListVoices":
        voices = json.loads(stdout)["voices"]
        assert voices and {v["language"] for v in voices} == {sent["language"]}, command.where
    elif method == "GetVoice":
        assert json.loads(stdout)["id"] == sent["voice_id"], command.where
    elif method == "TextToSpeech":
        decoder, chunks, rest = json.JSONDecoder(), [], stdout.strip()
        while rest:  # grpcurl prints one JSON object per message
            chunk, end = decoder.raw_decode(rest)
            chunks.append(chunk)
            rest = rest[end:].lstrip()
        assert chunks and chunks[-1].get("is_final") is True, command.where
        for chunk in chunks:
            assert decode(base64.b64decode(chunk["data"])).duration_s > 0, command.where
    else:
        raise AssertionError(f"{command.where}: an AudioService example not checked yet")


def _grpcurl_run(setup: Setup, args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "grpcurl"), *args], cwd=setup.work, text=True,
                          capture_output=True, timeout=60, check=False)


def _first_output(argv: list[str], setup: Setup, wanted: Callable[[str], bool],
                  command: Command) -> str:
    """Start a command that streams until stopped; its first line that is ``wanted``."""
    errors = setup.work / "stream.err"
    with errors.open("w") as err, proc.ctrl_c_as_from_a_terminal(), subprocess.Popen(
            argv, cwd=setup.work, env=setup.env, text=True, stdout=subprocess.PIPE,
            stderr=err) as child:
        lines: queue.Queue[str] = queue.Queue()
        pump = threading.Thread(target=_pump, args=(child, lines), daemon=True)
        pump.start()
        try:
            while True:
                line = lines.get(timeout=STREAMING_WAIT_S)
                assert line, f"{command.where}: ended without output: {errors.read_text()}"
                if wanted(line):
                    return line
        finally:
            child.send_signal(signal.SIGINT)  # what Ctrl-C does
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:  # never hang the suite on a child that lives on
                child.kill()
                raise AssertionError(f"{command.where}: Ctrl-C did not stop it") from None
            finally:
                pump.join()  # it reads to the end before the pipe is closed


def _pump(child: subprocess.Popen[str], lines: queue.Queue[str]) -> None:
    assert child.stdout is not None
    for line in child.stdout:
        lines.put(line)
    lines.put("")


def _make(setup: Setup, command: Command) -> None:
    # `make test` would run this very test again, and `make up` would never return: a dry
    # run checks that each target exists and what it runs.
    done = subprocess.run(["make", "-n", *command.argv[1:]], cwd=proc.ROOT, text=True,
                          capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, (command.where, done.stderr)
    target = command.argv[1]
    assert {"up": "voicecore up", "test": "pytest"}[target] in done.stdout, command.where


def _activate(setup: Setup, command: Command) -> None:
    # Sourcing changes the reader's shell, not a process; what it gives is the virtualenv's
    # bin directory on PATH, whose `voicecore` every other example here runs.
    assert command.argv == (".", ".venv/bin/activate"), command.where
    assert (BIN / "activate").is_file() and (BIN / "voicecore").is_file(), BIN


def _python(setup: Setup, block: Block) -> None:
    script = setup.work / f"readme_{block.line}.py"
    script.write_text(setup.swap_address(block.text))
    done = subprocess.run([sys.executable, str(script)], cwd=setup.work, text=True,
                          capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, (f"README.md:{block.line}", done.stderr)
    lines = done.stdout.splitlines()
    assert lines[0].startswith("john@gmail.com 0.9"), (f"README.md:{block.line}", lines)
    assert lines[-1].endswith(" capture_email.completed"), (f"README.md:{block.line}", lines)


async def _nats(setup: Setup, lines: list[Command]) -> None:
    """Each `nats --context NAME …` line through a connection made from that context file,
    as the `nats` CLI makes it (no wheel ships the CLI itself)."""
    buses: dict[str, Bus] = {}
    for command in lines:
        assert command.argv[1] == "--context", f"{command.where}: no --context"
        if command.argv[2] not in buses:
            buses[command.argv[2]] = await _from_context(setup, command.argv[2])
    calls = [(buses[c.argv[2]], dataclasses.replace(c, argv=(c.argv[0], *c.argv[3:])))
             for c in lines]
    admin = Bus(await nats.connect(setup.nats_url, **setup.admin.connect_options()))
    try:
        subs = [await bus.nc.subscribe(c.argv[2]) for bus, c in calls if c.argv[1] == "sub"]
        for bus in buses.values():  # subscribed at the server before anything is published
            await bus.nc.flush()
        published = [await _nats_pub(bus.nc, c) for bus, c in calls if c.argv[1] == "pub"]
        found = await wait_for_events(admin, lambda f: len(results_for(f, set(published)))
                                      == len(published))
        for result in results_for(found, set(published)):
            assert result.event_type.endswith(".completed"), result
        for sub in subs:  # each filter sees the request and its result
            for _ in range(2 * len(published)):
                await sub.next_msg(timeout=STREAMING_WAIT_S)
        for bus, command in calls:
            if command.argv[1:3] in (("stream", "view"), ("stream", "info")):
                info = await bus.js.stream_info(command.argv[3])
                assert command.argv[3] != "VC_EVENTS" or info.state.messages > 0
            elif command.argv[1:3] == ("consumer", "info"):
                await bus.js.consumer_info(command.argv[3], command.argv[4])
            else:
                assert command.argv[1] in ("sub", "pub"), f"{command.where}: not checked"
    finally:
        for bus in [*buses.values(), admin]:
            await bus.drain()


async def _from_context(setup: Setup, name: str) -> Bus:
    context = json.loads((setup.work / "config" / "nats" / "context" / f"{name}.json")
                         .read_text())
    nc = await nats.connect(context["url"], user=context["user"] or None,
                            password=context["password"] or None,
                            inbox_prefix=context["inbox_prefix"] or "_INBOX")
    return Bus(nc)


async def _nats_pub(nc: Any, command: Command) -> str:
    """Publish as `nats pub SUBJECT [--header K:V]… BODY` does; the request's id."""
    args = list(command.argv[2:])
    subject, body = args[0], args[-1]
    headers = {}
    for flag, value in zip(args[1:-1:2], args[2:-1:2], strict=True):
        assert flag == "--header", command.where
        key, _, text = value.partition(":")
        headers[key] = text.replace("$(uuidgen)", str(uuid.uuid4()))
    await nc.publish(subject, body.encode(), headers=headers)
    return str(json.loads(body)["id"])


async def _logged(setup: Setup) -> None:
    """Until the event log's sink has stored every event of the stream."""
    nc = await nats.connect(setup.nats_url, **setup.admin.connect_options())
    js = nc.jetstream()
    try:
        for _ in range(int(STREAMING_WAIT_S * 10)):
            consumers = [c for c in await js.consumers_info("VC_EVENTS")
                         if c.name.startswith("eventlog_")]
            if consumers and all(c.num_pending == 0 and c.num_ack_pending == 0
                                 for c in consumers):
                return
            await asyncio.sleep(0.1)
        raise AssertionError("the event log's sink did not catch up with the stream")
    finally:
        await nc.drain()
