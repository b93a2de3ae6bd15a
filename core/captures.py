"""The four built-in capture primitives, registered with their event types.

The parsing lives in :mod:`core.capture`; this module only adapts typed params
to those functions and turns argument errors into ``INVALID_PARAMS``. The parsers
are pure and take ~0.1 ms on an utterance, so short transcripts run ``inline`` on
the event loop rather than paying for a thread hop; long ones go to a thread.
"""

from __future__ import annotations

import datetime as dt

from core.capture import capture_confirmation, capture_date, capture_email, capture_phone
from core.errors import InvalidParams
from core.primitive import Handler, Primitive, register
from schemas import events as ev
from schemas.payloads import CaptureParams, CaptureResult, DateParams, PhoneParams


def _short(params: CaptureParams) -> bool:
    """Utterance-sized transcripts parse in ~0.1 ms: cheaper on the loop than a thread hop.
    Long ones (up to 4,000 characters take up to ~10 ms) go to a thread."""
    return len(params.transcript) <= 400


def _email(params: CaptureParams) -> CaptureResult | None:
    return capture_email(params.transcript, params.language)


def _phone(params: PhoneParams) -> CaptureResult | None:
    try:
        return capture_phone(params.transcript, params.language, params.default_region)
    except ValueError as exc:  # the parser raises ValueError only for bad arguments
        raise InvalidParams(str(exc)) from exc


def _confirmation(params: CaptureParams) -> CaptureResult | None:
    return capture_confirmation(params.transcript, params.language)


def _date(params: DateParams) -> CaptureResult | None:
    reference = params.reference_date or dt.datetime.now(dt.UTC).date()
    try:
        return capture_date(params.transcript, params.language, reference)
    except ValueError as exc:  # e.g. a reference_date outside the supported years
        raise InvalidParams(str(exc)) from exc


def _capture(
    name: str, description: str, classes: tuple[type[ev.Event], ...], handler: Handler
) -> Primitive:
    requested, completed, failed = classes
    return register(Primitive(name=name, description=description, requested=requested,
                              completed=completed, failed=failed, handler=handler,
                              inline=_short))


CAPTURE_EMAIL = _capture(
    "capture_email", "Email address from a caller's words (spoken or spelled), lowercased",
    (ev.CaptureEmailRequested, ev.CaptureEmailCompleted, ev.CaptureEmailFailed), _email)
CAPTURE_PHONE = _capture(
    "capture_phone", "Phone number, validated against numbering plans, as E.164",
    (ev.CapturePhoneRequested, ev.CapturePhoneCompleted, ev.CapturePhoneFailed), _phone)
CAPTURE_CONFIRMATION = _capture(
    "capture_confirmation", "Yes/no answer, with self-corrections resolved",
    (ev.CaptureConfirmationRequested, ev.CaptureConfirmationCompleted,
     ev.CaptureConfirmationFailed), _confirmation)
CAPTURE_DATE = _capture(
    "capture_date", "Calendar date (absolute or relative to reference_date), as ISO 8601",
    (ev.CaptureDateRequested, ev.CaptureDateCompleted, ev.CaptureDateFailed), _date)
