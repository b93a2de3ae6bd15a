"""The speech flags of the commands that run workers (``up``, ``worker``): every
text-to-speech and speech-to-text option at once, received as one :class:`Speech`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from core.stt.settings import DEFAULT_MODEL, SttSettings
from core.tts.settings import TtsSettings
from voicecore.option_groups import keyword, option_group
from voicecore.stt_options import (
    SttCacheDir,
    SttComputeType,
    SttDecoderThreads,
    SttDevice,
    SttIdleUnload,
    SttModel,
    SttPreload,
    stt_settings,
)
from voicecore.tts_options import (
    GttsTimeout,
    GttsUrl,
    TtsEngine,
    TtsFallback,
    VoicesFile,
    tts_settings,
)

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Speech:
    tts: TtsSettings
    stt: SttSettings


_FLAGS = [
    keyword("tts_engine", TtsEngine, "auto"), keyword("tts_fallback", TtsFallback),
    keyword("voices_file", VoicesFile), keyword("gtts_url", GttsUrl),
    keyword("gtts_timeout", GttsTimeout, 10.0), keyword("stt_model", SttModel, DEFAULT_MODEL),
    keyword("stt_device", SttDevice, "auto"),
    keyword("stt_compute_type", SttComputeType, "default"),
    keyword("stt_cache_dir", SttCacheDir), keyword("stt_preload", SttPreload, False),
    keyword("stt_idle_unload", SttIdleUnload, 600.0),
    keyword("stt_decoder_threads", SttDecoderThreads),
]


def with_speech_settings(command: Callable[..., T]) -> Callable[..., T]:
    """Give ``command`` the ``--tts-*``, ``--voices-file``, ``--gtts-*`` and ``--stt-*``
    flags (each with its ``VOICECORE_*`` variable), listed where its ``speech`` parameter
    stands; it receives them as one ``speech: Speech``, with pulled voices and joined models
    under the command's ``--data-dir``."""
    def speech(ctx: typer.Context, given: dict[str, Any]) -> Speech:
        data_dir = ctx.params.get("data_dir")
        return Speech(
            tts_settings(data_dir, engine=given["tts_engine"], fallback=given["tts_fallback"],
                         voices_file=given["voices_file"], gtts_url=given["gtts_url"],
                         gtts_timeout_s=given["gtts_timeout"]),
            stt_settings(data_dir, model=given["stt_model"], device=given["stt_device"],
                         compute_type=given["stt_compute_type"],
                         cache_dir=given["stt_cache_dir"], preload=given["stt_preload"],
                         idle_unload_s=given["stt_idle_unload"],
                         decoder_threads=given["stt_decoder_threads"]))

    return option_group(command, "speech", _FLAGS, speech, in_place=True)
