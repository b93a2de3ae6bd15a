"""`voicecore log export --with-audio DIR`: the referenced audio, written safely below DIR."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import msgspec
import pytest

from core.audiostore import AudioStore, object_name
from core.bus import Bus
from core.errors import ConfigError
from core.natsauth import NatsAuth, identity
from schemas import events as ev
from schemas.audio import AudioRef, SynthesisChunk, SynthesisResult, Usage
from tests.support import proc
from tests.test_redact_no_copy import sink_caught_up, wait_until
from tests.test_up import up_args
from voicecore.export_audio import audio_refs, file_for

CONVERSATION = "exp-1"


def ref(name: str, data: bytes = b"") -> AudioRef:
    return AudioRef(bucket="VC_AUDIO", name=name, size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(), format="wav", sample_rate=16000,
                    duration_s=0.5)


def test_references_are_found_anywhere_in_an_events_data() -> None:
    one, two = ref("c/r/0.wav"), ref("c/r/1.wav")
    data = {"index": 0, "audio": msgspec.to_builtins(one),
            "deep": [{"chunks": [msgspec.to_builtins(two), {"bucket": "x", "name": "no size"}]}],
            "bad": {**msgspec.to_builtins(one), "sha256": "not hex"}}
    assert list(audio_refs(data)) == [one, two]
    assert list(audio_refs("[redacted]")) == []


@pytest.mark.parametrize(("name", "written"), [
    ("c42/r1/0.wav", "c42/r1/0.wav"),
    ("../../escape.wav", "SHA.wav"),
    ("c42/../../x.wav", "SHA.wav"),
    ("/etc/passwd", "SHA.wav"),
    (".hidden/0.wav", "SHA.wav"),
    ("c42//0.wav", "SHA.wav"),
    ("c42/r1/0.wav\n", "SHA.wav"),
])
def test_files_stay_inside_the_directory(tmp_path: Path, name: str, written: str) -> None:
    audio = ref(name)
    path = file_for(tmp_path, audio)
    assert path == tmp_path / written.replace("SHA", audio.sha256)


def test_a_symlink_out_of_the_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "c42").symlink_to(tmp_path)
    with pytest.raises(ConfigError, match="is outside"):
        file_for(tmp_path / "out", ref("c42/r1/0.wav"))


async def record(url: str, data: Path) -> dict[str, AudioRef]:
    """Audio stored by the worker identity (and a hostile name by the admin), and the
    synthesize events that reference it, once the sink logged them."""
    admin = await Bus.connect(url, auth=proc.admin(data))
    worker = await Bus.connect(url, auth=identity("worker", NatsAuth(), data))
    try:
        refs = {}
        for part in (0, 1):
            refs[f"part{part}"] = await AudioStore(worker).put(
                object_name(CONVERSATION, "req", part, "wav"), f"RIFF{part}".encode() * 100,
                format="wav", sample_rate=22050, duration_s=0.5)
        refs["hostile"] = await AudioStore(admin).put(
            f"{CONVERSATION}/../../escape.wav", b"hostile", format="wav", sample_rate=8000,
            duration_s=0.1)
        refs["gone"] = ref(object_name(CONVERSATION, "req", 9, "wav"), b"never stored")
        chunk = ev.new_event(ev.SynthesizeChunk, conversation_id=CONVERSATION, trace_id="t",
                             data=SynthesisChunk(index=0, is_final=False, audio=refs["part0"]))
        result = ev.new_event(ev.SynthesizeCompleted, conversation_id=CONVERSATION,
                              trace_id="t", data=SynthesisResult(
                                  chunks=tuple(refs.values()), time_to_first_audio_ms=1.0,
                                  duration_s=1.0, engine="piper", voice="emma", language="en",
                                  format="wav", sample_rate=22050,
                                  usage=Usage(engine="piper", characters=10)))
        for event in (chunk, result):
            await admin.publish(event)
        await wait_until(lambda: sink_caught_up(admin))
        return refs
    finally:
        await worker.drain()
        await admin.drain()


def test_export_with_audio_writes_each_referenced_object(tmp_path: Path) -> None:
    data, port = tmp_path / "data", proc.free_port()
    out, audio_dir = tmp_path / "events.jsonl", tmp_path / "audio"
    with proc.started(*up_args(data, port)) as (up, _):
        refs = asyncio.run(record(f"nats://127.0.0.1:{port}", data))
        exported = proc.run("log", "export", "--format", "jsonl", "--conversation",
                            CONVERSATION, "-o", str(out), "--with-audio", str(audio_dir),
                            env={"VOICECORE_DATA_DIR": str(data)})
        assert proc.stop(up).returncode == 0
    assert exported.returncode == 0, exported.stderr
    assert "exported 2 event(s)" in exported.stdout
    assert f"wrote 3 audio file(s) to {audio_dir} (1 unavailable: expired or redacted)" \
        in " ".join(exported.stdout.split())
    files = sorted(str(p.relative_to(audio_dir)) for p in audio_dir.rglob("*") if p.is_file())
    assert files == sorted([f"{refs['hostile'].sha256}.wav", "exp-1/req/0.wav",
                            "exp-1/req/1.wav"])
    assert (audio_dir / "exp-1/req/1.wav").read_bytes() == b"RIFF1" * 100
    assert not (tmp_path / "escape.wav").exists()
