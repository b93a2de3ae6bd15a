"""The committed generated code is what ``python -m bridge.gen_proto`` produces today."""

from __future__ import annotations

from pathlib import Path

from bridge import gen_proto


def test_regenerating_the_proto_yields_the_committed_files(tmp_path: Path) -> None:
    fresh = gen_proto.generate(tmp_path)
    for path in fresh:
        committed = gen_proto.OUT / path.name
        assert committed.read_bytes() == path.read_bytes(), (
            f"{committed} is stale: run `python -m bridge.gen_proto`")


def test_contract_names_and_field_numbers() -> None:
    from bridge._proto import voice_core_pb2 as pb

    service = pb.DESCRIPTOR.services_by_name["VoiceCore"]
    assert pb.DESCRIPTOR.package == "voicecore.v1"
    assert [m.name for m in service.methods] == ["ExecutePrimitive", "StreamEvents",
                                                 "HealthCheck"]
    expected = {
        "ExecutePrimitiveRequest": ["objective_type", "params", "conversation_id", "trace_id",
                                    "purpose", "timeout_seconds", "idempotency_key"],
        "ExecutePrimitiveResponse": ["success", "data", "error", "metadata"],
        "PrimitiveError": ["code", "message", "retryable"],
        "ExecutionMetadata": ["duration_ms", "retry_count", "confidence", "state", "trace_id",
                              "request_event_id", "result_event_id"],
        "StreamEventsRequest": ["conversation_id", "trace_id", "event_types", "start_sequence",
                                "start_time"],
        "Event": ["id", "type", "subject", "sequence", "conversation_id", "trace_id",
                  "causation_id", "occurred_at", "data"],
        "HealthCheckResponse": ["status", "components", "primitives", "version"],
        "ComponentHealth": ["name", "status", "detail"],
    }
    for message, fields in expected.items():
        descriptor = pb.DESCRIPTOR.message_types_by_name[message]
        assert [(f.name, f.number) for f in descriptor.fields] == [
            (name, i) for i, name in enumerate(fields, start=1)]
    assert [(v.name, v.number) for v in pb.DESCRIPTOR.enum_types_by_name["ServingStatus"].values] \
        == [("SERVING_STATUS_UNSPECIFIED", 0), ("SERVING", 1), ("NOT_SERVING", 2),
            ("DEGRADED", 3)]


def test_audio_service_names_and_field_numbers() -> None:
    """issue 10's contract for AudioService: these names and numbers, fields added after."""
    from bridge._proto import audio_service_pb2 as pb

    service = pb.DESCRIPTOR.services_by_name["AudioService"]
    assert pb.DESCRIPTOR.package == "voicecore.v1"
    assert [(m.name, m.client_streaming, m.server_streaming) for m in service.methods] == [
        ("TextToSpeech", False, True), ("SpeechToText", True, False),
        ("StreamingSpeechToText", True, True), ("ListVoices", False, False),
        ("GetVoice", False, False), ("ProcessAudioFile", False, False)]
    expected = {
        "TTSRequest": ["text", "voice_id", "language", "format", "sample_rate", "speed",
                       "conversation_id", "trace_id"],
        "AudioChunk": ["data", "sequence", "format", "sample_rate", "is_final",
                       "conversation_id", "trace_id", "language", "hint"],
        "STTResponse": ["text", "language", "language_probability", "confidence", "segments",
                        "duration_seconds", "trace_id"],
        "STTResult": ["text", "is_final", "stability", "confidence", "audio_end_seconds"],
        "Segment": ["start", "end", "text", "words", "confidence"],
        "Word": ["start", "end", "word", "probability"],
        "ListVoicesRequest": ["language", "engine", "gender"],
        "ListVoicesResponse": ["voices"],
        "GetVoiceRequest": ["voice_id"],
        "Voice": ["id", "name", "language", "gender", "engine", "languages"],
    }
    for message, fields in expected.items():
        descriptor = pb.DESCRIPTOR.message_types_by_name[message]
        assert [(f.name, f.number) for f in descriptor.fields][:len(fields)] == [
            (name, i) for i, name in enumerate(fields, start=1)]
    file_request = pb.DESCRIPTOR.message_types_by_name["ProcessAudioFileRequest"]
    assert [f.name for f in file_request.oneofs_by_name["input"].fields] == ["text", "audio"]
