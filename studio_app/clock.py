"""One clock for the app: timezone-aware UTC datetimes (what SQLModel stores)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """`moment` as an aware UTC datetime (SQLite hands back naive ones in some paths)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
