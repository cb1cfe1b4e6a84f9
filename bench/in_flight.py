"""Benchmark 6 — five hundred generations in flight, scaled, images in object storage.

The scaled system as `bench/concurrency.py` starts it (PostgreSQL, Redis, 2 backend
workers, 2 job workers), with its images in a bucket on a SeaweedFS server, and the fake
OpenAI answering each call after `PROVIDER_DELAY_S`. One generation alone (the
baseline), then `BURST` POSTs sent at once by as many users, each followed by its long
poll, until every one is `succeeded`; the studio page is probed meanwhile.

Apart, in this process: what the object store costs a generation against the local
disk — the two writes of a generation (original + thumbnail) and a thumbnail read (what
My Creations fetches per tile) — timed on both stores in the same run.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.concurrency import (
    SCALED_S3,
    Job,
    Probes,
    SlowOpenAI,
    _generate_all,
    _pct,
    _running_app,
    group_cpu_s,
)
from bench.core import Figure, Options, Result, median_ms
from studio_app.storage import IMAGE_FOLDER, ObjectStore
from studio_app.storage.keys import IMAGE_KEYS, new_image_keys
from studio_app.storage.local import LocalDiskStore
from studio_app.storage.s3 import S3Location, S3Store
from tests.fakes import openai_api
from tests.fakes.server import FakeServer
from tests.servers.seaweedfs import REGION, SeaweedServer

NAME = "in_flight"
TITLE = "Five hundred generations in flight, images in object storage"
DEFAULTS = Options(runs=1, warmup=0)
BURST = 500
PROVIDER_DELAY_S = 5.0
PAGE_P95_TARGET_MS = 200
IDLE_PROBE_S = 3.0
STORE_SAMPLES = 60
STORE_BUCKET = "studio-store-costs"
ORIGINAL_BYTES = 1_600_000
THUMBNAIL_BYTES = 12_000


def _burst(options: Options) -> tuple[list[Figure], list[str]]:
    provider = SlowOpenAI(PROVIDER_DELAY_S)
    fake = FakeServer()
    fake.on("POST", openai_api.GENERATIONS_PATH, provider)
    fake.start()
    # Every call may be in flight at once on each job worker (the default is 64).
    room = {"STUDIO_MAX_PARALLEL_GENERATIONS": str(BURST)}
    try:
        with (
            tempfile.TemporaryDirectory(prefix="studio-bench-") as tmp,
            _running_app(Path(tmp), fake, SCALED_S3, burst=BURST, extra_env=room) as servers,
            Probes(servers.url, servers.users.observer_token, phase="off") as probes,
        ):
            single = Job(tag="alone", token=servers.users.single_token)
            single_s = asyncio.run(_generate_all(servers.url, [single]))
            probes.phase = "idle"
            time.sleep(IDLE_PROBE_S)
            jobs = [
                Job(tag=f"b{n}", token=token) for n, (_, token) in enumerate(servers.users.burst)
            ]
            provider.reset_peak()
            probes.phase = "burst"
            cpu_before = group_cpu_s(*servers.process_groups)
            burst_s = asyncio.run(_generate_all(servers.url, jobs, polls_in_flight=BURST))
            cpu_s = group_cpu_s(*servers.process_groups) - cpu_before
            probes.phase = "off"
    finally:
        fake.stop()
    page = "the studio page"
    idle, busy = probes.of(page, "idle"), probes.of(page, "burst")
    p95 = _pct(busy, 0.95)
    figures = [
        Figure(
            f"{BURST} in flight, all succeeded", burst_s * 1000, "one alone", single_s * 1000, "ms"
        ),
        Figure(f"{page} median, during the burst", _pct(busy, 0.5), "idle", _pct(idle, 0.5), "ms"),
        Figure(f"{page} p95, during the burst", p95, "idle", _pct(idle, 0.95), "ms"),
    ]
    accepted = sorted(job.accepted - job.sent for job in jobs)
    breakdown = [
        f"all {BURST} succeeded in {burst_s:.1f} s (one alone: {single_s:.1f} s); the fake held "
        f"{provider.max_in_flight} calls at once; POST answered median "
        f"{statistics.median(accepted) * 1000:.0f} ms, max {accepted[-1] * 1000:.0f} ms.",
        f"the studio page p95 during the burst: {p95:.0f} ms — target under "
        f"{PAGE_P95_TARGET_MS} ms {'met' if p95 < PAGE_P95_TARGET_MS else 'MISSED'} "
        f"({len(busy)} samples, max {max(busy) * 1000:.0f} ms).",
        f"server CPU over the burst (web and job workers): {cpu_s:.1f} s, ≈ "
        f"{cpu_s / BURST * 1000:.0f} ms a generation.",
    ]
    if probes.errors:
        breakdown.append(f"probe errors: {len(probes.errors)} (first: {probes.errors[0]}).")
    return figures, breakdown


def _store_costs() -> tuple[list[Figure], list[str]]:
    """A generation's two writes and one thumbnail read, on the disk and on S3."""
    # A store sees bytes, not pixels: sizes of a provider's 1024×1024 PNG and of its
    # thumbnail (WebP, 384 px).
    original = os.urandom(ORIGINAL_BYTES)
    thumbnail = os.urandom(THUMBNAIL_BYTES)
    with tempfile.TemporaryDirectory(prefix="studio-bench-disk-") as tmp:
        server = SeaweedServer().start()
        try:
            server.create_bucket(STORE_BUCKET)
            location = S3Location(
                STORE_BUCKET,
                "",
                server.endpoint_url,
                REGION,
                server.access_key_id,
                server.secret_access_key,
            )
            stores: dict[str, ObjectStore] = {
                "disk": LocalDiskStore(Path(tmp), IMAGE_KEYS),
                "S3": S3Store(location, IMAGE_FOLDER, IMAGE_KEYS),
            }
            writes = {name: _writes(store, original, thumbnail) for name, store in stores.items()}
            reads = {name: _reads(store, thumbnail) for name, store in stores.items()}
        finally:
            server.stop()
    figures = [
        Figure(
            "a generation's two writes (original + thumbnail), S3",
            median_ms(writes["S3"]),
            "the same on the disk",
            median_ms(writes["disk"]),
            "ms",
        ),
        Figure(
            "a thumbnail read (what a My Creations tile fetches), S3",
            median_ms(reads["S3"]),
            "the same on the disk",
            median_ms(reads["disk"]),
            "ms",
        ),
    ]
    breakdown = [
        f"store costs over {STORE_SAMPLES} samples each (original {len(original):,} bytes, "
        f"thumbnail {len(thumbnail):,}): writes p95 disk {_pct(writes['disk'], 0.95):.1f} ms, "
        f"S3 {_pct(writes['S3'], 0.95):.1f} ms; reads p95 disk "
        f"{_pct(reads['disk'], 0.95):.1f} ms, S3 {_pct(reads['S3'], 0.95):.1f} ms."
    ]
    return figures, breakdown


def _samples(step: Callable[[], object]) -> list[float]:
    step()  # warm: connections, folders
    spent = []
    for _ in range(STORE_SAMPLES):
        started = time.perf_counter()
        step()
        spent.append(time.perf_counter() - started)
    return spent


def _writes(store: ObjectStore, original: bytes, thumbnail: bytes) -> list[float]:
    def write_one() -> None:
        image_key, thumbnail_key = new_image_keys("png")
        store.put(image_key, original, "image/png")
        store.put(thumbnail_key, thumbnail, "image/webp")

    return _samples(write_one)


def _reads(store: ObjectStore, thumbnail: bytes) -> list[float]:
    key = new_image_keys("png")[1]
    store.put(key, thumbnail, "image/webp")

    def read_one() -> None:
        stored = store.open(key)
        assert stored is not None
        b"".join(stored)

    return _samples(read_one)


def run(options: Options) -> Result:
    store_figures, store_lines = _store_costs()
    burst_figures, burst_lines = _burst(options)
    return Result(
        name=NAME,
        title=TITLE,
        baseline=(
            "for the burst, one generation alone through the same path on the same servers; "
            "for the page, the same probe while idle; for the store, the same calls on the "
            "local disk, in the same run."
        ),
        method=(
            f"PostgreSQL 15, Redis and SeaweedFS (`weed server -s3`) started from their "
            f"packages; `reflex run --env prod` with 2 backend workers and 2 job workers "
            f"(STUDIO_MAX_PARALLEL_GENERATIONS={BURST} each); the fake OpenAI answers after "
            f"{PROVIDER_DELAY_S:.0f} s. {BURST} users, one API token each, send their POST at "
            "once, then one long poll each until `succeeded`. The studio page is probed every "
            f"100 ms ({IDLE_PROBE_S:.0f} s idle first). Store costs: {STORE_SAMPLES} samples "
            "each, in this process, boto3 against SeaweedFS on loopback vs the app's disk "
            "store (fsync'd writes)."
        ),
        figures=store_figures + burst_figures,
        breakdown=store_lines + burst_lines,
        reading=READING,
    )


READING = [
    "Two runs on 2026-12-03, 2 cores (the table is the second): all 500 succeeded in 42–50 "
    "s against ~7 s alone (6–7×), and the studio page stayed answerable: p95 62–78 ms "
    "during the burst (target under 200 ms met), a few stalls of seconds in its max. The "
    "figure that moves is how fast the 500 POSTs are accepted (median 29–34 s after "
    "sending): each POST is two "
    "write transactions (the token's first use, then the hold and pending row), and on "
    "PostgreSQL every write transaction takes the one advisory lock that keeps SQLite's "
    "guarantees (services/db.py), so 500 POSTs and 500 captures take turns — on the same 2 "
    "cores as 4 app processes, PostgreSQL, Redis, SeaweedFS and this benchmark's 500 "
    "clients. Once accepted, the fake held up to 150–180 calls at once. Server CPU is 80–90 ms a "
    "generation (web and job workers, long polls and probes included).",
    "The object store: a generation's two writes take ~28 ms on SeaweedFS against ~3 ms on "
    "the disk (fsync'd), a thumbnail read ~3 ms against well under 1 ms — HTTP, SigV4 "
    "signing and the S3 server's own CPU on this same machine. Per generation that is "
    "small next to the provider's seconds; per My Creations page (24 thumbnails, fetched "
    "in parallel by the browser) a few ms each. On AWS the round trips are longer (tens of "
    "ms) but off this machine's CPU.",
    "What would accept POSTs faster: taking the advisory lock only where rows interact "
    "(row locks on PostgreSQL), and not writing the token's last use on the request's path "
    "— neither done here; more cores (or machines) for the web workers.",
]
