"""Errors the services raise, each with a stable code and a message for people."""

from __future__ import annotations


class StudioError(Exception):
    """Base of every error a user may be shown."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(StudioError):
    """The request is malformed; nothing was written."""

    code = "invalid_input"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(StudioError):
    code = "not_found"


class PermissionDenied(StudioError):
    code = "forbidden"


class InsufficientCredits(StudioError):
    code = "insufficient_credits"

    def __init__(self, needed: int, available: int) -> None:
        super().__init__(
            f"This needs {needed} credit{'s' if needed != 1 else ''}, "
            f"but you have {available} available."
        )
        self.needed = needed
        self.available = available


class IdempotencyConflict(StudioError):
    """The idempotency key was used before for a different operation."""

    code = "idempotency_conflict"


class HoldNotOpen(StudioError):
    """A capture or release of a hold that has already ended or expired."""

    code = "hold_not_open"
