"""ListVoices and GetVoice: the voice catalogue (``core.tts.voices``) as proto ``Voice``s.

A voice is shown as it will be spoken *here*: the engine and engine voice that would
answer a request for it now (a Piper model that is not installed falls back, and
``note`` says so). Filters are checked first (``INVALID_ARGUMENT`` naming the filter);
an unknown voice id is ``NOT_FOUND``. ``GetVoice`` has no language: it shows the voice
in English, the default language, and ``languages`` lists every one it speaks. The
catalogue looks at installed models on disk, so it is read off the event loop.
"""

from __future__ import annotations

import asyncio

from bridge import limits
from bridge._proto import audio_service_pb2 as pb
from core.tts.engine import GENDERS, engine_names
from core.tts.voices import VoiceCatalog, VoiceInfo
from core.tts.voicesfile import LANGUAGES

GET_VOICE_LANGUAGE = "en"


class VoiceBook:
    def __init__(self, catalog: VoiceCatalog) -> None:
        self.catalog = catalog

    async def list(self, req: pb.ListVoicesRequest) -> pb.ListVoicesResponse:
        for field, value, known in (("language", req.language, LANGUAGES),
                                    ("engine", req.engine, engine_names()),
                                    ("gender", req.gender, GENDERS)):
            if value and value not in known:
                raise limits.invalid(f"{field}: {value[:32]!r} is not one of "
                                     f"{', '.join(known)}")
        rows = await asyncio.to_thread(self.catalog.list, language=req.language or None,
                                       engine=req.engine or None, gender=req.gender or None)
        return pb.ListVoicesResponse(voices=[voice_message(row) for row in rows])

    async def get(self, voice_id: str) -> pb.Voice:
        """The voice by id or name; :class:`~core.errors.UnknownVoice` (NOT_FOUND) if none."""
        if not voice_id:
            raise limits.invalid("voice_id is required")
        return await asyncio.to_thread(self._get, voice_id)

    def _get(self, voice_id: str) -> pb.Voice:
        prefix, _, rest = voice_id.partition(":")
        if rest and prefix in engine_names():  # ENGINE:VOICE, as a request may name it
            engine, spoken_by, our_id = self.catalog.resolve(voice_id, GET_VOICE_LANGUAGE)
            return pb.Voice(id=our_id, name=spoken_by.id, language=spoken_by.language,
                            gender=spoken_by.gender, engine=engine.name,
                            languages=[spoken_by.language], engine_voice=spoken_by.id)
        return voice_message(self.catalog.get(voice_id, GET_VOICE_LANGUAGE))


def voice_message(info: VoiceInfo) -> pb.Voice:
    return pb.Voice(id=info.id, name=info.name, language=info.language, gender=info.gender,
                    engine=info.engine, languages=list(info.languages),
                    engine_voice=info.engine_voice, note=info.note)
