"""Capture primitives: pure, synchronous parsers of what a caller said into typed values.

Each primitive takes a speech-to-text transcript and answers a
:class:`schemas.payloads.CaptureResult` (canonical value, confidence, whether to read it
back, and the text to read back in the caller's language) or ``None`` when nothing can be
captured. They raise ``ValueError`` only for invalid arguments, never for transcript
content. Rules are documented in each module.
"""

from .confirmations import capture_confirmation
from .dates import capture_date
from .emails import capture_email
from .phones import capture_phone

__all__ = ["capture_confirmation", "capture_date", "capture_email", "capture_phone"]
