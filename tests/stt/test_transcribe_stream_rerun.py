"""``voicecore replay --rerun`` of a ``transcribe_stream`` request: the recorded chunks still
in VC_AUDIO_IN are re-streamed and the utterance heard again (real nats-server, sink and
log, a worker on tiny.en, Piper's speech, the CLI as a process); chunks that are gone are
one line, and the request is not re-run."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

from core import subjects
from core.bus import Bus
from core.natsserver import EmbeddedNats
from core.stt.whisper import Transcriber
from tests.stt.conftest import heard_email, speak
from tests.stt.test_transcribe_stream import EMAIL, listening
from tests.support import proc
from tests.support.eventlog import caught_up, running_sink
from tests.support.listen import feed, pieces, quantized, start, stream_answer


async def replay(data: Path, url: str, conversation: str,
                 *flags: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(proc.run, "replay", conversation, "--rerun", "--data-dir",
                                   str(data), "--nats-url", url, "--timeout", "300", *flags,
                                   env={"COLUMNS": "300"}, timeout=400)


async def test_rerun_restreams_the_recorded_chunks_or_says_they_are_gone(
        bus: Bus, nats_server: EmbeddedNats, tiny: Transcriber, tmp_path: Path) -> None:
    data, speech = tmp_path / "data", quantized(speak(EMAIL))
    async with running_sink(bus, data) as sink, listening(bus, tiny):
        for conversation in ("c-heard", "c-gone"):
            request = start(conversation, "s1", speech.rate, language="en")
            await bus.publish(request)
            await feed(bus, request, list(pieces(speech)))
            await stream_answer(bus, request)
        # The gone one's chunks expire (VC_AUDIO_IN keeps them minutes).
        await bus.js.purge_stream(subjects.AUDIO_IN_STREAM,
                                  subject=subjects.audio_in_filter("c-gone"))
        await caught_up(sink, bus)
        heard = await replay(data, nats_server.url, "c-heard", "--json")
        gone = await replay(data, nats_server.url, "c-gone")
        gone_json = await replay(data, nats_server.url, "c-gone", "--json")
    assert heard.returncode in (0, 1), heard.stderr
    report = json.loads(heard.stdout)["rerun"]
    [compared] = report["requests"]
    recorded, now = compared["recorded"], compared["now"]
    assert now is not None and now["kind"] == "completed", now
    assert now["data"]["ended_by"] == "end_of_stream"
    assert now["data"]["chunks"] == recorded["data"]["chunks"] == len(list(pieces(speech)))
    assert heard_email(now["data"]["text"]) == heard_email(recorded["data"]["text"])
    assert now["data"]["audio"]["sha256"] == recorded["data"]["audio"]["sha256"]
    # Whisper may sample a pass differently (temperature fallback); the same words are "same"
    assert compared["same"] == (now["data"]["text"] == recorded["data"]["text"])
    assert heard.returncode == (0 if compared["same"] else 1)
    assert gone.returncode == 0, gone.stderr
    [line] = [x for x in gone.stdout.splitlines() if "not re-driven" in x]
    assert "its streamed audio (vc.audio.c-gone.s1) is gone in VC_AUDIO_IN" in line
    assert "not re-run" in line
    gone_report = json.loads(gone_json.stdout)["rerun"]
    assert gone_report["requests"] == [] and len(gone_report["audio_gone_not_rerun"]) == 1
