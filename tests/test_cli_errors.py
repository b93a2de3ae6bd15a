"""Every `voicecore` command given a bad flag, value or path: one line, non-zero, no traceback.

The processes are the real CLI; nothing here needs a server, because each mistake must be
caught before anything is started or connected.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from core.config import nats_url_problem
from tests.support import proc

DROP_DAC = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
            "--bounding-set=-dac_override,-dac_read_search"]
"""Run a command as root but subject to file permissions (root bypasses them otherwise)."""


def one_line_error(done: subprocess.CompletedProcess[str], status: int = 1) -> str:
    """The single ``voicecore: error: …`` line of a failed command."""
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == status, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("voicecore: error: "), done.stderr
    return lines[0].removeprefix("voicecore: error: ")


def up(data_dir: Path, *extra: str) -> list[str]:
    return ["up", "--data-dir", str(data_dir), "--nats-port", str(proc.free_port()),
            "--grpc-addr", f"127.0.0.1:{proc.free_port()}", *extra]


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "a-file"
    path.write_text("not a directory")
    return path


def test_data_dir_under_a_regular_file(a_file: Path) -> None:
    line = one_line_error(proc.run(*up(a_file / "vc")))
    assert line == (f"data directory {a_file / 'vc'} cannot be created: {a_file} is not a "
                    "directory: pass --data-dir DIR")
    assert one_line_error(proc.run(*up(a_file))) == (
        f"data directory {a_file} is not a directory: pass --data-dir DIR")


def test_data_dir_whose_nats_directory_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "nats").write_text("in the way")
    line = one_line_error(proc.run(*up(tmp_path)))
    assert line == f"cannot start nats-server in {tmp_path / 'nats'}: Not a directory"


def test_nats_server_that_exits_at_start_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "nats").mkdir()
    (tmp_path / "nats" / "jetstream").write_text("in the way")
    line = one_line_error(proc.run(*up(tmp_path)))
    assert line.startswith("nats-server exited at start: ")
    assert line.endswith("[FTL] Can't start JetStream: storage directory is not a directory "
                         f"(log: {tmp_path / 'nats' / 'nats-server.log'})")


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[Path]:
    """A directory this user may not enter (mode 000)."""
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permissions cannot be enforced")
    path = tmp_path / "locked"
    path.mkdir(mode=0)
    yield path
    path.chmod(0o700)


def _as_user(*args: str) -> subprocess.CompletedProcess[str]:
    wrap = DROP_DAC if os.geteuid() == 0 else []
    return subprocess.run([*wrap, sys.executable, "-m", "voicecore", *args], cwd=proc.ROOT,
                          text=True, capture_output=True, timeout=60, check=False)


def test_unreadable_data_dir(locked: Path) -> None:
    assert one_line_error(_as_user(*up(locked)), status=2) == (
        f"Invalid value for '--data-dir': path '{locked}' is not readable. "
        "(see `voicecore up --help`)")
    assert one_line_error(_as_user(*up(locked / "vc"))) == (
        f"data directory {locked / 'vc'}: Permission denied: pass --data-dir DIR")


def test_both_port_clashes_in_one_message_before_anything_starts(tmp_path: Path) -> None:
    with _listening() as nats_port, _listening() as grpc_port:
        done = proc.run("up", "--data-dir", str(tmp_path), "--nats-port", str(nats_port),
                        "--grpc-addr", f"127.0.0.1:{grpc_port}")
    assert one_line_error(done) == (
        f"NATS port 127.0.0.1:{nats_port} is already in use: stop that server, or pass "
        "--nats-port N, or --nats-url URL to use it; "
        f"cannot listen on 127.0.0.1:{grpc_port} for gRPC (in use?): pass --grpc-addr")
    assert not (tmp_path / "nats").exists(), "nats-server was started before the check"


def test_grpc_clash_alone_is_found_before_nats_starts(tmp_path: Path) -> None:
    with _listening() as grpc_port:
        done = proc.run(*up(tmp_path)[:-1], f"127.0.0.1:{grpc_port}")
    assert one_line_error(done) == (
        f"cannot listen on 127.0.0.1:{grpc_port} for gRPC (in use?): pass --grpc-addr")
    assert not (tmp_path / "nats").exists(), "nats-server was started before the check"


def test_nats_and_grpc_on_the_same_port(tmp_path: Path) -> None:
    port = proc.free_port()
    done = proc.run("up", "--data-dir", str(tmp_path), "--nats-port", str(port),
                    "--grpc-addr", f"127.0.0.1:{port}")
    assert one_line_error(done) == (f"--grpc-addr 127.0.0.1:{port} and --nats-port {port} are "
                                    "the same port: pick another for one of them")


BAD_VALUES = {
    "nats url scheme": (["worker", "--nats-url", "http://x"],
                        "--nats-url 'http://x': the scheme must be one of nats, tls, ws, wss"),
    "nats url port": (["bridge", "--nats-url", "nats://h:99999"],
                      "--nats-url 'nats://h:99999': the port must be a number from 1 to 65535"),
    "nats url password": (["worker", "--nats-url", "nats://me:secret@h:0"],
                          "--nats-url 'nats://***@h:0': the port must be"),
    "nats url garbage, unreachable": (["worker", "--nats-url", "nats://127.0.0.1:1"],
                                      "NATS unavailable: "),
    "grpc addr of up": (["up", "--nats-url", "nats://127.0.0.1:1", "--grpc-addr", "nonsense"],
                        "gRPC address 'nonsense': use HOST:PORT"),
    "grpc port of up": (["up", "--nats-url", "nats://127.0.0.1:1",
                         "--grpc-addr", "127.0.0.1:99999"],
                        "gRPC address '127.0.0.1:99999': the port must be at most 65535"),
    "grpc addr of bridge": (["bridge", "--nats-url", "nats://127.0.0.1:1", "--grpc-addr", "x"],
                            "gRPC address 'x': use HOST:PORT"),
    "grpc addr of exec": (["exec", "capture_email", "--grpc-addr", "nonsense"],
                          "UNAVAILABLE: "),
    "grpc addr of events": (["events", "--grpc-addr", "nonsense"], "UNAVAILABLE: "),
    "unknown primitive": (["worker", "nope", "--nats-url", "nats://127.0.0.1:1"],
                          "unknown primitive 'nope' (known: "),
    "plugin of up": (["up", "--plugin", "no_such_module"],
                     "cannot import plugin: No module named 'no_such_module'"),
    "plugin of worker": (["worker", "--plugin", "no_such_module", "--nats-url", "nats://h:1"],
                         "cannot import plugin: No module named 'no_such_module'"),
    "plugin of bridge": (["bridge", "--plugin", "no_such_module", "--nats-url", "nats://h:1"],
                         "cannot import plugin: No module named 'no_such_module'"),
    "plugin of exec": (["exec", "x", "--plugin", "no_such_module"],
                       "cannot import plugin: No module named 'no_such_module'"),
    "param without =": (["exec", "capture_email", "--param", "oops"],
                        "--param 'oops': use KEY=VALUE"),
    "param of the wrong type": (["exec", "capture_date", "--param", "reference_date=friday"],
                                "--param reference_date='friday': Invalid RFC3339 encoded date"),
    "param out of its pattern": (["exec", "capture_phone", "--param", "default_region=usa"],
                                 "--param default_region='usa': Expected `str` matching regex"),
    "param not taken": (["exec", "capture_phone", "--param", "region=US"],
                        "--param 'region': not a param of this primitive (it takes transcript, "
                        "language, default_region)"),
    "plugin param": (["exec", "sleepy", "--plugin", "tests.support.plugin",
                      "--param", "seconds=soon"], "--param seconds='soon': Expected `float`"),
}


@pytest.mark.parametrize(("args", "expected"), BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_bad_value_is_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    env = {"VOICECORE_DATA_DIR": str(tmp_path)}
    assert one_line_error(proc.run(*args, env=env)).startswith(expected)


BAD_FLAGS = {
    "concurrency 0": ["worker", "--concurrency", "0"],
    "concurrency negative": ["worker", "--concurrency=-4"],
    "max deliver 0": ["worker", "--max-deliver", "0"],
    "ack wait not a number": ["worker", "--ack-wait", "x"],
    "nats port too high": ["up", "--nats-port", "70000"],
    "unknown option": ["up", "--bogus"],
    "unknown command": ["bogus"],
    "missing argument": ["exec"],
    "missing choice": ["log", "export"],
}


@pytest.mark.parametrize("args", BAD_FLAGS.values(), ids=BAD_FLAGS.keys())
def test_bad_flag_is_a_one_line_usage_error(args: list[str]) -> None:
    line = one_line_error(proc.run(*args), status=2)
    assert line.endswith("--help`)")


def test_doctor_does_not_call_a_missing_data_dir_ok(tmp_path: Path, a_file: Path) -> None:
    missing = tmp_path / "not-yet"
    row, fix = _doctor_data_dir(missing)
    assert "missing" in row and " ok " not in row
    assert fix == f"fix data directory: `voicecore up` creates it (or: mkdir -p {missing})"
    assert not missing.exists(), "doctor only looks"

    row, fix = _doctor_data_dir(a_file / "vc")
    assert "FAIL" in row
    assert fix.startswith("fix data directory: pass --data-dir DIR")

    row, fix = _doctor_data_dir(tmp_path)
    assert " ok " in row and fix == ""


def _doctor_data_dir(data_dir: Path) -> tuple[str, str]:
    """The doctor's table row for the data directory and its ``fix`` line (or "")."""
    done = proc.run("doctor", "--data-dir", str(data_dir),
                    "--nats-url", f"nats://127.0.0.1:{proc.free_port()}")
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stdout.splitlines()
    [row] = [line for line in lines if line.startswith("│ data directory")]
    fixes = [line for line in lines if line.startswith("fix data directory")]
    return row, "".join(fixes)


@contextmanager
def _listening() -> Iterator[int]:
    """A TCP port something listens on, for the life of the ``with`` block."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.mark.parametrize("url", [
    "nats://127.0.0.1:4222", "localhost:4222", "demo", "nats://n1:4222,nats://n2:4222",
    "tls://user:secret@host:4222", "ws://h:8080", "wss://h", "nats://[::1]:4222",
    " nats://a:1 , nats://b:2 ",
])
def test_valid_nats_urls_are_accepted(url: str) -> None:
    assert nats_url_problem(url) is None


def test_a_speech_model_directory_that_is_not_one_is_said_at_start(tmp_path: Path) -> None:
    # up used to start and fail only at the first transcription, minutes later
    gone = tmp_path / "no-model"
    assert one_line_error(proc.run(*up(tmp_path / "data", "--stt-model", str(gone)))) == (
        f"--stt-model {gone}: no such directory (a model name such as base or tiny.en, or a "
        "directory holding model.bin, config.json, tokenizer.json)")
    (gone / "config.json").parent.mkdir()
    (gone / "config.json").write_text("{}")
    line = one_line_error(proc.run(*up(tmp_path / "data"),
                                   env={"VOICECORE_STT_MODEL": str(gone)}))
    assert line.startswith(f"--stt-model {gone}: no model.bin, tokenizer.json (")
