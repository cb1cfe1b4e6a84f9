"""Counted events in the database, for rate limits that survive restarts and
hold across server workers (failed sign-ins, sign-ups, enhancements…)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from studio_app.clock import utcnow
from studio_app.models import ThrottleEvent
from studio_app.services.db import write_session
from studio_app.services.errors import StudioError


class Throttled(StudioError):
    """The caller did this too often (our limit; a provider's is providers.base.RateLimited)."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def count_recent(db: Session, kind: str, subject: str, since: datetime) -> int:
    return db.exec(
        select(func.count())
        .select_from(ThrottleEvent)
        .where(
            ThrottleEvent.kind == kind,
            ThrottleEvent.subject == subject,
            ThrottleEvent.created_at > since,
        )
    ).one()


def record(db: Session, kind: str, subject: str, now: datetime) -> None:
    db.add(ThrottleEvent(kind=kind, subject=subject, created_at=now))


def take(kind: str, subject: str, *, limit: int, window_s: int, what: str) -> None:
    """Count one event, or raise Throttled when `limit` were counted in the window."""
    with write_session() as db:
        take_in(db, kind, subject, limit=limit, window_s=window_s, what=what)


def take_in(
    db: Session,
    kind: str,
    subject: str,
    *,
    limit: int,
    window_s: int,
    what: str,
    amount: int = 1,
) -> None:
    """`take` inside the caller's write transaction: if that transaction rolls back
    (the request turned out invalid), the event is not counted either. `amount` events
    at once (a request for several images counts each)."""
    now = utcnow()
    since = now - timedelta(seconds=window_s)
    if amount > limit:
        raise Throttled(
            f"That is more than the limit of {limit} {what}: ask for {limit} or fewer.",
            retry_after=window_s,
        )
    counted = count_recent(db, kind, subject, since)
    if counted + amount > limit:
        # Room comes back as the oldest events leave the window: enough of them must.
        freeing = db.exec(
            select(ThrottleEvent.created_at)
            .where(
                ThrottleEvent.kind == kind,
                ThrottleEvent.subject == subject,
                ThrottleEvent.created_at > since,
            )
            .order_by(col(ThrottleEvent.created_at))
            .offset(counted + amount - limit - 1)
            .limit(1)
        ).one()
        wait = max(1, int((freeing + timedelta(seconds=window_s) - now).total_seconds()) + 1)
        raise Throttled(
            f"You have reached the limit of {limit} {what}. Try again in {wait} s.",
            retry_after=wait,
        )
    for _ in range(amount):
        record(db, kind, subject, now)
