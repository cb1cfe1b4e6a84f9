"""Generation jobs run as server tasks, independent of any browser tab.

A Reflex handler or an API route submits a job and may wait for it; if the
waiter goes away (tab closed, request cancelled) the job keeps running and its
image lands in My Creations.
"""

from __future__ import annotations

import asyncio
import logging

from studio_app.services import generation

log = logging.getLogger(__name__)

_running: dict[str, asyncio.Task[str]] = {}


async def submit(
    user_id: int, request: generation.GenerationRequest, *, idempotency_key: str | None = None
) -> generation.Ticket:
    """Validate, hold and record (raises on bad input), then start the job in the background.

    The first step writes (and may wait for the write lock): it runs off the event loop.
    A replayed idempotency key returns the first ticket and starts nothing.
    """
    ticket = await asyncio.to_thread(
        generation.start, user_id, request, idempotency_key=idempotency_key
    )
    if not ticket.replayed:
        launch(ticket)
    return ticket


def launch(ticket: generation.Ticket) -> None:
    """Run a started generation (`generation.start`) as a task of the running event loop."""
    task = asyncio.get_running_loop().create_task(generation.run(ticket))
    _running[ticket.public_id] = task
    task.add_done_callback(lambda _t: _running.pop(ticket.public_id, None))


async def wait(public_id: str) -> None:
    """Wait for a job of this process to end; cancelling the waiter never cancels the job."""
    task = _running.get(public_id)
    if task is None:
        return
    try:
        await asyncio.shield(task)
    except Exception:  # already logged and recorded on the row by generation.run
        log.debug("job %s ended with an error", public_id)


def running_jobs() -> int:
    return len(_running)
