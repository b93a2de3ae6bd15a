"""Least privilege on NATS: each role's subject permissions, and the server configuration.

The embedded server's ``authorization`` block is built here from the stored
credentials (core/natsauth.py); ``voicecore nats-config`` prints the same block with
placeholder passwords, as a template for an external server. A result
(``vc.ev.*.<primitive>.completed``/``.failed``) may be published by the worker identity
only, for the primitives it serves: a subscriber can no longer forge one under a
request's derived result id. So may its chunk events (``.chunk``), for the served
primitives that declare one; the bridge may subscribe to every primitive's chunks.
Redaction has its own subject (``vc.log.<id>.admin``) that only the admin identity may
call; the read-only ``cli`` identity reads the log through
the service's read verbs and watches the subjects, and may publish nothing else.

Stored audio (the object store ``VC_AUDIO``, stream ``OBJ_VC_AUDIO``): the worker and the
bridge identity write objects (chunk and metadata subjects, and the purge nats-py does of
the chunks an object replaces or a failed put left; the bridge's are the audio a caller
sends to be transcribed, e.g. by ``voicecore transcribe``); the worker may create the
bucket when it is missing (a worker started before ``up``, like the streams); every
identity reads them with the plain message gets of ``_read_only``; the sink erases a
redacted conversation's (and the admin may do anything).

Streamed audio (``VC_AUDIO_IN``, ``vc.audio.>``, core/audioin.py): the bridge publishes the
chunks; the workers of ``transcribe_stream`` read them with their own ordered consumers; the
sink erases a redacted conversation's (as in the other streams it erases from).

NATS wildcards match whole tokens only (``primitive_*`` is a literal), so per-primitive
rights list each primitive, and the consumer rights of the bridge and the sink (whose
consumer names carry a uuid or the log's id) are ``VC_EVENTS.*`` minus the workers'.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from core import primitive as registry
from core import subjects
from core.natsauth import ROLES, inbox_prefix

API = subjects.JS_API
EVENTS = subjects.EVENTS_STREAM
_STREAMS = (subjects.EVENTS_STREAM, subjects.DLQ_STREAM, subjects.REPLAY_STREAM)
_ERASED = (*_STREAMS, subjects.AUDIO_STREAM, subjects.AUDIO_IN_STREAM)
"""What a redaction erases from (core/eventlog/erase.py)."""

STREAMING = "transcribe_stream"
"""The primitive whose workers read streamed audio (core/transcribe_stream.py)."""

Permissions = dict[str, Any]


def _consumer_api(name: str, stream: str = EVENTS) -> list[str]:
    """Create (both APIs), look up and pull from the consumer ``name`` of ``stream``."""
    return [f"{API}.CONSUMER.CREATE.{stream}.{name}",
            f"{API}.CONSUMER.CREATE.{stream}.{name}.>",
            f"{API}.CONSUMER.DURABLE.CREATE.{stream}.{name}",
            f"{API}.CONSUMER.INFO.{stream}.{name}", subjects.pull_request_subject(stream, name)]


def _workers_consumers(primitives: Iterable[str]) -> list[str]:
    """What only a primitive's workers may do to its durable consumer (and its acks)."""
    found = []
    for name in (subjects.consumer_name(p) for p in primitives):
        found += [*_consumer_api(name), f"{API}.CONSUMER.DELETE.{EVENTS}.{name}",
                  subjects.acks_of(EVENTS, name)]
    return found


def _read_only() -> list[str]:
    """Looking at streams and consumers, and reading stored messages (no consumers)."""
    return [f"{API}.INFO", f"{API}.STREAM.NAMES", f"{API}.STREAM.LIST",
            f"{API}.STREAM.INFO.*", f"{API}.CONSUMER.NAMES.*", f"{API}.CONSUMER.LIST.*",
            f"{API}.CONSUMER.INFO.*.*", f"{API}.STREAM.MSG.GET.*", f"{API}.DIRECT.GET.*",
            f"{API}.DIRECT.GET.*.>"]


def _put_audio() -> list[str]:
    """Write objects of the audio bucket: their chunks and metadata, and the purge of the
    chunks an object replaces (nats-py's put)."""
    bucket = subjects.AUDIO_BUCKET
    return [subjects.object_chunks_subject(bucket, "*"), subjects.object_metas(bucket),
            f"{API}.STREAM.PURGE.{subjects.AUDIO_STREAM}"]


def _create_streams() -> list[str]:
    """Create the streams when missing (updating them is the admin's)."""
    return [f"{API}.STREAM.CREATE.{subjects.EVENTS_STREAM}",
            f"{API}.STREAM.CREATE.{subjects.DLQ_STREAM}",
            f"{API}.STREAM.CREATE.{subjects.AUDIO_IN_STREAM}"]


def _any_consumer(stream: str = EVENTS) -> list[str]:
    """Ephemeral or own consumers of ``stream`` (names carry a uuid or the log's id)."""
    return [*_consumer_api("*", stream), f"{API}.CONSUMER.CREATE.{stream}",
            f"{API}.CONSUMER.DELETE.{stream}.*"]


def role_permissions(role: str, primitives: Iterable[str]) -> Permissions:
    """The subject permissions of ``role`` when the workers serve ``primitives``."""
    names = sorted(primitives)
    inbox = [f"{inbox_prefix(role)}.>"]
    presence_ping = [subjects.PRESENCE_PING_ALL, f"{subjects.PRESENCE_PREFIX}.ping.*"]
    if role == "admin":
        return {"publish": {"allow": [">"]}, "subscribe": {"allow": [">"]}}
    if role == "worker":
        publish = [*(f"{subjects.EVENT_PREFIX}.*.{p}.{kind}" for p in names
                     for kind in _answers(p)),
                   *(subjects.dlq_subject(p) for p in names),
                   *(subjects.announce_subject(p) for p in names),
                   *_workers_consumers(names), *_read_only(), *_create_streams(),
                   *_put_audio(), f"{API}.STREAM.CREATE.{subjects.AUDIO_STREAM}",
                   *_read_streamed_audio(names)]
        subscribe = [*inbox, *presence_ping, *(subjects.max_deliveries_advisory(
            EVENTS, subjects.consumer_name(p)) for p in names)]
        # One process answers a ping once per primitive it serves (an announcer each, each
        # subscribed). The server spends a response on each delivery of the ping to the
        # connection too (seen with nats-server 2.15: N answers need max 2N), so: 2N.
        return _allow(publish, subscribe, responses=max(1, len(names)) * 2)
    if role == "bridge":
        publish = [f"{subjects.EVENT_PREFIX}.*.*.requested", *presence_ping,
                   f"{subjects.AUDIO_IN_PREFIX}.>",
                   *_any_consumer(), *_read_only(), *_put_audio()]
        subscribe = [*inbox, f"{subjects.EVENT_PREFIX}.*.*.completed",
                     f"{subjects.EVENT_PREFIX}.*.*.failed", subjects.ALL_CHUNKS,
                     subjects.PRESENCE_ANNOUNCE_ALL]
        return _deny_workers(_allow(publish, subscribe), names)
    if role == "sink":
        # A redaction reads (headers only) and erases the conversation's copies in each
        # stream (core/eventlog/erase.py).
        publish = [*(api for stream in _ERASED for api in _any_consumer(stream)),
                   subjects.acks_of(EVENTS, "*"), *_read_only(), *_create_streams(),
                   *(f"{API}.STREAM.{op}.{stream}" for stream in _ERASED
                     for op in ("PURGE", "MSG.DELETE"))]
        subscribe = [*inbox, f"{subjects.LOG_SERVICE_PREFIX}.*",
                     f"{subjects.LOG_SERVICE_PREFIX}.*.*"]
        return _deny_workers(_allow(publish, subscribe, responses=1), names)
    if role == "orchestrator":
        return _deny_workers(_orchestrator(), names)
    if role == "caller":
        publish = [*(f"{subjects.EVENT_PREFIX}.*.{kind}" for kind in subjects.CALLER_EVENTS),
                   *_read_only(), *_put_audio(), *_any_consumer()]
        subscribe = [*inbox, f"{subjects.EVENT_PREFIX}.>"]
        return _deny_workers(_allow(publish, subscribe), names)
    if role == "cli":
        publish = [*_read_only(), f"{subjects.LOG_SERVICE_PREFIX}.*", *presence_ping]
        subscribe = [*inbox, f"{subjects.EVENT_PREFIX}.>", f"{subjects.DLQ_PREFIX}.>",
                     f"{subjects.REPLAY_SUBJECT_PREFIX}.>", f"{subjects.PRESENCE_PREFIX}.>"]
        return _allow(publish, subscribe)
    raise ValueError(f"unknown role {role!r} (known: {', '.join(ROLES)})")


def _orchestrator() -> Permissions:
    """Its own events only (never a primitive's result nor a caller's turn), its KV buckets
    (leases, active conversations), its shared durable consumer, ordered reads of the
    events (turns, a conversation's history) and of the active-conversation keys."""
    buckets = (subjects.LEASE_BUCKET, subjects.ACTIVE_BUCKET)
    requests = subjects.ORCHESTRATOR_CONSUMER
    publish = [*(f"{subjects.EVENT_PREFIX}.*.{kind}" for kind in subjects.ORCHESTRATOR_EVENTS),
               *(subjects.kv_keys(bucket) for bucket in buckets),
               *(f"{API}.STREAM.CREATE.{subjects.kv_stream(bucket)}" for bucket in buckets),
               *_any_consumer(subjects.kv_stream(subjects.ACTIVE_BUCKET)),
               *_consumer_api(requests), subjects.acks_of(EVENTS, requests),
               *_any_consumer(), *_read_only(), *_create_streams()]
    return _allow(publish, [f"{inbox_prefix('orchestrator')}.>"])


def _read_streamed_audio(primitives: list[str]) -> list[str]:
    """The owner of a streamed utterance reads its chunks with an ordered consumer of its
    own on ``VC_AUDIO_IN`` (only workers that serve the streaming primitive)."""
    if STREAMING not in primitives:
        return []
    return _any_consumer(subjects.AUDIO_IN_STREAM)


def _answers(primitive: str) -> tuple[str, ...]:
    """The event kinds a worker of ``primitive`` publishes: chunks only if it declares them."""
    known = registry.get(primitive)
    if known is not None and known.chunk is not None:
        return (subjects.CHUNK_KIND, "completed", "failed")
    return ("completed", "failed")


def _allow(publish: list[str], subscribe: list[str], *, responses: int = 0) -> Permissions:
    """``responses``: replies allowed per request received (to the asker's inbox only, for
    two minutes: presence pings, log queries); 0 = none."""
    permissions: Permissions = {"publish": {"allow": publish}, "subscribe": {"allow": subscribe}}
    if responses:
        permissions["allow_responses"] = {"max": responses, "expires": "2m"}
    return permissions


def _deny_workers(permissions: Permissions, primitives: list[str]) -> Permissions:
    permissions["publish"]["deny"] = _workers_consumers(primitives)
    return permissions


def authorization(users: Mapping[str, tuple[str, str]], primitives: Iterable[str]) -> str:
    """The server configuration's ``authorization`` block for ``users`` (role → user,
    password). JSON is valid NATS configuration syntax."""
    names = list(primitives)
    block = {"users": [{"user": user, "password": password,
                        "permissions": role_permissions(role, names)}
                       for role, (user, password) in users.items()]}
    return f"authorization: {json.dumps(block, indent=2)}\n"
