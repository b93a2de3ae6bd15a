"""Whisper's encoder on every core the pass gets, its decoder on one.

One faster-whisper pass on the CPU is the encoder over its 30 s window (a few large
matrix products: more threads help) and then the decoder, one step per token (at beam 5,
five rows through small matrices, dozens of parallel regions a step: a second thread costs
more in handing work over than it computes). CTranslate2 fixes a model's threads when it
is loaded, so :func:`whisper_model` loads the weights twice, one copy for each:
the same arithmetic, the same transcript, a second copy of the weights in memory (RSS
+78 MB for tiny.en, +195 MB for base). Done by default only for models of up to 200 MB,
where it was measured.
Measured on the 2-core machine (README, *Speech to text*): tiny.en 0.578 → 0.391 s a pass,
base 1.516 → 1.278 s, the text and times identical on all 12 benchmark utterances.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

SMALL_MODEL_BYTES = 200 * 1024 * 1024
"""tiny (75 MB) and base (145 MB) are under it; small (484 MB) and larger are not."""


class EncoderApart:
    """A CTranslate2 Whisper model whose ``encode`` runs on another copy of it; every other
    call (``generate``, ``align``, ``detect_language``, attributes) on the decoder's copy."""

    def __init__(self, encoder: Any, decoder: Any) -> None:
        self.encoder = encoder
        self.decoder = decoder

    def encode(self, *args: Any, **kwargs: Any) -> Any:
        return self.encoder.encode(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.decoder, name)


def decoder_threads_for(path: Path, asked: int | None) -> int:
    """``asked``, or when None: 1 for a model of up to :data:`SMALL_MODEL_BYTES` (where one
    thread was measured faster), 0 (one copy) for a larger one, whose decoder's bigger
    matrices may gain from threads and whose second copy costs more memory."""
    if asked is not None:
        return asked
    try:
        size = (path / "model.bin").stat().st_size
    except OSError:
        return 0
    return 1 if size <= SMALL_MODEL_BYTES else 0


def whisper_model(path: Path, *, device: str, compute_type: str, workers: int,
                  encoder_threads: int, decoder_threads: int | None) -> WhisperModel:
    """faster-whisper's model at ``path``. On the CPU with ``decoder_threads`` (see
    :func:`decoder_threads_for`) other than 0 and ``encoder_threads``, its decoder is a
    second copy on those threads; otherwise (or on a GPU) one copy on ``encoder_threads``."""
    import ctranslate2
    from faster_whisper import WhisperModel

    model = WhisperModel(str(path), device=device, compute_type=compute_type,
                         num_workers=workers, cpu_threads=encoder_threads)
    decoder_threads = decoder_threads_for(path, decoder_threads)
    if device == "cpu" and decoder_threads and decoder_threads != encoder_threads:
        decoder = ctranslate2.models.Whisper(str(path), device=device,
                                             compute_type=compute_type,
                                             inter_threads=workers,
                                             intra_threads=decoder_threads)
        model.model = EncoderApart(model.model, decoder)
    return model
