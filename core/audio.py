"""Audio plumbing for every speech feature: decode, encode and resample through PyAV.

(The decode/encode functions arrive with the audio helper's work; ``Pcm`` is the shared type.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Pcm:
    """Mono audio as float32 samples in [-1, 1] at ``rate`` Hz."""

    samples: npt.NDArray[np.float32]
    rate: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.rate if self.rate else 0.0
