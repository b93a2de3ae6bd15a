"""Presence is readable by anyone on the bus, so the tracker must not trust what it hears."""

from __future__ import annotations

import msgspec
import pytest

from core.presence import PresenceTracker, announce_subject


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _announce(**fields: object) -> bytes:
    body = {"primitive": "capture_email", "worker": "w1", "up": True, "interval_s": 2.0}
    body.update(fields)
    return msgspec.json.encode(body)


def test_a_real_announcement_counts_until_it_expires() -> None:
    clock = _Clock()
    tracker = PresenceTracker(nc=None, clock=clock)  # type: ignore[arg-type]
    tracker.observe(_announce(), announce_subject("capture_email"))
    assert tracker.live() == {"capture_email": 1}
    clock.now = 7.0
    assert tracker.live() == {}


@pytest.mark.parametrize("body", [
    _announce(interval_s=float("inf")), _announce(interval_s=1e308), _announce(interval_s=-1),
    _announce(interval_s=0), _announce(primitive="x" * 100), _announce(primitive="a.b"),
    _announce(worker="w" * 65), _announce(worker=""), b"[" * 5000, b"\xff",
    b'{"primitive": "capture_email", "worker": "w1", "interval_s": NaN}',
])
def test_malformed_or_unbounded_announcements_are_ignored(body: bytes) -> None:
    clock = _Clock()
    tracker = PresenceTracker(nc=None, clock=clock)  # type: ignore[arg-type]
    tracker.observe(body, announce_subject("capture_email"))
    clock.now = 61 * 3.0
    assert tracker.live() == {}


def test_an_announcement_for_another_primitive_than_its_subject_is_ignored() -> None:
    tracker = PresenceTracker(nc=None, clock=_Clock())  # type: ignore[arg-type]
    tracker.observe(_announce(primitive="capture_phone"), announce_subject("capture_email"))
    assert tracker.live() == {}
    tracker.observe(_announce(primitive="capture_phone"), "_INBOX.abc")  # a ping's reply
    assert tracker.live() == {"capture_phone": 1}
