"""Periodic tasks that every process offers to run, but one runs per period.

Each web process's housekeeping asks `claim` before such a task; the claim is recorded in
the database under its write lock, so with any number of processes one of them wins.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from studio_app.clock import utcnow
from studio_app.models import MaintenanceRun
from studio_app.services.db import write_session

STORE_SCAN = "store-scan"
WEEK_LIKES = "week-likes"


def claim(name: str, every: timedelta, *, now: datetime | None = None, force: bool = False) -> bool:
    """True (and the run recorded) when `name` never ran, last ran `every` ago or more,
    or `force`; False when another process ran it within the period."""
    now = now or utcnow()
    with write_session() as db:
        row = db.get(MaintenanceRun, name)
        if row is None:
            db.add(MaintenanceRun(name=name, last_run_at=now))
            return True
        if not force and now - row.last_run_at < every:
            return False
        row.last_run_at = now
        db.add(row)
        return True


def forget(name: str) -> None:
    """A claimed run that failed: the next process to ask runs it again."""
    with write_session() as db:
        row = db.get(MaintenanceRun, name)
        if row is not None:
            db.delete(row)
