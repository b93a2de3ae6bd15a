"""`voicecore say`: a playable file through a real `voicecore up`, or through the embedded
stack it starts when no bridge listens; bad input is one line and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import audio
from tests.support import proc
from tests.test_up import up_args


def say(*args: str) -> tuple[int, str, str]:
    done = proc.run("say", *args, timeout=180)
    return done.returncode, done.stdout, done.stderr


def test_say_through_a_running_up_writes_a_playable_file(tmp_path: Path) -> None:
    args = up_args(tmp_path / "data", proc.free_port())
    grpc_addr = args[args.index("--grpc-addr") + 1]
    with proc.started(*args, "--plugin", "core.synthesize"):
        out = tmp_path / "hello.mp3"
        code, _, err = say("Hello there. How can I help you today?", "--voice", "james",
                           "--rate", "16000", "-o", str(out), "--grpc-addr", grpc_addr)
        assert code == 0, err
        assert "embedded" not in err
    pcm = audio.decode(out.read_bytes())
    assert pcm.rate == 16000 and 1.0 < pcm.duration_s < 10.0
    assert f"wrote {out}: " in err and "mp3 at 16000 Hz" in err and "voice james" in err


def test_say_without_a_bridge_speaks_through_an_embedded_one(tmp_path: Path) -> None:
    nothing_there = f"127.0.0.1:{proc.free_port()}"
    out = tmp_path / "hola.flac"
    code, _, err = say("Hola. ¿Cómo estás?", "--language", "es", "-o", str(out),
                       "--grpc-addr", nothing_there)
    assert code == 0, err
    assert f"no bridge at {nothing_there}: speaking through an embedded one" in err
    pcm = audio.decode(out.read_bytes())
    assert pcm.duration_s > 0.5
    assert [p.name for p in tmp_path.iterdir()] == ["hola.flac"]  # no scratch file left


@pytest.mark.parametrize(("args", "message"), [
    (["Hi.", "-o", "{tmp}/out.aiff"],
     "-o {tmp}/out.aiff: cannot tell the format from .aiff extension"),
    (["Hi.", "-o", "{tmp}/missing/out.wav"], "-o {tmp}/missing/out.wav: no directory"),
    (["", "-o", "{tmp}/out.wav"], "INVALID_ARGUMENT: text: "),
    (["Hi.", "--voice", "nobody", "-o", "{tmp}/out.wav"], "NOT_FOUND: unknown voice 'nobody'"),
    (["Hi.", "--speed", "9", "-o", "{tmp}/out.wav"], "INVALID_ARGUMENT: speed: "),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path: Path, args: list[str],
                                                  message: str) -> None:
    nothing_there = f"127.0.0.1:{proc.free_port()}"
    code, out, err = say(*(a.format(tmp=tmp_path) for a in args), "--grpc-addr", nothing_there)
    assert code == 1 and out == ""
    [line] = [e for e in err.splitlines() if e.startswith("voicecore: error: ")]
    assert message.format(tmp=tmp_path) in line, err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
