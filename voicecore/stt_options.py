"""The speech-to-text flags of ``up``, ``worker`` and ``transcribe``. Each has its
``VOICECORE_STT_*`` variable, which is also how ``voicecore up`` hands the settings to its
worker process."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from core.config import default_data_dir
from core.stt import settings as stt
from core.stt.settings import SttSettings

SttModel = Annotated[str, typer.Option(
    "--stt-model", envvar=stt.ENV_MODEL,
    help="Speech-to-text model: a name (base, tiny.en, small, …) or a model directory")]
SttDevice = Annotated[str, typer.Option(
    "--stt-device", envvar=stt.ENV_DEVICE, help="auto (CUDA when a GPU is seen), cpu or cuda")]
SttComputeType = Annotated[str, typer.Option(
    "--stt-compute-type", envvar=stt.ENV_COMPUTE_TYPE,
    help="CTranslate2 compute type (default: int8 on the CPU, float16 on CUDA)")]
SttCacheDir = Annotated[Path | None, typer.Option(
    "--stt-cache-dir", envvar=stt.ENV_CACHE_DIR,
    help="Where joined models live [default: <data-dir>/models]", show_default=False)]
SttPreload = Annotated[bool, typer.Option(
    "--stt-preload", envvar=stt.ENV_PRELOAD,
    help="Load the model when the worker starts, not at the first request")]
SttIdleUnload = Annotated[float, typer.Option(
    "--stt-idle-unload", envvar=stt.ENV_IDLE_UNLOAD, min=0.0,
    help="Seconds unused before the model is unloaded (0: never)")]
SttDecoderThreads = Annotated[int | None, typer.Option(
    "--stt-decoder-threads", envvar=stt.ENV_DECODER_THREADS, min=0, max=stt.MAX_THREADS,
    help="CPU threads of the decoder, on a second copy of the model (0: one copy, on the "
         "encoder's threads) [default: 1 for a model of up to 200 MB, else 0]",
    show_default=False)]


def stt_settings(data_dir: Path | None, *, model: str = stt.DEFAULT_MODEL,
                 device: str = "auto", compute_type: str = "default",
                 cache_dir: Path | None = None, preload: bool = False,
                 idle_unload_s: float = 600.0,
                 decoder_threads: int | None = None) -> SttSettings:
    """The settings the flags chose; joined models live in ``<data-dir>/models`` unless
    ``--stt-cache-dir`` says otherwise."""
    return SttSettings(model=model, device=device, compute_type=compute_type,
                       cache_dir=cache_dir or (data_dir or default_data_dir()) / "models",
                       preload=preload, idle_unload_s=idle_unload_s,
                       decoder_threads=decoder_threads)
