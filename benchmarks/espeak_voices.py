"""Which espeak-ng English voice can Whisper understand? The real engines, no stack.

Each utterance of a small caller-like set (its own names, addresses, numbers and dates,
not bench_spoken's callers) is synthesized by espeak-ng with each voice and rate,
transcribed by faster-whisper (``--model``) with the objective's hint, as the stack's
transcribe primitive does, and read by the capture primitive. Scored per voice: how many
utterances capture to the value said. Writes ``benchmarks/results/espeak_voices.json``
(with the load average). Run: ``python benchmarks/espeak_voices.py [--model base]
[--voices en-us+m3@175,en-us+f3@130]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.capture import capture_confirmation, capture_date, capture_email, capture_phone  # noqa: E402
from core.stt.settings import SttSettings  # noqa: E402
from core.stt.whisper import Transcriber  # noqa: E402
from core.tts.engine import EngineVoice  # noqa: E402
from core.tts.espeak import WORDS_PER_MINUTE, EspeakEngine  # noqa: E402
from core.tts.settings import TtsSettings  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
REFERENCE = dt.date(2026, 12, 2)
UTTERANCES: tuple[tuple[str, str, str], ...] = (  # (objective, said, value)
    ("email", "my email is olivia dot martin at gmail dot com", "olivia.martin@gmail.com"),
    ("email", "kevin seven at outlook dot com", "kevin7@outlook.com"),
    ("email", "it's james underscore cole at yahoo dot com", "james_cole@yahoo.com"),
    ("email", "rachel dot stone at hotmail dot com", "rachel.stone@hotmail.com"),
    ("email", "j a m e s dot c o l e at yahoo dot com", "james.cole@yahoo.com"),
    ("email", "n i n a five at example dot com", "nina5@example.com"),
    ("email", "victor dot price at example dot com", "victor.price@example.com"),
    ("email", "my address is helen dot ford at gmail dot com", "helen.ford@gmail.com"),
    ("email", "oscar nine at yahoo dot com", "oscar9@yahoo.com"),
    ("email", "sure, it's diana underscore reed at outlook dot com", "diana_reed@outlook.com"),
    ("email", "h e l e n dot f o r d at gmail dot com", "helen.ford@gmail.com"),
    ("email", "frank dot ellis at hotmail dot com", "frank.ellis@hotmail.com"),
    ("phone", "four one five, five five five, zero one nine two", "+14155550192"),
    ("phone", "my number is seven one eight, three three two, eight eight four one",
     "+17183328841"),
    ("phone", "six zero two, four four one, nine zero zero seven", "+16024419007"),
    ("phone", "three one two, seven seven zero, five one six four", "+13127705164"),
    ("phone", "it's nine four nine, two six one, three zero eight two", "+19492613082"),
    ("date", "March the fourteenth", "2027-03-14"),
    ("date", "how about the third of June", "2027-06-03"),
    ("date", "October twenty first", "2027-10-21"),
    ("date", "let's say the nineteenth of January", "2027-01-19"),
    ("date", "February the twenty eighth", "2027-02-28"),
    ("confirmation", "yes, that's right", "yes"),
    ("confirmation", "no, it's olivia dot martin at gmail dot com", "no"),
    ("confirmation", "yeah, that's correct", "yes"),
    ("confirmation", "no, it's seven one eight, three three two, eight eight four one", "no"),
)
DEFAULT_VOICES = ("en-us+m3@175", "en-us+m3@130", "en-us+f3@130", "en-gb+m3@175",
                  "en-us+klatt@175", "en-us+klatt4@175", "en-us+klatt6@175")


def capture(objective: str, text: str) -> str | None:
    if objective == "email":
        result = capture_email(text)
    elif objective == "phone":
        result = capture_phone(text)
    elif objective == "date":
        result = capture_date(text, reference_date=REFERENCE)
    else:
        result = capture_confirmation(text)
    return None if result is None else str(result.value)


def score_voice(spec: str, engine: EspeakEngine, stt: Transcriber) -> dict[str, Any]:
    voice_id, _, wpm = spec.partition("@")
    voice = EngineVoice("espeak-ng", voice_id, "en", "male")
    speed = int(wpm or WORDS_PER_MINUTE) / WORDS_PER_MINUTE
    heard: list[dict[str, Any]] = []
    for objective, said, value in UTTERANCES:
        pcm = engine.synthesize(said, voice, speed=speed)
        text = stt.transcribe(pcm, language="en", hint=objective).text
        read = capture(objective, text)
        heard.append({"said": said, "heard": text, "read": read, "right": read == value})
    right = sum(h["right"] for h in heard)
    print(f"{spec:<16} {right:2d}/{len(heard)}", flush=True)
    return {"voice": spec, "right": right, "utterances": len(heard), "heard": heard}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--voices", default=",".join(DEFAULT_VOICES),
                        help="comma-separated espeak-ng voice@words-per-minute")
    args = parser.parse_args()
    engine = EspeakEngine(TtsSettings())
    stt = Transcriber(SttSettings(model=args.model))
    started = time.perf_counter()
    scores = [score_voice(spec, engine, stt) for spec in args.voices.split(",")]
    result = {"model": args.model, "seconds": round(time.perf_counter() - started, 1),
              "load_average": [round(x, 2) for x in os.getloadavg()],
              "cpus": os.cpu_count(), "voices": scores}
    RESULTS.mkdir(exist_ok=True)
    name = "espeak_voices.json" if args.model == "tiny.en" else f"espeak_voices-{args.model}.json"
    (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")
    print(f"model {args.model}, {result['seconds']} s, load average {result['load_average']}")


if __name__ == "__main__":
    main()
