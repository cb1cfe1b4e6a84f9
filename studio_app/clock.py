"""One clock for the app: timezone-aware UTC datetimes (what SQLModel stores)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
