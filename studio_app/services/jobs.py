"""Generation jobs, independent of any browser tab or HTTP request.

A Reflex handler or an API route submits a job and may wait for it; if the waiter goes
away (tab closed, request cancelled) the job goes on and its image lands in My Creations.

Where a job runs:
- embedded (no Redis): as a task of this process's event loop;
- scaled (`STUDIO_REDIS_URL`): on the Redis job queue, run by a job worker process
  (job_queue.py); this process hears that it ended from the workers' announcements.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis.exceptions import RedisError

from studio_app.services import cancellation, generation, job_queue

log = logging.getLogger(__name__)

# How often a waiter looks at the database itself: announcements travel over Redis
# pub/sub, which drops what is published while a process is reconnecting.
WAITER_POLL_S = 2.0

_running: dict[str, asyncio.Task[str]] = {}
_waiters: dict[str, set[asyncio.Event]] = {}


async def submit(
    user_id: int, request: generation.GenerationRequest, *, idempotency_key: str | None = None
) -> generation.Ticket:
    """Validate, hold and record (raises on bad input), then start the job.

    The first step writes (and may wait for the write lock): it runs off the event loop.
    A replayed idempotency key returns the first ticket and starts nothing. With the
    queue, a job Redis cannot take is closed uncharged and QueueUnavailable raised.
    """
    ticket = await asyncio.to_thread(
        generation.start, user_id, request, idempotency_key=idempotency_key
    )
    if ticket.replayed:
        return ticket
    if not job_queue.is_enabled():
        launch(ticket)
        return ticket
    try:
        await job_queue.enqueue(ticket.public_id)
    except job_queue.QueueUnavailable:
        await asyncio.to_thread(generation.close_unqueued, ticket)
        raise
    return ticket


async def cancel(user_id: int, request_id: str) -> list[str]:
    """Cancel what is still pending of the user's request (services/cancellation.py),
    then stop its provider call where it runs. Returns the public ids cancelled."""
    cancelled = await asyncio.to_thread(cancellation.cancel_request, user_id, request_id)
    if cancelled and not generation.stop_provider_call(request_id) and job_queue.is_enabled():
        try:
            await job_queue.announce_cancel(request_id)
        except (RedisError, OSError) as error:
            # Recorded already: whatever the worker makes is discarded, uncharged.
            log.warning("could not tell the workers that %s was cancelled: %s", request_id, error)
    return cancelled


def launch(ticket: generation.Ticket) -> asyncio.Task[str]:
    """Run a started generation (`generation.start`) as a task of the running event loop."""
    task = asyncio.get_running_loop().create_task(generation.run(ticket))
    _running[ticket.public_id] = task
    task.add_done_callback(lambda _t: _running.pop(ticket.public_id, None))
    return task


async def wait(public_id: str) -> None:
    """Wait for a job (a request's id) to end; cancelling the waiter never cancels the job."""
    task = _running.get(public_id)
    if task is not None:
        try:
            await asyncio.shield(task)
        except Exception:  # already logged and recorded on the row by generation.run
            log.debug("job %s ended with an error", public_id)
        return
    if not job_queue.is_enabled():
        return
    while await asyncio.to_thread(generation.any_pending, public_id):
        await until_one_ends([public_id], WAITER_POLL_S)


async def until_one_ends(public_ids: list[str], timeout: float) -> None:
    """Return as soon as this process hears that one of these jobs ended, or after `timeout`.

    Hears: its own job tasks (embedded) or a job worker's announcement (scaled).
    """
    ended = asyncio.Event()
    for public_id in public_ids:
        _waiters.setdefault(public_id, set()).add(ended)
        task = _running.get(public_id)
        if task is not None:
            task.add_done_callback(lambda _task: ended.set())
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ended.wait(), timeout)
    finally:
        for public_id in public_ids:
            waiting = _waiters.get(public_id, set())
            waiting.discard(ended)
            if not waiting:
                _waiters.pop(public_id, None)


async def follow_announcements() -> None:
    """Scaled mode, for the app's lifetime: wake the waiters of each job a worker ends.

    Announcements travel over Redis pub/sub, which drops what is published while this
    process reconnects: waiters also look at the database every WAITER_POLL_S.
    """
    if not job_queue.is_enabled():
        return
    while True:
        try:
            async for public_id in job_queue.finished_announcements():
                for ended in _waiters.get(public_id, ()):
                    ended.set()
        except (RedisError, OSError) as error:
            log.warning("job announcements interrupted (%s); listening again", error)
        await asyncio.sleep(1.0)


async def is_running(public_id: str) -> bool:
    """Being made now, as opposed to waiting for a provider slot or a worker."""
    if job_queue.is_enabled() and public_id not in _running:
        return await job_queue.is_running(public_id)
    return generation.is_running(public_id)


def running_jobs() -> int:
    return len(_running)
