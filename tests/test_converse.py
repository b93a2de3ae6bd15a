"""`voicecore converse` as a person (or a pipe) uses it: through a running `voicecore up`
(its orchestrator child drives the conversation), or an embedded stack; afterwards
`voicecore log show` and `voicecore replay` show the same conversation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.audio import decode, encode
from tests.stt.conftest import speak
from tests.support import proc
from tests.support.conversations import contact_flow
from tests.test_up import up_args

REPLIES = "john at gmail dot com\nyes\n415 555 2671\n"
SLOTS = {"email": "john@gmail.com", "phone": "+14155552671"}
PROMPTS = ["Hello, this is Acme.", "What is your email address?",
           "I have john@gmail.com, is that right?", "And your phone number?",
           "Thank you, we will email john@gmail.com. Goodbye."]


@pytest.fixture
def flow(tmp_path: Path) -> Path:
    path = tmp_path / "contact.yaml"
    path.write_text(contact_flow())
    return path


def converse(*args: str, replies: str = REPLIES) -> subprocess.CompletedProcess[str]:
    """``printf REPLIES | voicecore converse ARGS`` (standard input is a pipe)."""
    return subprocess.run([sys.executable, "-m", "voicecore", "converse", *args],
                          input=replies, cwd=proc.ROOT, text=True, capture_output=True,
                          timeout=240, check=False)


def test_piped_replies_through_an_embedded_stack_then_log_and_replay(
        flow: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    done = converse("--flow", str(flow), "--json", "--data-dir", str(data))
    assert done.returncode == 0, done.stderr
    *prompts, last = done.stdout.splitlines()
    assert prompts == PROMPTS
    result = json.loads(last)
    assert (result["status"], result["slots"]) == ("completed", SLOTS)
    assert "embedded" in done.stderr
    cid = result["conversation_id"]
    shown = proc.run("log", "show", cid, "--data-dir", str(data), "--json")
    assert shown.returncode == 0, shown.stderr
    rows = json.loads(shown.stdout)
    kinds = [(row["type"], row["data"].get("kind")) for row in rows]
    assert kinds[0] == ("conversation.requested", None)
    assert kinds[-1] == ("conversation.completed", None)
    assert [kind for kind in kinds if kind[0] == "prompt.spoken"] == [
        ("prompt.spoken", k) for k in ("say", "ask", "confirm", "ask", "say")]
    replayed = proc.run("replay", cid, "--data-dir", str(data))
    assert replayed.returncode == 0, replayed.stderr
    assert cid in replayed.stdout


def test_through_a_running_up_and_its_orchestrator(flow: Path, tmp_path: Path) -> None:
    with proc.started(*up_args(tmp_path, proc.free_port())):
        done = converse("--flow", str(flow), "--json", "--data-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "embedded" not in done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["slots"] == SLOTS


def test_a_scripted_caller(flow: Path, tmp_path: Path) -> None:
    script = tmp_path / "caller.yaml"
    script.write_text("turns:\n  - I'd rather not say\n  - J O H N at gmail dot com\n"
                      "  - yes\n  - 415 555 2671\n")
    done = converse("--flow", str(flow), "--script", str(script), "--json", "--data-dir",
                    str(tmp_path / "data"), replies="")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["slots"] == SLOTS
    assert "Sorry, what is your email address?" in done.stdout


def test_replies_that_run_out_hang_up_and_the_conversation_is_abandoned(
        flow: Path, tmp_path: Path) -> None:
    """End of input after the email: converse hangs up, the orchestrator abandons the
    conversation at once (the objectives' 600 s timeouts never come into it)."""
    data = tmp_path / "data"
    done = converse("--flow", str(flow), "--json", "--data-dir", str(data),
                    replies="john at gmail dot com\n")
    assert done.returncode == 1
    result = json.loads(done.stdout.splitlines()[-1])
    assert (result["status"], result["slots"]) == ("abandoned", {})
    assert "voicecore: conversation abandoned: the caller hung up" in done.stderr
    shown = json.loads(proc.run("log", "show", result["conversation_id"], "--data-dir",
                                str(data), "--json").stdout)
    [hung_up] = [r for r in shown if r["type"] == "conversation.hung_up"]
    assert hung_up["data"] == {"reason": "end of input"}
    assert shown[-1]["type"] == "conversation.abandoned"
    assert shown[-1]["data"]["code"] == "HUNG_UP"


def test_a_bad_flow_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nobjectives: nope\n")
    done = converse("--flow", str(bad), "--data-dir", str(tmp_path / "data"))
    assert done.returncode == 1
    assert done.stderr.startswith(f"voicecore: error: {bad}") and done.stderr.count("\n") == 1


def test_speak_writes_each_prompt_whole(flow: Path, tmp_path: Path) -> None:
    """A prompt of two sentences is synthesized in two parts: ``prompt.spoken`` lists both
    and converse's file holds both."""
    data = tmp_path / "data"
    done = converse("--flow", str(flow), "--speak", "--json", "--data-dir", str(data))
    assert done.returncode == 0, done.stderr
    cid = json.loads(done.stdout.splitlines()[-1])["conversation_id"]
    files = sorted((data / "conversations" / cid).glob("*.wav"))
    assert [f.name for f in files] == ["01-greet.wav", "02-email.wav", "03-email.wav",
                                       "04-phone.wav", "05-goodbye.wav"]
    shown = json.loads(proc.run("log", "show", cid, "--data-dir", str(data), "--json").stdout)
    goodbye = [r["data"] for r in shown if r["type"] == "synthesize.completed"][-1]
    assert len(goodbye["chunks"]) == 2
    said = [r["data"] for r in shown if r["type"] == "prompt.spoken"][-1]
    assert said["audio_parts"] == goodbye["chunks"]  # every part, in order
    assert said["audio"] == goodbye["chunks"][0]  # the first, for readers of before
    assert decode(files[-1]).duration_s == pytest.approx(goodbye["duration_s"], abs=0.05)


def test_audio_replies_are_transcribed_with_the_objectives_hint(
        flow: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Recorded replies (Piper's speech) go through transcribe, then the capture; Whisper's
    words vary from run to run, so what is checked is the path, not the values."""
    monkeypatch.setenv("VOICECORE_STT_MODEL", "tiny.en")
    replies = tmp_path / "replies"
    replies.mkdir()
    for n, text in enumerate(["john at gmail dot com", "yes", "four one five, five five "
                              "five, two six seven one"], 1):
        (replies / f"{n}.wav").write_bytes(encode(speak(text), "wav"))
    data = tmp_path / "data"
    done = converse("--flow", str(flow), "--audio-dir", str(replies), "--json",
                    "--data-dir", str(data), replies="")
    cid = json.loads(done.stdout.splitlines()[-1])["conversation_id"]
    shown = json.loads(proc.run("log", "show", cid, "--data-dir", str(data), "--json").stdout)
    turns = [r["data"] for r in shown if r["type"] == "turn.received"]
    assert turns and all(t["audio"] is not None and t["text"] == "" for t in turns)
    expected, hints = [], []
    for row in shown:  # the hint follows the question the turn answers
        if row["type"] == "prompt.spoken":
            asked = row["data"]
        elif row["type"] == "transcribe.requested":
            hints.append(row["data"]["params"]["hint"])
            expected.append("confirmation" if asked["kind"] == "confirm"
                            else {"email": "email", "phone": ""}[asked["objective"]])
    assert hints and hints == expected
