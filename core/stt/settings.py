"""How speech to text is configured: the model (name or directory), device, compute type,
cache directory, preload, idle unload, concurrency, the decoder's threads.

The composition root builds :class:`SttSettings` from flags (``--stt-model`` …);
:meth:`SttSettings.from_env` reads the same from ``VOICECORE_STT_*`` variables, which is how
``voicecore up`` hands them to its worker processes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from core import envvars
from core.errors import ConfigError
from core.machine import usable_cpus
from core.paths import default_data_dir
from core.stt.models import MODEL_FILES, directory_problem, is_directory_name
from core.text import one_line

DEVICES = ("auto", "cpu", "cuda")
DEFAULT_MODEL = "base"
"""Multilingual: en/es/fr/de with language detection, installed by a model package."""
ENV_MODEL = "VOICECORE_STT_MODEL"
ENV_DEVICE = "VOICECORE_STT_DEVICE"
ENV_COMPUTE_TYPE = "VOICECORE_STT_COMPUTE_TYPE"
ENV_CACHE_DIR = "VOICECORE_STT_CACHE_DIR"
ENV_PRELOAD = "VOICECORE_STT_PRELOAD"
ENV_IDLE_UNLOAD = "VOICECORE_STT_IDLE_UNLOAD"
ENV_DECODER_THREADS = "VOICECORE_STT_DECODER_THREADS"
MAX_THREADS = 4


@dataclass(frozen=True)
class SttSettings:
    model: str = DEFAULT_MODEL
    """A model name (``base``, ``tiny.en``, faster-whisper's others) or a model directory."""
    device: str = "auto"
    """``auto`` (CUDA when CTranslate2 sees a GPU, else the CPU), ``cpu`` or ``cuda``."""
    compute_type: str = "default"
    """CTranslate2's compute type; ``default`` is ``int8`` on the CPU, ``float16`` on CUDA."""
    cache_dir: Path | None = None
    """Where the joined base model lives; None = ``<data-dir>/models``."""
    preload: bool = False
    """Load the model when the worker starts instead of at the first request."""
    idle_unload_s: float = 600.0
    """Unload the model after this long unused (0 = never)."""
    concurrency: int = 1
    """Transcriptions at a time in one process (each uses every core it gets)."""
    decoder_threads: int | None = None
    """Threads of the decoder on the CPU, on a second copy of the model; 0 = one copy, on
    the encoder's threads; None = 1 for a model of up to 200 MB (tiny, base: measured
    faster), 0 for a larger one (:mod:`core.stt.split`)."""

    def __post_init__(self) -> None:
        if self.device not in DEVICES:
            raise ConfigError(f"--stt-device {self.device[:32]!r}: choose from "
                              f"{', '.join(DEVICES)}")
        if not self.model.strip():
            raise ConfigError("--stt-model: empty (a model name or directory)")
        if is_directory_name(self.model):  # a wrong path is said at start, not at a request
            problem = directory_problem(Path(self.model).expanduser())
            if problem is not None:
                raise ConfigError(f"--stt-model {one_line(self.model, 200)}: {problem} (a model "
                                  f"name such as base or tiny.en, or a directory holding "
                                  f"{', '.join(MODEL_FILES)})")
        if self.idle_unload_s < 0:
            raise ConfigError(f"--stt-idle-unload {self.idle_unload_s:g}: must be >= 0")
        if self.decoder_threads is not None and not 0 <= self.decoder_threads <= MAX_THREADS:
            raise ConfigError(f"--stt-decoder-threads {self.decoder_threads}: from 0 (the "
                              f"encoder's) to {MAX_THREADS}")

    def cpu_threads(self) -> int:
        """CTranslate2's threads per transcription: the cores this process may use, shared
        by the concurrent ones, at most 4. Its own default is 4 whatever the machine: on 2
        cores the surplus threads contend with each other and with the bridge and NATS (a
        pass took 0.64 s with 4, 0.55 s with 2 on this 2-core machine)."""
        return max(1, min(MAX_THREADS, usable_cpus() // self.concurrency))

    def models_dir(self) -> Path:
        return self.cache_dir or default_data_dir() / "models"

    @classmethod
    def from_env(cls) -> SttSettings:
        env = os.environ
        idle_s = envvars.number(ENV_IDLE_UNLOAD, 600.0, what="a number of seconds")
        decoder_threads = (envvars.whole_number(ENV_DECODER_THREADS, 0,
                                                what="a whole number of threads")
                           if env.get(ENV_DECODER_THREADS) else None)
        cache = env.get(ENV_CACHE_DIR)
        return cls(model=env.get(ENV_MODEL) or DEFAULT_MODEL,
                   device=env.get(ENV_DEVICE) or "auto",
                   compute_type=env.get(ENV_COMPUTE_TYPE) or "default",
                   cache_dir=Path(cache) if cache else None,
                   preload=env.get(ENV_PRELOAD, "") in ("1", "true", "yes"),
                   idle_unload_s=idle_s, decoder_threads=decoder_threads)

    def env(self) -> dict[str, str]:
        """These settings as the variables :meth:`from_env` reads (for child processes)."""
        pairs = {ENV_MODEL: self.model, ENV_DEVICE: self.device,
                 ENV_COMPUTE_TYPE: self.compute_type,
                 ENV_CACHE_DIR: str(self.cache_dir) if self.cache_dir else None,
                 ENV_PRELOAD: "1" if self.preload else None,
                 ENV_IDLE_UNLOAD: f"{self.idle_unload_s:g}",
                 ENV_DECODER_THREADS: None if self.decoder_threads is None
                 else str(self.decoder_threads)}
        return {k: v for k, v in pairs.items() if v}
