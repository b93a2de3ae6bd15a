"""The capture primitives' events: ``capture_email``, ``capture_phone``,
``capture_confirmation`` and ``capture_date``, each requested, completed or failed.

Members of the one union (:data:`schemas.events.BUILTIN_EVENTS`); their payloads are in
:mod:`schemas.payloads`.
"""

from __future__ import annotations

from schemas.envelope import Event
from schemas.payloads import CaptureParams, CaptureResult, DateParams, Failure, PhoneParams, Request


class CaptureEmailRequested(Event, frozen=True, kw_only=True, tag="capture_email.requested"):
    data: Request[CaptureParams]


class CaptureEmailCompleted(Event, frozen=True, kw_only=True, tag="capture_email.completed"):
    data: CaptureResult


class CaptureEmailFailed(Event, frozen=True, kw_only=True, tag="capture_email.failed"):
    data: Failure


class CapturePhoneRequested(Event, frozen=True, kw_only=True, tag="capture_phone.requested"):
    data: Request[PhoneParams]


class CapturePhoneCompleted(Event, frozen=True, kw_only=True, tag="capture_phone.completed"):
    data: CaptureResult


class CapturePhoneFailed(Event, frozen=True, kw_only=True, tag="capture_phone.failed"):
    data: Failure


class CaptureConfirmationRequested(
    Event, frozen=True, kw_only=True, tag="capture_confirmation.requested"
):
    data: Request[CaptureParams]


class CaptureConfirmationCompleted(
    Event, frozen=True, kw_only=True, tag="capture_confirmation.completed"
):
    data: CaptureResult


class CaptureConfirmationFailed(
    Event, frozen=True, kw_only=True, tag="capture_confirmation.failed"
):
    data: Failure


class CaptureDateRequested(Event, frozen=True, kw_only=True, tag="capture_date.requested"):
    data: Request[DateParams]


class CaptureDateCompleted(Event, frozen=True, kw_only=True, tag="capture_date.completed"):
    data: CaptureResult


class CaptureDateFailed(Event, frozen=True, kw_only=True, tag="capture_date.failed"):
    data: Failure


CAPTURE_EVENTS: tuple[type[Event], ...] = (
    CaptureEmailRequested,
    CaptureEmailCompleted,
    CaptureEmailFailed,
    CapturePhoneRequested,
    CapturePhoneCompleted,
    CapturePhoneFailed,
    CaptureConfirmationRequested,
    CaptureConfirmationCompleted,
    CaptureConfirmationFailed,
    CaptureDateRequested,
    CaptureDateCompleted,
    CaptureDateFailed,
)
