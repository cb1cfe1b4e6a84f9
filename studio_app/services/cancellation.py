"""Cancelling a request: what is not made yet is not made, and costs nothing.

The cancel is recorded first: each image of the request still pending is failed
`cancelled` and its hold released, in one transaction. Whatever arrives after that finds
its row no longer pending and is discarded (generation._finish_succeeded refuses it and
its files are deleted): a cancel recorded before an image's capture wins. Images already
made stay, and stay charged.

Then the provider call in flight is stopped where it runs (jobs.cancel): in this process,
or in the job worker that has it (told over Redis); a Replicate prediction is cancelled
at Replicate.
"""

from __future__ import annotations

from sqlmodel import col, select

from studio_app.clock import as_utc, utcnow
from studio_app.models import CreditHold, GenerationStatus
from studio_app.services import generation, ledger
from studio_app.services.db import write_session
from studio_app.services.errors import NotFound

CANCELLED = "cancelled"
MESSAGE = "You cancelled this image. No credits were charged."


def cancel_request(user_id: int, request_id: object) -> list[str]:
    """Fail the user's still-pending images of the request as cancelled, releasing their
    holds. Returns their public ids ([] when nothing was left to cancel); NotFound when
    the request is not the user's."""
    if not isinstance(request_id, str):
        raise NotFound("No such generation.")
    with write_session() as db:
        rows = generation.request_rows(db, request_id)
        if not rows or rows[0].user_id != user_id:
            raise NotFound("No such generation.")
        pending = [row for row in rows if row.status == GenerationStatus.PENDING.value]
        holds = dict(
            db.exec(
                select(CreditHold.generation_id, CreditHold.id).where(
                    col(CreditHold.generation_id).in_([row.id for row in pending])
                )
            ).all()
        )
        now = utcnow()
        for row in pending:
            hold_id = holds.get(row.id)
            assert hold_id is not None
            ledger.release(db, hold_id)
            row.status = GenerationStatus.FAILED.value
            row.error_code = CANCELLED
            row.error_message = MESSAGE
            row.finished_at = now
            row.duration_ms = int((now - as_utc(row.created_at)).total_seconds() * 1000)
            db.add(row)
        return [row.public_id for row in pending]
