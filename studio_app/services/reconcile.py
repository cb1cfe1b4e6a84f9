"""Start-up and periodic repair after crashes (ARCHITECTURE.md, step 6).

- open holds past their expiry are released, their pending rows marked failed;
- pending rows older than the hold expiry are marked failed, their holds released;
- and, at start-up and once a day (one listing of the image store, not a request per
  image): succeeded rows whose original is gone are marked failed and refunded; stored
  images that no succeeded row points to, and writes a crash cut short, older than the
  hold expiry, are deleted; likewise uploaded pictures no live upload row points to
  (never one a row refers to).

At start-up the server also says when it started (`interrupted_before`): when it is the
only backend process, no job can still own a pending row or an unrecorded file from
before that moment, so those are repaired at once rather than after the hold expiry
(600 s by default) — a killed server's jobs do not hold credits until then.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import select

from studio_app.clock import utcnow
from studio_app.models import (
    CreditHold,
    GeneratedImage,
    GenerationStatus,
    HoldStatus,
)
from studio_app.services import community, edit_sources, generation, ledger, maintenance
from studio_app.services.db import read_session, write_session
from studio_app.settings import get_settings
from studio_app.storage import ObjectStore, image_store, published_store, upload_store
from studio_app.storage.store import written_before

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


# A scan that finds more lost images than this (and more than this share of all) trusts
# the database over the store: a wrong prefix or bucket must not fail every image.
LOST_AT_MOST = 10
LOST_AT_MOST_SHARE = 0.1


def _refund_lost_images(lost: list[tuple[int, str]], now: datetime) -> int:
    """Succeeded rows (id, original's key) whose original is gone: failed, their charge
    refunded. Each is confirmed with the store first, and objects are deleted after the
    commit: the write lock is never held across a request to the store."""
    store = image_store()
    refunded = 0
    for row_id, image_key in lost:
        if store.exists(image_key):
            continue
        thumbnail_key = None
        with write_session() as db:
            row = db.get(GeneratedImage, row_id)
            if (
                row is None
                or row.status != GenerationStatus.SUCCEEDED.value
                or row.deleted_at is not None
                or row.image_key != image_key
            ):
                continue
            hold = db.exec(select(CreditHold).where(CreditHold.generation_id == row.id)).first()
            charge = ledger.capture_of(db, hold.id) if hold and hold.id else None
            if charge is not None:
                ledger.refund(db, charge.id or 0, reference=f"Image {row.public_id} was lost")
            thumbnail_key = row.thumbnail_key
            _fail_row(row, generation.FILE_MISSING, now)
            row.image_key = row.thumbnail_key = None
            db.add(row)
            refunded += 1
        store.delete(thumbnail_key)
    return refunded


def _keys_of_rows() -> set[str]:
    """Every stored key a succeeded row refers to."""
    with read_session() as db:
        pairs = db.exec(
            select(GeneratedImage.image_key, GeneratedImage.thumbnail_key).where(
                GeneratedImage.status == GenerationStatus.SUCCEEDED.value
            )
        ).all()
    return {key for pair in pairs for key in pair if key}


def _scan_store(now: datetime, interrupted_before: datetime | None) -> tuple[int, int]:
    """The rows against one listing of the image store (a page of 1,000 keys per request
    on S3, never a request per image): lost originals are refunded, and objects no row
    refers to, older than any job still finishing, are deleted. Returns both counts."""
    with read_session() as db:
        rows = db.exec(
            select(
                GeneratedImage.id,
                GeneratedImage.image_key,
                GeneratedImage.deleted_at,
            ).where(GeneratedImage.status == GenerationStatus.SUCCEEDED.value)
        ).all()
    store = image_store()
    # A younger object may belong to a job that is still finishing.
    cutoff = _stale_before(now, interrupted_before)
    deleted = store.sweep_unfinished(cutoff)
    # Listed after the rows were read: the object of every row read is already stored.
    # A row its owner deleted is not lost.
    listed = dict(store.listing())
    lost = [
        (row_id, image)
        for row_id, image, deleted_at in rows
        if row_id is not None and deleted_at is None and image and image not in listed
    ]
    if len(lost) > max(LOST_AT_MOST, LOST_AT_MOST_SHARE * len(rows)):
        log.error(
            "the image store lacks %d of %d images: is STUDIO_STORAGE_URL right? "
            "Nothing refunded or deleted.",
            len(lost),
            len(rows),
        )
        return 0, deleted
    refunded = _refund_lost_images(lost, now)
    # Orphans: old, and referred to by no row, read again after the listing (a job that
    # recorded its image meanwhile keeps it, whatever the clocks say).
    candidates = {key for key, modified in listed.items() if written_before(modified, cutoff)}
    for key in candidates - _keys_of_rows():
        store.delete(key)
        deleted += 1
    return refunded, deleted + _scan_uploads(cutoff)


def _upload_keys() -> set[str]:
    with read_session() as db:
        return edit_sources.kept_upload_keys(db)


def _published_keys() -> set[str]:
    with read_session() as db:
        return community.published_keys(db)


def _scan_uploads(cutoff: datetime) -> int:
    """The upload store and the published store against their rows: objects nothing
    wants (a crash between the write and the row, or a removal cut short), older than
    `cutoff`, are deleted. Returns how many."""
    return _sweep(upload_store(), _upload_keys, cutoff) + _sweep(
        published_store(), _published_keys, cutoff
    )


def _sweep(store: ObjectStore, wanted: Callable[[], set[str]], cutoff: datetime) -> int:
    deleted = store.sweep_unfinished(cutoff)
    listed = [key for key, modified in store.listing() if written_before(modified, cutoff)]
    # Read after the listing: a row recorded meanwhile keeps its object.
    for key in set(listed) - wanted():
        store.delete(key)
        deleted += 1
    return deleted


def scan_store(*, interrupted_before: datetime | None = None) -> tuple[int, int]:
    """The store scan alone (housekeeping runs `reconcile` without it every minute):
    (images refunded, objects deleted)."""
    refunded, deleted = _scan_store(utcnow(), interrupted_before)
    if refunded or deleted:
        log.warning("store scan: %d lost images refunded, %d objects deleted", refunded, deleted)
    return refunded, deleted


def store_scan_due(*, at_start_up: bool, now: datetime | None = None) -> bool:
    """Whether this process scans the store now: a sole process at its start-up (a crash
    may have left objects), otherwise the first process to ask once a period is over.
    A scan that then fails calls `store_scan_failed`, so that it is tried again."""
    every = timedelta(hours=get_settings().store_scan_hours)
    return maintenance.claim(maintenance.STORE_SCAN, every, now=now, force=at_start_up)


def store_scan_failed() -> None:
    maintenance.forget(maintenance.STORE_SCAN)


def reconcile(
    *,
    now: datetime | None = None,
    interrupted_before: datetime | None = None,
    scan_store: bool = True,
) -> ReconcileReport:
    """Repair what crashes left.

    `interrupted_before`: when this server process started, if it is the only one running
    generations; pending rows and unrecorded files older than that are then known to be
    interrupted, whatever their age. `scan_store`: also list the image store against the
    rows (housekeeping does that at start-up and once a day, `store_scan_due`).
    """
    now = now or utcnow()
    holds_released, rows_failed = _close_stale_generations(now, interrupted_before)
    rows_refunded = files_deleted = 0
    if scan_store:
        rows_refunded, files_deleted = _scan_store(now, interrupted_before)
    report = ReconcileReport(holds_released, rows_failed, rows_refunded, files_deleted)
    if any((holds_released, rows_failed, rows_refunded, files_deleted)):
        log.warning("reconciled: %s", report)
    return report
