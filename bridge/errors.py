"""The one error a bridge handler raises for the call itself (not a primitive outcome)."""

from __future__ import annotations

import grpc


class CallError(Exception):
    """The call failed as a call: answered with this gRPC status, not with a response."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
