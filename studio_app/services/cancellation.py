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

from studio_app.clock import as_utc, utcnow
from studio_app.models import GenerationStatus
from studio_app.services import generation
from studio_app.services.db import write_session
from studio_app.services.errors import NotFound


def cancel_request(user_id: int, request_id: object) -> list[str]:
    """Fail the user's still-pending images of the request as cancelled, releasing their
    holds. Returns their public ids ([] when nothing was left to cancel); NotFound when
    the request is not the user's."""
    if not isinstance(request_id, str):
        raise NotFound("No such generation.")
    message = generation.ERROR_MESSAGES[generation.CANCELLED]
    with write_session() as db:
        rows = generation.request_rows(db, request_id)
        if not rows or rows[0].user_id != user_id:
            raise NotFound("No such generation.")
        ticket = generation.ticket_of(db, rows)
        now = utcnow()
        cancelled = []
        for image, row in zip(ticket.images, rows, strict=True):
            if row.status != GenerationStatus.PENDING.value:
                continue
            duration_ms = int((now - as_utc(row.created_at)).total_seconds() * 1000)
            generation.fail_pending(
                db, image, generation.CANCELLED, message, duration_ms=duration_ms
            )
            cancelled.append(row.public_id)
        return cancelled
