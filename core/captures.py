"""The four built-in capture primitives, registered with their event types.

The parsing lives in :mod:`core.capture`; this module only adapts typed params
to those functions and turns argument errors into ``INVALID_PARAMS``.
"""

from __future__ import annotations

import datetime as dt

from core.capture import capture_confirmation, capture_date, capture_email, capture_phone
from core.errors import InvalidParams
from core.primitive import Primitive, register
from schemas import events as ev
from schemas.payloads import CaptureParams, CaptureResult, DateParams, PhoneParams


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
    return capture_date(params.transcript, params.language, reference)


CAPTURE_EMAIL = register(
    Primitive(
        name="capture_email",
        description="Email address from a caller's words (spoken or spelled), lowercased",
        requested=ev.CaptureEmailRequested,
        completed=ev.CaptureEmailCompleted,
        failed=ev.CaptureEmailFailed,
        handler=_email,
    )
)
CAPTURE_PHONE = register(
    Primitive(
        name="capture_phone",
        description="Phone number, validated against numbering plans, as E.164",
        requested=ev.CapturePhoneRequested,
        completed=ev.CapturePhoneCompleted,
        failed=ev.CapturePhoneFailed,
        handler=_phone,
    )
)
CAPTURE_CONFIRMATION = register(
    Primitive(
        name="capture_confirmation",
        description="Yes/no answer, with self-corrections resolved",
        requested=ev.CaptureConfirmationRequested,
        completed=ev.CaptureConfirmationCompleted,
        failed=ev.CaptureConfirmationFailed,
        handler=_confirmation,
    )
)
CAPTURE_DATE = register(
    Primitive(
        name="capture_date",
        description="Calendar date (absolute or relative to reference_date), as ISO 8601",
        requested=ev.CaptureDateRequested,
        completed=ev.CaptureDateCompleted,
        failed=ev.CaptureDateFailed,
        handler=_date,
    )
)
