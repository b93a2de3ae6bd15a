"""voicecore's exception tree; library errors are mapped onto it here, and only here.

::

    VoiceCoreError
    ├── ConfigError               bad settings or CLI input (one-line message)
    ├── InvalidConversationId     not usable as a NATS subject token (also a ValueError)
    ├── EmbeddedServerError       the embedded nats-server could not start or stop
    ├── BusError                  talking to NATS / JetStream failed
    │   ├── BusUnavailable        no connection, timed out, no responders
    │   └── StreamError           JetStream refused an API call (stream/consumer config, …)
    ├── PrimitiveError            raised by a primitive's handler
    │   └── InvalidParams         params decode but make no sense (e.g. region "ZZ")
    └── EventLogError             the DuckDB event log: missing, busy, bad query, no such row
        ├── LogQueryError         SQL rejected (not read-only) or failed in DuckDB
        └── LogUnwritable         the log file cannot be written now (I/O, memory, closed)

Malformed *events* are not exceptions a caller sees: the worker dead-letters them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import nats.errors
import nats.js.errors


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


class PrimitiveError(VoiceCoreError):
    code = "PRIMITIVE_FAILED"


class InvalidParams(PrimitiveError, ValueError):
    code = "INVALID_PARAMS"


class EventLogError(VoiceCoreError):
    """The DuckDB event log: missing, busy, bad query, no such row."""


class LogQueryError(EventLogError):
    """SQL rejected (not read-only) or failed in DuckDB."""


class LogUnwritable(EventLogError):
    """The log *file* cannot be written now (I/O, memory, closed or invalidated database).

    Not the fault of the rows being written: the sink keeps them and retries.
    """


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
        return StreamError(f"JetStream refused: {exc.description or exc} (code {exc.err_code})")
    if isinstance(exc, _UNAVAILABLE):
        return BusUnavailable(f"NATS unavailable: {type(exc).__name__}: {exc}".rstrip(": "))
    if isinstance(exc, nats.errors.Error):
        return BusError(f"NATS error: {exc}")
    raise TypeError(f"not a NATS error: {exc!r}") from exc


@contextmanager
def nats_errors() -> Iterator[None]:
    """Re-raise NATS library errors as :class:`BusError` subclasses."""
    try:
        yield
    except (TimeoutError, nats.errors.Error, ConnectionError, OSError) as exc:
        raise translate(exc) from exc


def log_write_failure(exc: BaseException) -> LogUnwritable | None:
    """:class:`LogUnwritable` when ``exc`` says DuckDB's file or process failed, else ``None``.

    Everything else a write raises (conversion, constraint, Arrow errors) is blamed
    on the rows, which the log then stores another way instead of retrying them.
    """
    import duckdb  # here, not at the top: most processes never touch the log

    environment = (duckdb.OperationalError, duckdb.FatalException, duckdb.InterruptException,
                   duckdb.PermissionException, OSError, MemoryError)
    if not isinstance(exc, environment):
        return None
    first_line = (str(exc).splitlines() or [""])[0][:200]
    return LogUnwritable(f"the event log cannot be written: {type(exc).__name__}: {first_line}")
