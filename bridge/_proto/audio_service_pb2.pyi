from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TTSRequest(_message.Message):
    __slots__ = ("text", "voice_id", "language", "format", "sample_rate", "speed", "conversation_id", "trace_id")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    VOICE_ID_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    SPEED_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    text: str
    voice_id: str
    language: str
    format: str
    sample_rate: int
    speed: float
    conversation_id: str
    trace_id: str
    def __init__(self, text: _Optional[str] = ..., voice_id: _Optional[str] = ..., language: _Optional[str] = ..., format: _Optional[str] = ..., sample_rate: _Optional[int] = ..., speed: _Optional[float] = ..., conversation_id: _Optional[str] = ..., trace_id: _Optional[str] = ...) -> None: ...

class AudioChunk(_message.Message):
    __slots__ = ("data", "sequence", "format", "sample_rate", "is_final", "conversation_id", "trace_id", "language", "hint")
    DATA_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    IS_FINAL_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    HINT_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    sequence: int
    format: str
    sample_rate: int
    is_final: bool
    conversation_id: str
    trace_id: str
    language: str
    hint: str
    def __init__(self, data: _Optional[bytes] = ..., sequence: _Optional[int] = ..., format: _Optional[str] = ..., sample_rate: _Optional[int] = ..., is_final: _Optional[bool] = ..., conversation_id: _Optional[str] = ..., trace_id: _Optional[str] = ..., language: _Optional[str] = ..., hint: _Optional[str] = ...) -> None: ...

class STTResponse(_message.Message):
    __slots__ = ("text", "language", "language_probability", "confidence", "segments", "duration_seconds", "trace_id", "conversation_id", "request_event_id", "result_event_id", "model", "real_time_factor", "audio")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    REAL_TIME_FACTOR_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    text: str
    language: str
    language_probability: float
    confidence: float
    segments: _containers.RepeatedCompositeFieldContainer[Segment]
    duration_seconds: float
    trace_id: str
    conversation_id: str
    request_event_id: str
    result_event_id: str
    model: str
    real_time_factor: float
    audio: AudioObject
    def __init__(self, text: _Optional[str] = ..., language: _Optional[str] = ..., language_probability: _Optional[float] = ..., confidence: _Optional[float] = ..., segments: _Optional[_Iterable[_Union[Segment, _Mapping]]] = ..., duration_seconds: _Optional[float] = ..., trace_id: _Optional[str] = ..., conversation_id: _Optional[str] = ..., request_event_id: _Optional[str] = ..., result_event_id: _Optional[str] = ..., model: _Optional[str] = ..., real_time_factor: _Optional[float] = ..., audio: _Optional[_Union[AudioObject, _Mapping]] = ...) -> None: ...

class STTResult(_message.Message):
    __slots__ = ("text", "is_final", "stability", "confidence", "audio_end_seconds")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    IS_FINAL_FIELD_NUMBER: _ClassVar[int]
    STABILITY_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    AUDIO_END_SECONDS_FIELD_NUMBER: _ClassVar[int]
    text: str
    is_final: bool
    stability: float
    confidence: float
    audio_end_seconds: float
    def __init__(self, text: _Optional[str] = ..., is_final: _Optional[bool] = ..., stability: _Optional[float] = ..., confidence: _Optional[float] = ..., audio_end_seconds: _Optional[float] = ...) -> None: ...

class Segment(_message.Message):
    __slots__ = ("start", "end", "text", "words", "confidence")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    WORDS_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    start: float
    end: float
    text: str
    words: _containers.RepeatedCompositeFieldContainer[Word]
    confidence: float
    def __init__(self, start: _Optional[float] = ..., end: _Optional[float] = ..., text: _Optional[str] = ..., words: _Optional[_Iterable[_Union[Word, _Mapping]]] = ..., confidence: _Optional[float] = ...) -> None: ...

class Word(_message.Message):
    __slots__ = ("start", "end", "word", "probability")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    WORD_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    start: float
    end: float
    word: str
    probability: float
    def __init__(self, start: _Optional[float] = ..., end: _Optional[float] = ..., word: _Optional[str] = ..., probability: _Optional[float] = ...) -> None: ...

class ListVoicesRequest(_message.Message):
    __slots__ = ("language", "engine", "gender")
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    GENDER_FIELD_NUMBER: _ClassVar[int]
    language: str
    engine: str
    gender: str
    def __init__(self, language: _Optional[str] = ..., engine: _Optional[str] = ..., gender: _Optional[str] = ...) -> None: ...

class ListVoicesResponse(_message.Message):
    __slots__ = ("voices",)
    VOICES_FIELD_NUMBER: _ClassVar[int]
    voices: _containers.RepeatedCompositeFieldContainer[Voice]
    def __init__(self, voices: _Optional[_Iterable[_Union[Voice, _Mapping]]] = ...) -> None: ...

class GetVoiceRequest(_message.Message):
    __slots__ = ("voice_id",)
    VOICE_ID_FIELD_NUMBER: _ClassVar[int]
    voice_id: str
    def __init__(self, voice_id: _Optional[str] = ...) -> None: ...

class Voice(_message.Message):
    __slots__ = ("id", "name", "language", "gender", "engine", "languages", "engine_voice", "note")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    GENDER_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    ENGINE_VOICE_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    language: str
    gender: str
    engine: str
    languages: _containers.RepeatedScalarFieldContainer[str]
    engine_voice: str
    note: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., language: _Optional[str] = ..., gender: _Optional[str] = ..., engine: _Optional[str] = ..., languages: _Optional[_Iterable[str]] = ..., engine_voice: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class ProcessAudioFileRequest(_message.Message):
    __slots__ = ("text", "audio", "format", "sample_rate", "voice_id", "speed", "language", "conversation_id", "trace_id", "hint", "subtitles")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    VOICE_ID_FIELD_NUMBER: _ClassVar[int]
    SPEED_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    HINT_FIELD_NUMBER: _ClassVar[int]
    SUBTITLES_FIELD_NUMBER: _ClassVar[int]
    text: str
    audio: bytes
    format: str
    sample_rate: int
    voice_id: str
    speed: float
    language: str
    conversation_id: str
    trace_id: str
    hint: str
    subtitles: str
    def __init__(self, text: _Optional[str] = ..., audio: _Optional[bytes] = ..., format: _Optional[str] = ..., sample_rate: _Optional[int] = ..., voice_id: _Optional[str] = ..., speed: _Optional[float] = ..., language: _Optional[str] = ..., conversation_id: _Optional[str] = ..., trace_id: _Optional[str] = ..., hint: _Optional[str] = ..., subtitles: _Optional[str] = ...) -> None: ...

class ProcessAudioFileResponse(_message.Message):
    __slots__ = ("data", "format", "sample_rate", "duration_seconds", "objects", "usage", "transcription", "conversation_id", "trace_id", "request_event_id", "result_event_id", "voice_id", "engine", "subtitles")
    DATA_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    OBJECTS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    TRANSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    VOICE_ID_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    SUBTITLES_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    format: str
    sample_rate: int
    duration_seconds: float
    objects: _containers.RepeatedCompositeFieldContainer[AudioObject]
    usage: Usage
    transcription: STTResponse
    conversation_id: str
    trace_id: str
    request_event_id: str
    result_event_id: str
    voice_id: str
    engine: str
    subtitles: str
    def __init__(self, data: _Optional[bytes] = ..., format: _Optional[str] = ..., sample_rate: _Optional[int] = ..., duration_seconds: _Optional[float] = ..., objects: _Optional[_Iterable[_Union[AudioObject, _Mapping]]] = ..., usage: _Optional[_Union[Usage, _Mapping]] = ..., transcription: _Optional[_Union[STTResponse, _Mapping]] = ..., conversation_id: _Optional[str] = ..., trace_id: _Optional[str] = ..., request_event_id: _Optional[str] = ..., result_event_id: _Optional[str] = ..., voice_id: _Optional[str] = ..., engine: _Optional[str] = ..., subtitles: _Optional[str] = ...) -> None: ...

class AudioObject(_message.Message):
    __slots__ = ("bucket", "name", "size", "sha256", "format", "sample_rate", "duration_seconds")
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    bucket: str
    name: str
    size: int
    sha256: str
    format: str
    sample_rate: int
    duration_seconds: float
    def __init__(self, bucket: _Optional[str] = ..., name: _Optional[str] = ..., size: _Optional[int] = ..., sha256: _Optional[str] = ..., format: _Optional[str] = ..., sample_rate: _Optional[int] = ..., duration_seconds: _Optional[float] = ...) -> None: ...

class Usage(_message.Message):
    __slots__ = ("engine", "voice", "characters", "audio_seconds")
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    VOICE_FIELD_NUMBER: _ClassVar[int]
    CHARACTERS_FIELD_NUMBER: _ClassVar[int]
    AUDIO_SECONDS_FIELD_NUMBER: _ClassVar[int]
    engine: str
    voice: str
    characters: int
    audio_seconds: float
    def __init__(self, engine: _Optional[str] = ..., voice: _Optional[str] = ..., characters: _Optional[int] = ..., audio_seconds: _Optional[float] = ...) -> None: ...
