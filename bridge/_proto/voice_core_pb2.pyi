import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ServingStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SERVING_STATUS_UNSPECIFIED: _ClassVar[ServingStatus]
    SERVING: _ClassVar[ServingStatus]
    NOT_SERVING: _ClassVar[ServingStatus]
    DEGRADED: _ClassVar[ServingStatus]
SERVING_STATUS_UNSPECIFIED: ServingStatus
SERVING: ServingStatus
NOT_SERVING: ServingStatus
DEGRADED: ServingStatus

class ExecutePrimitiveRequest(_message.Message):
    __slots__ = ("objective_type", "params", "conversation_id", "trace_id", "purpose", "timeout_seconds", "idempotency_key")
    OBJECTIVE_TYPE_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    objective_type: str
    params: _struct_pb2.Struct
    conversation_id: str
    trace_id: str
    purpose: str
    timeout_seconds: float
    idempotency_key: str
    def __init__(self, objective_type: _Optional[str] = ..., params: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., conversation_id: _Optional[str] = ..., trace_id: _Optional[str] = ..., purpose: _Optional[str] = ..., timeout_seconds: _Optional[float] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class ExecutePrimitiveResponse(_message.Message):
    __slots__ = ("success", "data", "error", "metadata")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    success: bool
    data: _struct_pb2.Struct
    error: PrimitiveError
    metadata: ExecutionMetadata
    def __init__(self, success: _Optional[bool] = ..., data: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., error: _Optional[_Union[PrimitiveError, _Mapping]] = ..., metadata: _Optional[_Union[ExecutionMetadata, _Mapping]] = ...) -> None: ...

class PrimitiveError(_message.Message):
    __slots__ = ("code", "message", "retryable")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RETRYABLE_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    retryable: bool
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ..., retryable: _Optional[bool] = ...) -> None: ...

class ExecutionMetadata(_message.Message):
    __slots__ = ("duration_ms", "retry_count", "confidence", "state", "trace_id", "request_event_id", "result_event_id")
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    RETRY_COUNT_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    duration_ms: float
    retry_count: int
    confidence: float
    state: str
    trace_id: str
    request_event_id: str
    result_event_id: str
    def __init__(self, duration_ms: _Optional[float] = ..., retry_count: _Optional[int] = ..., confidence: _Optional[float] = ..., state: _Optional[str] = ..., trace_id: _Optional[str] = ..., request_event_id: _Optional[str] = ..., result_event_id: _Optional[str] = ...) -> None: ...

class StreamEventsRequest(_message.Message):
    __slots__ = ("conversation_id", "trace_id", "event_types", "start_sequence", "start_time")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    START_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    trace_id: str
    event_types: _containers.RepeatedScalarFieldContainer[str]
    start_sequence: int
    start_time: _timestamp_pb2.Timestamp
    def __init__(self, conversation_id: _Optional[str] = ..., trace_id: _Optional[str] = ..., event_types: _Optional[_Iterable[str]] = ..., start_sequence: _Optional[int] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("id", "type", "subject", "sequence", "conversation_id", "trace_id", "causation_id", "occurred_at", "data")
    ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    CAUSATION_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    id: str
    type: str
    subject: str
    sequence: int
    conversation_id: str
    trace_id: str
    causation_id: str
    occurred_at: _timestamp_pb2.Timestamp
    data: _struct_pb2.Struct
    def __init__(self, id: _Optional[str] = ..., type: _Optional[str] = ..., subject: _Optional[str] = ..., sequence: _Optional[int] = ..., conversation_id: _Optional[str] = ..., trace_id: _Optional[str] = ..., causation_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., data: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class HealthCheckRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class HealthCheckResponse(_message.Message):
    __slots__ = ("status", "components", "primitives", "version")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    PRIMITIVES_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    status: ServingStatus
    components: _containers.RepeatedCompositeFieldContainer[ComponentHealth]
    primitives: _containers.RepeatedScalarFieldContainer[str]
    version: str
    def __init__(self, status: _Optional[_Union[ServingStatus, str]] = ..., components: _Optional[_Iterable[_Union[ComponentHealth, _Mapping]]] = ..., primitives: _Optional[_Iterable[str]] = ..., version: _Optional[str] = ...) -> None: ...

class ComponentHealth(_message.Message):
    __slots__ = ("name", "status", "detail")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    name: str
    status: ServingStatus
    detail: str
    def __init__(self, name: _Optional[str] = ..., status: _Optional[_Union[ServingStatus, str]] = ..., detail: _Optional[str] = ...) -> None: ...
