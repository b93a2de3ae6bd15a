"""The four built-in capture primitives through JetStream, composed by ``voicecore.app.running``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.config import Settings
from core.natsserver import EmbeddedNats
from schemas import events as ev
from schemas.payloads import CaptureParams, DateParams, PhoneParams, Request
from tests.support.streams import results_for, wait_for_events
from voicecore.app import running, select_primitives


def _request(cls: type[ev.Event], params: Any) -> ev.Event:
    return ev.new_event(cls, conversation_id="captures", trace_id="cap",
                        data=Request(params=params))


async def test_capture_primitives_answer_through_the_stream(
    nats_server: EmbeddedNats,
) -> None:
    sent = {
        "email": _request(ev.CaptureEmailRequested, CaptureParams(
            transcript="sí, es maria punto lopez arroba gmail punto com", language="es")),
        "phone": _request(ev.CapturePhoneRequested, PhoneParams(
            transcript="uh four one five, five five five, oh one three two")),
        "bad_region": _request(ev.CapturePhoneRequested, PhoneParams(
            transcript="four one five five five five oh one three two", default_region="ZZ")),
        "yes": _request(ev.CaptureConfirmationRequested, CaptureParams(
            transcript="ja genau", language="de")),
        "unsure": _request(ev.CaptureConfirmationRequested, CaptureParams(
            transcript="hmm I'm not sure")),
        "date": _request(ev.CaptureDateRequested, DateParams(
            transcript="le 3 mars", language="fr", reference_date=dt.date(2026, 1, 15))),
    }
    settings = Settings(nats_url=nats_server.url, nats_auth=nats_server.identity("admin"))
    async with running(settings, select_primitives(None)) as state:
        for request in sent.values():
            await state.bus.publish(request)
        found = await wait_for_events(
            state.bus, lambda f: len(results_for(f, {r.id for r in sent.values()})) == len(sent))
    result = {name: results_for(found, {r.id})[0] for name, r in sent.items()}
    assert result["email"].data.value == "maria.lopez@gmail.com"
    assert result["email"].data.readback == "maria punto lopez arroba gmail punto com"
    assert result["phone"].data.value == "+14155550132"
    assert result["bad_region"].event_type == "capture_phone.failed"
    assert result["bad_region"].data.code == "INVALID_PARAMS"
    assert result["yes"].data.value == "yes"
    assert result["unsure"].event_type == "capture_confirmation.failed"
    assert result["unsure"].data.code == "NO_MATCH" and result["unsure"].data.retryable
    assert result["date"].data.value == "2026-03-03"
    assert result["date"].data.readback == "mardi 3 mars 2026"
