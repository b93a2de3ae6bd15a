"""voicecore's exception tree; library errors are mapped onto it here, and only here.

::

    VoiceCoreError
    ├── ConfigError               bad settings or CLI input (one-line message)
    ├── InvalidConversationId     not usable as a NATS subject token (also a ValueError)
    ├── EmbeddedServerError       the embedded nats-server could not start or stop
    ├── BusError                  talking to NATS / JetStream failed
    │   ├── BusUnavailable        no connection, timed out, no responders
    │   ├── BusRefused            NATS refused this identity: credentials or a permission
    │   └── StreamError           JetStream refused an API call (stream/consumer config, …)
    ├── PrimitiveError            raised by a primitive's handler (its ``code`` is the failure's)
    │   ├── InvalidParams         params decode but make no sense (e.g. region "ZZ")
    │   │   └── UnknownVoice      no voice by that id or name (NOT_FOUND over AudioService)
    │   ├── InvalidAudio          audio that does not decode, or is over a size/duration limit
    │   ├── AudioUnavailable      an audio object is gone (TTL, redaction) or fails its sha256
    │   └── EngineUnavailable     a speech engine cannot answer now (offline, missing): retryable
    │       └── ModelNotFound     no place has the speech-to-text model (core/stt/models.py)
    ├── EventLogError             the DuckDB event log: missing, busy, bad query, no such row
    │   ├── LogQueryError         SQL rejected (not read-only) or failed in DuckDB
    │   └── LogUnwritable         the log file cannot be written now (I/O, memory, closed)
    │       └── LogLocked         held by another process (or connection): not opened
    └── GrpcError                 (bridge/errors.py) an error that *is* a gRPC status
        ├── CallError             the bridge answers a call with this status (server side)
        └── CoreError             (bridge/client.py) the Python client's failed call
            ├── CoreUnavailable       UNAVAILABLE: the core or NATS is down (retryable)
            ├── CircuitOpen           the client's breaker refused the call
            ├── CallRejected          INVALID_ARGUMENT, UNAUTHENTICATED, PERMISSION_DENIED
            └── DeadlineExceeded      the caller's own deadline passed

Each library's errors become voicecore errors in one function:

* NATS (nats-py, sockets): :func:`translate` (and :func:`nats_errors` around calls);
  its object store (stored audio): :func:`translate_object` (and :func:`object_errors`).
* DuckDB: :func:`translate_duckdb` (and :func:`log_write_failure` for the sink's writes).
* gRPC, both ways (bridge/): ``bridge.errors.status_for`` (voicecore error → the status
  every servicer answers with) and ``bridge.client.error_for_status`` (status → client error).

Malformed *events* are not exceptions a caller sees: the worker dead-letters them.
What is deliberately *not* raised (a best-effort cleanup, an ack whose loss only means a
redelivery, ...) goes through :mod:`core.ignoring` (``note_ignored`` / ``ignored``): logged
with its reason and counted in ``IGNORED``, never silently dropped.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from contextlib import contextmanager

import nats.errors
import nats.js.errors

from core.text import one_line


class VoiceCoreError(Exception):
    """Base of every error voicecore raises on purpose."""


class ConfigError(VoiceCoreError):
    """Bad settings or command-line input."""


class InvalidConversationId(VoiceCoreError, ValueError):
    """A conversation id that is not one NATS subject token."""


class EmbeddedServerError(VoiceCoreError):
    """The embedded nats-server could not start or stop."""


class BusError(VoiceCoreError):
    """Talking to NATS / JetStream failed."""


class BusUnavailable(BusError):
    """No connection, a timeout, or no responders: retry later."""


class StreamError(BusError):
    """JetStream refused an API call."""


class BusRefused(BusError):
    """NATS refused this identity: wrong or missing credentials, or a subject it may not use."""


class PrimitiveError(VoiceCoreError):
    code = "PRIMITIVE_FAILED"
    retryable = False
    """Whether the failure event says a later try may succeed."""


class InvalidParams(PrimitiveError, ValueError):
    code = "INVALID_PARAMS"


class UnknownVoice(InvalidParams):
    """No voice by that id or name, in the voice catalogue or in the engine."""


class InvalidAudio(PrimitiveError):
    """Audio that does not decode (the message says what was wrong) or is over a limit."""

    code = "INVALID_AUDIO"


class AudioUnavailable(PrimitiveError):
    """An audio object that is referenced but gone (TTL, redaction) or fails its sha256."""

    code = "AUDIO_UNAVAILABLE"


class EngineUnavailable(PrimitiveError):
    """A speech engine cannot answer now: unreachable (gTTS offline), not installed, or
    its voice model is missing. Retryable: the same request may succeed later."""

    code = "ENGINE_UNAVAILABLE"
    retryable = True


class ModelNotFound(EngineUnavailable):
    """No place has the speech-to-text model: the message names each place looked at and
    the fixes (core/stt/models.py)."""


class EventLogError(VoiceCoreError):
    """The DuckDB event log: missing, busy, bad query, no such row."""


class LogQueryError(EventLogError):
    """SQL rejected (not read-only) or failed in DuckDB."""


class LogUnwritable(EventLogError):
    """The log *file* cannot be written now (I/O, memory, closed or invalidated database).

    Not the fault of the rows being written: the sink keeps them and retries.
    """


class LogLocked(LogUnwritable):
    """The log file is held by another process, or open here with another configuration."""


_UNAVAILABLE = (
    nats.errors.ConnectionClosedError,
    nats.errors.NoServersError,
    nats.errors.NoRespondersError,
    nats.errors.TimeoutError,
    nats.errors.StaleConnectionError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.ConnectionDrainingError,
    nats.js.errors.NoStreamResponseError,
    nats.js.errors.ServiceUnavailableError,
    asyncio.TimeoutError,
    ConnectionError,
    OSError,
)


def translate(exc: BaseException) -> VoiceCoreError:
    """The voicecore error for a nats-py (or socket) exception."""
    if isinstance(exc, VoiceCoreError):
        return exc
    if isinstance(exc, nats.js.errors.APIError) and not isinstance(
        exc, nats.js.errors.ServiceUnavailableError
    ):
        # nats-py's key-value errors are APIErrors made without APIError's fields
        description, code = getattr(exc, "description", None), getattr(exc, "err_code", None)
        return StreamError(f"JetStream refused: {description or exc} (code {code})")
    if isinstance(exc, _UNAVAILABLE):
        return BusUnavailable(f"NATS unavailable: {type(exc).__name__}: {exc}".rstrip(": "))
    if isinstance(exc, nats.errors.Error):
        return BusError(f"NATS error: {exc}")
    raise TypeError(f"not a NATS error: {exc!r}") from exc


NATS_ERRORS = (TimeoutError, nats.errors.Error, ConnectionError, OSError)
"""What nats-py (and the sockets under it) raise: every one has a :func:`translate`."""

_AUTHORIZATION_VIOLATION = "authorization violation"
_PERMISSIONS_VIOLATION = "permissions violation"


def connect_failure(exc: BaseException, refused: bool, who: str,
                    last: BaseException | None = None, tls: bool = False) -> VoiceCoreError:
    """The error of a failed connect: nats-py reports a refused CONNECT or a failed TLS
    handshake (``last``) only to its error callback, then "no servers available"; name
    the refusal instead. ``tls``: the client spoke TLS."""
    if refused:
        return BusRefused(f"NATS refused the connection: authorization violation ({who}); "
                          "pass --nats-creds, --nats-nkey, --nats-user/--nats-password or "
                          "--nats-token, or use the data directory of the running voicecore")
    why = _tls_failure(exc, last, tls)
    if why is not None:
        return BusUnavailable(f"NATS unavailable ({who}): {why}; pass --nats-tls-ca, and "
                              "--nats-tls-cert/--nats-tls-key when it verifies clients")
    return translate(exc)


def _tls_failure(exc: BaseException, last: BaseException | None, tls: bool) -> str | None:
    if isinstance(last, ssl.SSLError):
        return f"TLS failed: {one_line(str(last), 200)}"
    # TLS 1.3: a server that verifies clients refuses a missing certificate after the
    # client's side of the handshake is done, so the client often sees only the closed
    # socket when it writes CONNECT, not the server's alert.
    if tls and isinstance(last, (BrokenPipeError, ConnectionResetError)):
        return (f"TLS failed: the server closed the connection after the handshake "
                f"({type(last).__name__}; does it require a client certificate?)")
    if isinstance(exc, TimeoutError):
        return "no answer to the connection (does the server require TLS?)"
    return None


def authorization_violation(server_said: BaseException) -> bool:
    """Whether the server refused the connection's credentials."""
    return _AUTHORIZATION_VIOLATION in str(server_said).lower()


def permission_denied(server_said: BaseException) -> BusRefused | None:
    """:class:`BusRefused` when the server refused a publish or subscribe, else ``None``."""
    text = str(server_said)
    if _PERMISSIONS_VIOLATION not in text.lower():
        return None
    return BusRefused(f"NATS refused: {one_line(text.removeprefix('nats: '), 300)}")


@contextmanager
def nats_errors() -> Iterator[None]:
    """Re-raise NATS library errors as :class:`BusError` subclasses."""
    try:
        yield
    except NATS_ERRORS as exc:
        raise translate(exc) from exc


_OBJECT_GONE = (nats.js.errors.NotFoundError, nats.js.errors.ObjectDeletedError)


def translate_object(exc: BaseException, what: str) -> VoiceCoreError:
    """The voicecore error for a nats-py exception met reading the object ``what`` (an
    object store's): gone or damaged is :class:`AudioUnavailable`, the rest :func:`translate`."""
    if isinstance(exc, _OBJECT_GONE):  # the object, its metadata or its bucket
        return AudioUnavailable(f"{what} is gone (expired, deleted or redacted)")
    if isinstance(exc, nats.js.errors.DigestMismatchError):
        return AudioUnavailable(f"{what} does not match its digest")
    if isinstance(exc, nats.js.errors.BadObjectMetaError):
        return AudioUnavailable(f"{what} has unreadable metadata")
    return translate(exc)


@contextmanager
def object_errors(what: str) -> Iterator[None]:
    """Re-raise NATS library errors met reading the object ``what``: :func:`translate_object`."""
    try:
        yield
    except NATS_ERRORS as exc:
        raise translate_object(exc, what) from exc


def translate_duckdb(exc: BaseException, doing: str,
                     default: type[EventLogError] = EventLogError) -> EventLogError:
    """The voicecore error for a DuckDB exception met while ``doing`` something.

    :class:`LogLocked` when the file is held elsewhere (DuckDB says so only in its
    message: the one string test on DuckDB errors, here), else ``default`` (e.g.
    :class:`LogQueryError` for a user's SQL). The message is ``doing``, then DuckDB's
    first line, escaped and bounded.
    """
    kind = LogLocked if _locked(exc) else default
    text = one_line(str(exc))
    return kind(f"{doing}: {text}" if doing else text)


def _locked(exc: BaseException) -> bool:
    import duckdb  # here, not at the top: most processes never touch the log

    text = str(exc)
    return isinstance(exc, duckdb.IOException | duckdb.ConnectionException) and (
        "lock" in text.lower() or "different configuration" in text)


def log_write_failure(exc: BaseException) -> LogUnwritable | None:
    """:class:`LogUnwritable` when ``exc`` says DuckDB's file or process failed, else ``None``.

    Everything else a write raises (conversion, constraint, Arrow errors) is blamed
    on the rows, which the log then stores another way instead of retrying them.
    """
    import duckdb

    environment = (duckdb.OperationalError, duckdb.FatalException, duckdb.InterruptException,
                   duckdb.PermissionException, OSError, MemoryError)
    if not isinstance(exc, environment):
        return None
    doing = f"the event log cannot be written: {type(exc).__name__}"
    error = translate_duckdb(exc, doing, LogUnwritable)
    return error if isinstance(error, LogUnwritable) else LogUnwritable(str(error))
