"""Start-up and periodic repair after crashes (ARCHITECTURE.md, step 6).

- open holds past their expiry are released, their pending rows marked failed;
- pending rows older than the hold expiry are marked failed, their holds released;
- succeeded rows whose original file is gone are marked failed and refunded;
- stored images that no succeeded row points to, and writes a crash cut short, older
  than the hold expiry, are deleted.

At start-up the server also says when it started (`interrupted_before`): when it is the
only backend process, no job can still own a pending row or an unrecorded file from
before that moment, so those are repaired at once rather than after the hold expiry
(600 s by default) — a killed server's jobs do not hold credits until then.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select

from studio_app.clock import utcnow
from studio_app.models import CreditHold, GeneratedImage, GenerationStatus, HoldStatus
from studio_app.services import generation, ledger
from studio_app.services.db import read_session, write_session
from studio_app.settings import get_settings
from studio_app.storage import image_store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReconcileReport:
    holds_released: int
    rows_failed: int
    rows_refunded: int
    files_deleted: int


def _fail_row(row: GeneratedImage, code: str, now: datetime) -> None:
    row.status = GenerationStatus.FAILED.value
    row.error_code = code
    row.error_message = generation.ERROR_MESSAGES[code]
    row.finished_at = now


def _stale_before(now: datetime, interrupted_before: datetime | None) -> datetime:
    """Pending rows and unrecorded files older than this belong to no running job."""
    cutoff = now - timedelta(seconds=get_settings().hold_expiry_seconds)
    if interrupted_before is not None:
        cutoff = max(cutoff, min(interrupted_before, now))
    return cutoff


def _close_stale_generations(now: datetime, interrupted_before: datetime | None) -> tuple[int, int]:
    cutoff = _stale_before(now, interrupted_before)
    with write_session() as db:
        released = set(ledger.sweep_expired_holds(db, now=now))
        stale_rows = db.exec(
            select(GeneratedImage).where(
                GeneratedImage.status == GenerationStatus.PENDING.value,
                GeneratedImage.created_at <= cutoff,
            )
        ).all()
        for row in stale_rows:
            hold = db.exec(select(CreditHold).where(CreditHold.generation_id == row.id)).first()
            if hold is not None and hold.status == HoldStatus.OPEN.value:
                ledger.release(db, hold.id or 0, now=now)
                released.add(hold.id or 0)
            _fail_row(row, generation.INTERRUPTED, now)
            db.add(row)
        # Rows whose hold the sweep just released but that are younger than the cutoff.
        for hold_id in released:
            hold = db.get(CreditHold, hold_id)
            row = (
                db.get(GeneratedImage, hold.generation_id) if hold and hold.generation_id else None
            )
            if row is not None and row.status == GenerationStatus.PENDING.value:
                _fail_row(row, generation.EXPIRED, now)
                db.add(row)
        return len(released), len(stale_rows)


def _refund_rows_with_missing_files(now: datetime) -> int:
    with read_session() as db:
        succeeded = db.exec(
            select(GeneratedImage.id, GeneratedImage.image_key).where(
                GeneratedImage.status == GenerationStatus.SUCCEEDED.value,
                col(GeneratedImage.deleted_at).is_(None),  # deleted by its owner: not lost
            )
        ).all()
    store = image_store()
    missing = [row_id for row_id, key in succeeded if not store.exists(key)]
    for row_id in missing:
        with write_session() as db:
            row = db.get(GeneratedImage, row_id)
            if (
                row is None
                or row.status != GenerationStatus.SUCCEEDED.value
                or row.deleted_at is not None
            ):
                continue
            hold = db.exec(select(CreditHold).where(CreditHold.generation_id == row.id)).first()
            charge = ledger.capture_of(db, hold.id) if hold and hold.id else None
            if charge is not None:
                ledger.refund(db, charge.id or 0, reference=f"Image {row.public_id} was lost")
            store.delete(row.thumbnail_key)
            _fail_row(row, generation.FILE_MISSING, now)
            row.image_key = row.thumbnail_key = None
            db.add(row)
    return len(missing)


def _delete_orphan_files(now: datetime, interrupted_before: datetime | None) -> int:
    with read_session() as db:
        keys = db.exec(
            select(GeneratedImage.image_key, GeneratedImage.thumbnail_key).where(
                GeneratedImage.status == GenerationStatus.SUCCEEDED.value
            )
        ).all()
    referenced = {key for pair in keys for key in pair if key}
    # A younger file may belong to a job that is still finishing.
    cutoff = _stale_before(now, interrupted_before)
    store = image_store()
    deleted = store.sweep_unfinished(cutoff)
    for key in store.keys_older_than(cutoff):
        if key not in referenced:
            store.delete(key)
            deleted += 1
    return deleted


def reconcile(
    *, now: datetime | None = None, interrupted_before: datetime | None = None
) -> ReconcileReport:
    """Repair what crashes left.

    `interrupted_before`: when this server process started, if it is the only one running
    generations; pending rows and unrecorded files older than that are then known to be
    interrupted, whatever their age.
    """
    now = now or utcnow()
    holds_released, rows_failed = _close_stale_generations(now, interrupted_before)
    rows_refunded = _refund_rows_with_missing_files(now)
    files_deleted = _delete_orphan_files(now, interrupted_before)
    report = ReconcileReport(holds_released, rows_failed, rows_refunded, files_deleted)
    if any((holds_released, rows_failed, rows_refunded, files_deleted)):
        log.warning("reconciled: %s", report)
    return report
