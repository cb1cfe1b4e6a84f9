"""A job worker process: runs the generations web processes put on the Redis queue.

`python -m studio_app.cli worker` (or `make worker`). Run as many as you like, on as many
machines as share the database and Redis. Each one:
- takes messages from the stream and runs them, up to STUDIO_MAX_PARALLEL_GENERATIONS at once;
- announces each job's end, so the web process holding the user's tab shows the image;
- writes a heartbeat, and every few seconds enqueues again the pending rows whose job
  Redis lost or whose worker died (job_queue.requeue_lost_jobs);
- stops the provider call of a job its owner cancels (told over Redis);
- on SIGTERM/SIGINT takes no new job and finishes the ones it has.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket

from redis.exceptions import RedisError
from taskiq.acks import AcknowledgeType
from taskiq.receiver.receiver import Receiver

from studio_app.services import generation, job_queue, jobs
from studio_app.settings import get_settings

log = logging.getLogger(__name__)

REQUEUE_EVERY_S = 3
RECONNECT_AFTER_S = 1.0


def worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


async def run_generation_job(public_id: str) -> None:
    """One message: run the generation unless it has already ended, then announce it."""
    ticket = await asyncio.to_thread(generation.pending_ticket, public_id)
    if ticket is None:
        log.info("generation %s already ended: nothing to do", public_id)
        return
    await job_queue.mark_running(public_id, worker_name())
    # Shielded: a worker asked to stop lets the generation finish (see main).
    status = await asyncio.shield(jobs.launch(ticket))
    try:
        await job_queue.announce_finished(public_id, status)
    except RedisError as error:
        # Web processes also look at the database every few seconds.
        log.warning("could not announce generation %s: %s", public_id, error)


async def follow_cancels() -> None:
    """For the worker's lifetime: stop the provider call of each job its owner cancels."""
    while True:
        try:
            async for public_id in job_queue.cancel_announcements():
                if generation.stop_provider_call(public_id):
                    log.info(
                        "generation %s cancelled by its owner: provider call stopped", public_id
                    )
        except (RedisError, OSError) as error:
            log.warning("cancel announcements interrupted (%s); listening again", error)
        await asyncio.sleep(RECONNECT_AFTER_S)


async def _every(seconds: float, step, what: str) -> None:
    while True:
        try:
            await step()
        except (RedisError, OSError) as error:
            log.warning("%s: Redis is unavailable (%s); trying again", what, error)
        except Exception:
            log.exception("%s failed; trying again", what)
        await asyncio.sleep(seconds)


async def _receive(stopping: asyncio.Event) -> None:
    """Take messages until asked to stop; start over when Redis goes away and comes back."""
    broker = job_queue.connections(consumer_name=worker_name()).broker
    broker.is_worker_process = True
    while not stopping.is_set():
        try:
            await broker.startup()  # (re)creates the consumer group, lost if Redis restarted
            receiver = Receiver(
                broker,
                run_startup=False,
                max_async_tasks=get_settings().max_parallel_generations,
                ack_type=AcknowledgeType.WHEN_EXECUTED,
                wait_tasks_timeout=job_queue.job_deadline_s(),
            )
            await receiver.listen(stopping)
        except (RedisError, OSError) as error:
            log.warning("job queue unavailable (%s); reconnecting", error)
        except Exception:
            log.exception("job receiver failed; restarting it")
        if not stopping.is_set():
            await asyncio.sleep(RECONNECT_AFTER_S)


async def main() -> None:
    job_queue.define_generation_task(run_generation_job)
    name = worker_name()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    chores = [
        asyncio.create_task(
            _every(job_queue.HEARTBEAT_EVERY_S, lambda: job_queue.beat(name), "heartbeat")
        ),
        asyncio.create_task(_every(REQUEUE_EVERY_S, job_queue.requeue_lost_jobs, "requeue")),
        asyncio.create_task(follow_cancels()),
    ]
    log.info("job worker %s started", name)
    try:
        await _receive(stopping)
        # Jobs the receiver stopped waiting for still finish (they are shielded).
        while jobs.running_jobs():
            await asyncio.sleep(0.2)
    finally:
        for chore in chores:
            chore.cancel()
        for chore in chores:
            with contextlib.suppress(asyncio.CancelledError):
                await chore
    log.info("job worker %s stopped", name)
