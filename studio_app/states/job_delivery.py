"""Finished jobs reach the browser tabs showing them, from whichever web process hears first.

Scaled mode only (STUDIO_REDIS_URL). Job workers have no Reflex app: they announce a
job's end over Redis (services/job_queue.py). Every web process listens; for each
announcement it wakes its own waiters, and the one process that takes the job's watchers
updates those tabs' state with `app.modify_state`. Reflex's Redis token manager sends
the change to whichever web process holds the tab's websocket — including after the
process that took the click has died and the tab has reconnected elsewhere.
"""

from __future__ import annotations

import asyncio
import logging

import reflex as rx

from studio_app.services import auth, job_queue, jobs
from studio_app.states.studio import JobsState, job_and_credits

log = logging.getLogger(__name__)

RELISTEN_AFTER_S = 1.0
_deliveries: set[asyncio.Task[None]] = set()


async def _refresh_tab(app: rx.App, watcher: job_queue.Watcher, public_id: str) -> None:
    viewer = await asyncio.to_thread(auth.user_for_session_hash, watcher.session_hash)
    if viewer is None:
        return  # signed out since
    finished, credits = await asyncio.to_thread(job_and_credits, viewer, public_id)
    if finished is None:
        return
    token = rx.BaseStateToken(ident=watcher.client_token, cls=JobsState)
    async with app.modify_state(token) as state:
        tab = await state.get_state(JobsState)
        # The tab may belong to someone else by now (signed out and in again).
        if tab._still_bound_to(watcher.session_hash):
            tab._show_finished(finished, credits)


async def _deliver(app: rx.App, public_id: str) -> None:
    jobs.job_ended(public_id)
    for watcher in await job_queue.take_watchers(public_id):
        try:
            await _refresh_tab(app, watcher, public_id)
        except Exception:
            log.exception("could not show generation %s in its tab", public_id)


async def deliver_finished_jobs(app: rx.App) -> None:
    """Lifespan task: follow the workers' announcements for as long as the app runs."""
    if not job_queue.is_enabled():
        return
    while True:
        try:
            async for public_id in job_queue.finished_announcements():
                delivery = asyncio.create_task(_deliver(app, public_id))
                _deliveries.add(delivery)
                delivery.add_done_callback(_deliveries.discard)
        except Exception as error:
            # Redis restarting: waiters look at the database meanwhile (jobs.wait).
            log.warning("job announcements interrupted (%s); listening again", error)
        await asyncio.sleep(RELISTEN_AFTER_S)
