"""Generations on a Redis job queue, for when the studio runs as several processes.

With `STUDIO_REDIS_URL` set, a web process only starts a generation (hold + pending row)
and enqueues it; job worker processes (`python -m studio_app.cli worker`, job_worker.py)
run it. The database stays the source of truth: Redis may lose everything (a restart
without persistence) and every pending row is then found and enqueued again.

The queue is taskiq-redis's stream broker: a Redis stream read by one consumer group, a
message acknowledged only after its job ran, so a worker killed mid-job leaves the message
to be claimed by another once it has been idle longer than any job can take.
A job may therefore run twice; generation.run does nothing for a row that is no longer
pending, and captures a hold at most once.

Redis keys (all under `studio:`):
  jobs                  the stream
  job:<public_id>       the job is queued ("queued") or running (the worker's name);
                        a pending row without it was lost and is enqueued again
  worker:<name>         a live worker's heartbeat; a job whose worker has none is re-run
  finished              pub/sub: {"public_id", "status"} when a job ends
  cancel                pub/sub: the public id of a job its owner cancelled (the worker
                        making it stops its provider call)
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError
from sqlmodel import col, select
from taskiq_redis import RedisStreamBroker

from studio_app.clock import utcnow
from studio_app.models import GeneratedImage, GenerationStatus
from studio_app.services import generation
from studio_app.services.db import read_session
from studio_app.services.errors import StudioError
from studio_app.settings import get_settings

log = logging.getLogger(__name__)

STREAM = "studio:jobs"
CONSUMER_GROUP = "studio-workers"
FINISHED_CHANNEL = "studio:finished"
CANCEL_CHANNEL = "studio:cancel"
GENERATION_TASK = "studio.generation"
QUEUED = "queued"
# Heartbeats: a worker writes its key this often; it expires after HEARTBEAT_TTL_S.
HEARTBEAT_EVERY_S = 2
HEARTBEAT_TTL_S = 6
# A pending row younger than this may still be on its way into the queue.
REQUEUE_GRACE_S = 5
# Enough for the longest provider call with its retries, storage and the final writes.
JOB_MARGIN_S = 30


class QueueUnavailable(StudioError):
    """Redis could not take the job: the generation was closed unstarted and uncharged."""

    code = "queue_unavailable"


def is_enabled() -> bool:
    """The queue is used when Redis is configured; otherwise jobs run in the web process."""
    return bool(get_settings().redis_url)


def job_deadline_s() -> int:
    """The longest a job can run: its message is claimed by another worker after this."""
    settings = get_settings()
    return settings.provider_timeout_seconds * generation.PROVIDER_ATTEMPTS + JOB_MARGIN_S


def _marker(public_id: str) -> str:
    return f"studio:job:{public_id}"


def _heartbeat(worker: str) -> str:
    return f"studio:worker:{worker}"


def _marker_ttl_s() -> int:
    return get_settings().hold_expiry_seconds + JOB_MARGIN_S


# A Redis blip (a restart) is ridden out within about a second; a longer outage is an
# error at once (a request gets "try again") rather than a page left waiting.
_CLIENT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "retry": Retry(ExponentialBackoff(cap=0.5, base=0.1), retries=3),
}


@dataclass
class _Connections:
    broker: RedisStreamBroker
    redis: Redis


# Redis's asyncio connections belong to the event loop that opened them.
_BY_LOOP: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Connections] = (
    weakref.WeakKeyDictionary()
)
_task_body: Callable[[str], Awaitable[None]] | None = None


def define_generation_task(body: Callable[[str], Awaitable[None]]) -> None:
    """What a worker runs for a message (job_worker.py); web processes only enqueue."""
    global _task_body
    _task_body = body


async def _run_task(public_id: str) -> None:
    if _task_body is None:
        raise RuntimeError("this process enqueues jobs; it does not run them")
    await _task_body(public_id)


def connections(consumer_name: str | None = None) -> _Connections:
    """This event loop's broker (the stream) and Redis client."""
    loop = asyncio.get_running_loop()
    found = _BY_LOOP.get(loop)
    if found is None:
        url = get_settings().redis_url
        broker = RedisStreamBroker(
            url,
            queue_name=STREAM,
            consumer_group_name=CONSUMER_GROUP,
            consumer_name=consumer_name,
            # "0": a group made after jobs were enqueued still reads them.
            consumer_id="0",
            # One message at a time: a worker holds only what it runs, so a burst spreads
            # over the workers and a killed worker strands nothing it had not started.
            xread_count=1,
            xread_block=1000,
            idle_timeout=job_deadline_s() * 1000,
            maxlen=100_000,
            **_CLIENT_OPTIONS,
        )
        broker.register_task(_run_task, task_name=GENERATION_TASK)
        redis = Redis.from_url(url, **_CLIENT_OPTIONS)
        found = _Connections(broker, redis)
        _BY_LOOP[loop] = found
    return found


async def enqueue(public_id: str) -> None:
    """Put a started generation on the queue; QueueUnavailable when Redis cannot take it."""
    queue = connections()
    try:
        await queue.redis.set(_marker(public_id), QUEUED, ex=_marker_ttl_s())
        task = queue.broker.find_task(GENERATION_TASK)
        assert task is not None
        await task.kiq(public_id)
    except (RedisError, OSError) as error:
        log.error("could not enqueue generation %s: %s", public_id, error)
        raise QueueUnavailable(generation.ERROR_MESSAGES[generation.QUEUE_UNAVAILABLE]) from error


async def mark_running(public_id: str, worker: str) -> None:
    await connections().redis.set(_marker(public_id), worker, ex=_marker_ttl_s())


async def is_running(public_id: str) -> bool:
    """A worker has taken the job (as opposed to it waiting in the queue)."""
    try:
        marker = await connections().redis.get(_marker(public_id))
    except RedisError:
        return False
    return marker is not None and marker.decode() != QUEUED


async def announce_finished(public_id: str, status: str) -> None:
    """Tell the web processes (and drop the marker: the row says the rest)."""
    redis = connections().redis
    await redis.publish(FINISHED_CHANNEL, json.dumps({"public_id": public_id, "status": status}))
    await redis.delete(_marker(public_id))


async def finished_announcements() -> AsyncIterator[str]:
    """The public ids of jobs as they end, for as long as the connection lasts."""
    async with connections().redis.pubsub() as pubsub:
        await pubsub.subscribe(FINISHED_CHANNEL)
        async for message in pubsub.listen():
            if message["type"] == "message":
                try:
                    yield json.loads(message["data"])["public_id"]
                except (ValueError, KeyError, TypeError):
                    log.warning("ignored a malformed announcement: %r", message["data"])


async def announce_cancel(public_id: str) -> None:
    """Tell the job workers that a job was cancelled (its rows say so already)."""
    await connections().redis.publish(CANCEL_CHANNEL, public_id)


async def cancel_announcements() -> AsyncIterator[str]:
    """The public ids of cancelled jobs, for as long as the connection lasts."""
    async with connections().redis.pubsub() as pubsub:
        await pubsub.subscribe(CANCEL_CHANNEL)
        async for message in pubsub.listen():
            if message["type"] == "message":
                yield message["data"].decode(errors="replace")


async def beat(worker: str) -> None:
    await connections().redis.set(_heartbeat(worker), b"1", ex=HEARTBEAT_TTL_S)


def _pending_public_ids() -> list[str]:
    """The jobs (requests) with an image still pending."""
    cutoff = utcnow() - timedelta(seconds=REQUEUE_GRACE_S)
    with read_session() as db:
        return list(
            db.exec(
                select(GeneratedImage.request_id)
                .where(
                    GeneratedImage.status == GenerationStatus.PENDING.value,
                    col(GeneratedImage.created_at) <= cutoff,
                )
                .distinct()
            ).all()
        )


async def requeue_lost_jobs() -> int:
    """Enqueue again each pending row whose job Redis lost or whose worker died.

    Runs in every worker: two of them may both re-enqueue a job, which then runs twice
    (harmless, see the module's docstring).
    """
    redis = connections().redis
    requeued = 0
    for public_id in await asyncio.to_thread(_pending_public_ids):
        marker = await redis.get(_marker(public_id))
        if marker is not None:
            owner = marker.decode()
            if owner == QUEUED or await redis.exists(_heartbeat(owner)):
                continue
        log.warning(
            "generation %s: %s; enqueued again",
            public_id,
            "its job was lost" if marker is None else f"worker {marker.decode()} died",
        )
        await enqueue(public_id)
        requeued += 1
    return requeued
