"""`voicecore listen`: a file streamed to StreamingSpeechToText through a real `voicecore up`
(its bridge and worker identities: least privilege), or through an embedded stack."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import audio
from tests.stt.conftest import heard_email, speak
from tests.support import proc
from tests.test_up import up_args

SENTENCE = "My email is john dot smith at gmail dot com."
ADDRESS = "john.smith@gmail.com"
"""What must hold is what the next primitive reads: a streamed pass cuts the audio where the
chunks' timing falls, so its spelling of the same words varies ("john.smith", "John Dot Smith")."""


@pytest.fixture
def spoken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VOICECORE_STT_MODEL", "tiny.en")  # the worker's model (and up's)
    path = tmp_path / "email.wav"
    path.write_bytes(audio.encode(speak(SENTENCE), "wav"))
    return path


def test_listen_through_a_running_up_prints_the_final_transcript(
        tmp_path: Path, spoken: Path) -> None:
    args = up_args(tmp_path / "data", proc.free_port())
    grpc_addr = args[args.index("--grpc-addr") + 1]
    with proc.started(*args):
        done = proc.run("listen", str(spoken), "--pace", "0", "--grpc-addr", grpc_addr,
                        timeout=180)
    assert done.returncode == 0, done.stderr
    assert "embedded" not in done.stderr
    assert heard_email(done.stdout) == ADDRESS, done.stdout
    assert "final" in done.stderr and "after the last audio" in done.stderr


def test_listen_without_a_bridge_listens_through_an_embedded_one(spoken: Path) -> None:
    nothing_there = f"127.0.0.1:{proc.free_port()}"
    done = proc.run("listen", str(spoken), "--grpc-addr", nothing_there, timeout=180)
    assert done.returncode == 0, done.stderr
    assert "listening through an embedded one" in done.stderr
    assert heard_email(done.stdout) == ADDRESS, done.stdout


def test_a_file_that_is_not_audio_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("not audio")
    done = proc.run("listen", str(path))
    assert done.returncode != 0 and len(done.stderr.strip().splitlines()) == 1
    assert str(path) in done.stderr
