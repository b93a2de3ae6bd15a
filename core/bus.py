"""The bus: one NATS connection, the JetStream streams, and publishing events.

Publishing is the single tracing middleware on the producer side: every event
leaves through :meth:`Bus.publish`, which opens the PRODUCER span, writes
``Nats-Msg-Id`` (= event id, so JetStream drops duplicates), ``traceparent`` and
``Vc-Event-Type`` headers, and maps NATS errors to :mod:`core.errors`. It returns
once JetStream has stored the event (its PubAck), like ``js.publish``, but PubAcks
are matched on one inbox by a counter with one timer each (:class:`core.pubacks.PubAcks`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js import api as js_api
from nats.js.errors import NotFoundError

from core import natsraw, subjects, tracing
from core.config import StreamLimits, WorkerOptions
from core.errors import (
    NATS_ERRORS,
    BusUnavailable,
    authorization_violation,
    connect_failure,
    nats_errors,
    permission_denied,
)
from core.natsauth import NatsAuth, masked_url
from core.pubacks import PubAcks, stored_at
from schemas.events import Event, encode

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Published:
    subject: str
    sequence: int
    duplicate: bool


def messaging_attributes(subject: str, event: Event, operation: str) -> dict[str, Any]:
    """OpenTelemetry messaging semantic-convention attributes for one event."""
    return {
        "messaging.system": "nats",
        "messaging.operation.name": operation,
        "messaging.operation.type": "send" if operation == "publish" else "process",
        "messaging.destination.name": subject,
        "messaging.destination.template":
            f"{subjects.EVENT_PREFIX}.{{conversation_id}}.{event.event_type}",
        "messaging.message.id": event.id,
        "messaging.message.conversation_id": event.conversation_id,
        "voicecore.trace_id": event.trace_id,
    }


PUBLISH_TIMEOUT_S = 5.0
"""How long a publish waits for JetStream's PubAck (nats-py's default)."""


CONNECT_BOUND_S = 15.0
"""The longest a first connect may take, all attempts included."""


class ServerErrors:
    """The error callback of one connection: logs what the server said and keeps the
    last error, so a refused connect or publish can be named (core/errors.py)."""

    def __init__(self, logger: logging.Logger, quiet: bool = False) -> None:
        self.logger = logger
        self.quiet = quiet
        self.last: Exception | None = None
        self.refused = False
        """The server refused this identity's credentials (authorization violation)."""
        self.denied: asyncio.Event = asyncio.Event()
        """Set when the server refused a publish or subscribe (a permission)."""

    async def on_error(self, exc: Exception) -> None:
        self.last = exc
        self.refused = self.refused or authorization_violation(exc)
        if permission_denied(exc) is not None:
            self.denied.set()
        # Refused connections while (re)connecting are expected; `disconnected` says it once.
        # A refused identity becomes the connect's one error line (connect_failure).
        quiet = self.quiet or isinstance(exc, OSError) or authorization_violation(exc)
        self.logger.log(logging.INFO if quiet else logging.WARNING, "nats: %s", exc)


async def open_connection(url: str, auth: NatsAuth, errors: ServerErrors, *, name: str,
                          **options: Any) -> NATS:
    """``nats.connect`` to ``url`` (comma-separated servers) as ``auth``; a refused
    identity is one :class:`~core.errors.BusRefused` line, never "no servers available"."""
    connecting = nats.connect(
        servers=[u.strip() for u in url.split(",") if u.strip()], name=name,
        connect_timeout=2, error_cb=errors.on_error, **options, **auth.connect_options())
    try:
        # Bounded: nats-py can wait forever on a server that requires TLS from a client
        # that has no TLS settings.
        return await asyncio.wait_for(connecting, CONNECT_BOUND_S)
    except NATS_ERRORS as exc:
        raise connect_failure(exc, errors.refused, f"{auth.describe()} at {masked_url(url)}",
                              errors.last, tls=auth.speaks_tls(url)) from exc


class Bus:
    def __init__(self, nc: NATS) -> None:
        self.nc = nc
        natsraw.install(nc)  # less Python per message received (core/natsraw.py)
        self.js: JetStreamContext = nc.jetstream()
        self._acks = PubAcks(nc)

    @classmethod
    async def connect(cls, url: str, *, name: str = "voicecore",
                      auth: NatsAuth | None = None) -> Bus:
        """Connect (comma-separated URLs = a cluster) as ``auth`` (anonymous when ``None``);
        reconnects forever once connected."""

        async def on_disconnect() -> None:
            log.info("nats: disconnected")

        nc = await open_connection(
            url, auth or NatsAuth(), ServerErrors(log), name=name,
            allow_reconnect=True,
            # nats-py retries a *first* connect forever when this is -1: fail fast instead,
            max_reconnect_attempts=2,
            reconnect_time_wait=0.5,
            disconnected_cb=on_disconnect,
        )
        # ...then, once connected, ride out server restarts for as long as it takes.
        nc.options["max_reconnect_attempts"] = -1
        return cls(nc)

    async def ensure_streams(self, limits: StreamLimits, *, update: bool = True) -> None:
        """Create or update the streams (idempotent; safe from several processes).

        ``update=False`` only creates a missing stream: identities other than the admin
        may create the streams (so processes start in any order) but not change them."""
        await self._ensure_stream(
            update,
            js_api.StreamConfig(
                name=subjects.EVENTS_STREAM,
                description="voicecore events: vc.ev.<conversation>.<source>.<event>",
                subjects=[f"{subjects.EVENT_PREFIX}.>"],
                storage=js_api.StorageType.FILE,
                retention=js_api.RetentionPolicy.LIMITS,
                discard=js_api.DiscardPolicy.OLD,
                max_age=limits.max_age_s,
                max_bytes=limits.max_bytes,
                duplicate_window=limits.duplicate_window_s,
                allow_direct=True,
            )
        )
        await self._ensure_stream(
            update,
            js_api.StreamConfig(
                name=subjects.DLQ_STREAM,
                description="dead-lettered requests: original body, reason in headers",
                subjects=[f"{subjects.DLQ_PREFIX}.>"],
                storage=js_api.StorageType.FILE,
                retention=js_api.RetentionPolicy.LIMITS,
                max_age=limits.dlq_max_age_s,
                duplicate_window=limits.duplicate_window_s,
            )
        )
        await self._ensure_stream(
            update,
            js_api.StreamConfig(
                name=subjects.AUDIO_IN_STREAM,
                description="streamed audio chunks: vc.audio.<conversation>.<stream id> "
                            "(raw bodies, envelope in headers)",
                subjects=[f"{subjects.AUDIO_IN_PREFIX}.>"],
                storage=js_api.StorageType.FILE,
                retention=js_api.RetentionPolicy.LIMITS,
                max_age=limits.audio_in_max_age_s,
                duplicate_window=min(limits.duplicate_window_s, limits.audio_in_max_age_s),
            )
        )

    async def _ensure_stream(self, update: bool, config: js_api.StreamConfig) -> None:
        with nats_errors():
            try:
                await self.js.stream_info(str(config.name))
            except NotFoundError:
                await self.js.add_stream(config)
            else:
                if update:
                    await self.js.update_stream(config)

    async def ensure_consumer(self, primitive: str, options: WorkerOptions) -> str:
        """The durable pull consumer all workers of ``primitive`` share (create or update)."""
        name = subjects.consumer_name(primitive)
        config = js_api.ConsumerConfig(
            name=name,
            durable_name=name,
            description=f"workers of primitive {primitive}",
            filter_subject=subjects.requests_filter(primitive),
            deliver_policy=js_api.DeliverPolicy.ALL,
            ack_policy=js_api.AckPolicy.EXPLICIT,
            ack_wait=options.ack_wait_s,
            max_deliver=options.max_deliver,
            max_ack_pending=max(1000, options.concurrency * 64),
        )
        with nats_errors():
            await self.js.add_consumer(subjects.EVENTS_STREAM, config)
        return name

    async def publish(self, event: Event, *, subject: str | None = None) -> Published:
        """Publish one event to JetStream inside a PRODUCER span; waits for the stream's ack."""
        subject = subject or subjects.event_subject(event.conversation_id, event.event_type)
        body = encode(event)
        headers = {subjects.HEADER_MSG_ID: event.id, subjects.HEADER_EVENT_TYPE: event.event_type}
        if not tracing.recording():  # the span would record nothing: only its traceparent
            tracing.inject_unrecorded_child(headers, event.trace_id)
            return await self.publish_raw(subject, body, headers)
        with tracing.start_span(f"publish {event.event_type}",
                                context=tracing.parent_context(event.trace_id),
                                kind=tracing.PRODUCER,
                                attributes=messaging_attributes(subject, event, "publish")):
            tracing.inject(headers)
            return await self.publish_raw(subject, body, headers)

    async def publish_raw(self, subject: str, body: bytes, headers: dict[str, str]) -> Published:
        if not self.nc.is_connected:
            raise BusUnavailable("NATS unavailable: not connected")
        with nats_errors():
            sequence, duplicate = stored_at(
                await self._acks.request(subject, body, headers, PUBLISH_TIMEOUT_S))
        return Published(subject=subject, sequence=sequence, duplicate=duplicate)

    async def drain(self, timeout_s: float | None = None) -> None:
        """Flush what is buffered and close; never raises on an already-closed connection.
        ``timeout_s``: close anyway after that long (a drain can wait up to nats-py's own
        30 s on a subscription whose last messages never come, longer than a supervisor
        waits for a process to stop)."""
        if self.nc.is_closed:
            return
        try:
            await asyncio.wait_for(self.nc.drain(), timeout_s)
        except Exception as exc:  # a drain during shutdown must not mask the real exit path
            log.warning("nats drain: %s", exc if str(exc) else type(exc).__name__)
            await self.nc.close()
