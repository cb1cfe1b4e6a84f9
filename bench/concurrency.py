"""Benchmark 2 — fifty generations at once against a provider that answers after 2 s.

The app is started as `make run` starts it (`cli setup`, then `reflex run --env prod`,
tests/app_server.py) on a free port, with a temporary database and image folder, and with
its OpenAI provider configured (`OPENAI_API_KEY`, `OPENAI_BASE_URL`) to talk to a fake of
OpenAI's image API on loopback (tests/fakes: the real wire format, a real PNG of the size
asked for) that answers every request after `PROVIDER_DELAY_S`. The fake is a threaded
HTTP server: it holds all fifty requests at once (it records how many it held).

Everything goes through the REST API as a script would: `POST /api/studio/generate`
(202), then `GET /api/studio/generate/{id}` until `succeeded`. Fifty users, each with an
API token (made through the services on the app's database), so no per-user limit is in
play; each user is charged once per burst.

- single: one generation alone, wall time from sending the POST to `succeeded` (the
  baseline; its floor is the provider's 2 s).
- burst: fifty POSTs sent at once (asyncio + httpx), until all fifty are `succeeded`.
- meanwhile three probes, each in its own thread every ~100 ms: the page `GET /` (HTML),
  `GET /api/studio/templates`, `GET /api/studio/credits` (with a token); their latency
  during the bursts against the same probes while the app is idle, just before each burst.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlmodel import select

from bench import pyspy
from bench.core import Figure, Options, Result
from bench.studio_env import studio_env
from studio_app.models import CreditHold, GeneratedImage, HoldStatus
from studio_app.services import api_tokens, ledger
from studio_app.services.auth import CurrentUser
from studio_app.services.db import read_session
from studio_app.services.tiers import get_tier
from studio_app.settings import PROJECT_ROOT
from tests import app_server
from tests.factories import PASSWORD, make_user
from tests.fakes import openai_api
from tests.fakes.server import FakeResponse, FakeServer, RecordedRequest
from tests.servers.postgres import SERVER_USER, PostgresServer
from tests.servers.redis import RedisServer
from tests.servers.seaweedfs import SeaweedServer

NAME = "concurrency"
TITLE = "Fifty generations at once"
# runs = measured rounds (idle probes, one single generation, one burst of fifty).
DEFAULTS = Options(runs=3, warmup=1)
BURST = 50
PROVIDER_DELAY_S = 2.0
TARGET = 1.5
PROBE_EVERY_S = 0.1
IDLE_PROBE_S = 2.0
STATUS_WAIT_S = 30
# Every job's long poll may be open at once.
POLLS_IN_FLIGHT = 50
STARTING_CREDITS = 100
TIER = "standard"
PROBES = {
    "the studio page": "/studio/",
    "`GET /api/studio/templates`": "/api/studio/templates",
    "`GET /api/studio/credits`": "/api/studio/credits",
}


# --- the provider -------------------------------------------------------------------------


class SlowOpenAI:
    """OpenAI's `POST /v1/images/generations`, answering after `delay_s` (one thread each).

    Records when each request came in and was answered, by the job tag in its prompt, and
    the most requests it held at once. The PNG for a size is encoded once (a real image of
    the requested size, as `openai_api.image_of_requested_size` makes it).
    """

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.received: dict[str, float] = {}
        self.answered: dict[str, float] = {}
        self.max_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self._bodies: dict[str, FakeResponse] = {}

    def __call__(self, request: RecordedRequest) -> FakeResponse:
        received = time.time()
        tag = request.json()["prompt"].split()[-1]
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            self.received[tag] = received
        try:
            response = self._response(request)
            time.sleep(max(0.0, received + self.delay_s - time.time()))
        finally:
            with self._lock:
                self._in_flight -= 1
                self.answered[tag] = time.time()
        return response

    def _response(self, request: RecordedRequest) -> FakeResponse:
        size = request.json()["size"]
        with self._lock:
            cached = self._bodies.get(size)
        if cached is None:
            cached = openai_api.image_of_requested_size(request)
            with self._lock:
                self._bodies[size] = cached
        return cached

    def reset_peak(self) -> None:
        with self._lock:
            self.max_in_flight = self._in_flight


# --- probes -------------------------------------------------------------------------------


@dataclass
class Probes:
    """Threads that time `PROBES` every `PROBE_EVERY_S`, filed under the current phase."""

    url: str
    token: str
    phase: str = "idle"
    samples: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> Probes:
        for label, path in PROBES.items():
            thread = threading.Thread(target=self._probe, args=(label, path), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _probe(self, label: str, path: str) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=30) as client:
            while not self._stop.is_set():
                phase = self.phase
                started = time.perf_counter()
                try:
                    response = client.get(path)
                    ok = response.status_code == 200
                except httpx.HTTPError as exc:
                    ok, response = False, None
                    self.errors.append(f"{path}: {exc!r}")
                spent = time.perf_counter() - started
                if ok and phase == self.phase and phase != "off":
                    self.samples[(label, phase)].append(spent)
                elif response is not None and not ok:
                    self.errors.append(f"{path}: HTTP {response.status_code}")
                self._stop.wait(max(0.0, PROBE_EVERY_S - spent))

    def of(self, label: str, phase: str) -> list[float]:
        return self.samples.get((label, phase), [])


# --- generations through the API ---------------------------------------------------------


@dataclass
class Job:
    tag: str
    token: str
    sent: float = 0.0
    accepted: float = 0.0
    seen_done: float = 0.0
    public_id: str = ""
    polls: int = 0


async def _generate(
    client: httpx.AsyncClient, job: Job, polls: asyncio.Semaphore, start: asyncio.Event
) -> None:
    headers = {"Authorization": f"Bearer {job.token}"}
    body = {"prompt": f"A lighthouse at dusk, job {job.tag}", "tier": TIER, "provider": "openai"}
    await start.wait()
    job.sent = time.time()
    response = await client.post("/api/studio/generate", json=body, headers=headers)
    job.accepted = time.time()
    if response.status_code != 202:
        raise RuntimeError(f"POST generate: HTTP {response.status_code} {response.text}")
    accepted = response.json()
    job.public_id = accepted["id"]
    # One long poll per job (`?wait=`): the server answers when the image is done, so
    # the client does not load the server it measures with repeated status requests.
    while True:
        async with polls:
            status = await client.get(
                accepted["status_url"], params={"wait": STATUS_WAIT_S}, headers=headers
            )
        job.polls += 1
        state = status.json()["status"]
        if state == "succeeded":
            job.seen_done = time.time()
            return
        if state == "failed":
            raise RuntimeError(f"generation {job.tag} failed: {status.text}")


async def _generate_all(url: str, jobs: list[Job], polls_in_flight: int = POLLS_IN_FLIGHT) -> float:
    """Send every job's POST at once; seconds from the first send to the last `succeeded`."""
    limits = httpx.Limits(
        max_connections=len(jobs) + polls_in_flight, max_keepalive_connections=None
    )
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=300) as client:
        polls = asyncio.Semaphore(polls_in_flight)
        start = asyncio.Event()
        tasks = [asyncio.create_task(_generate(client, job, polls, start)) for job in jobs]
        await asyncio.sleep(0.05)  # every task is waiting on `start`
        start.set()
        await asyncio.gather(*tasks)
    return max(job.seen_done for job in jobs) - min(job.sent for job in jobs)


def _finished_at(public_ids: list[str]) -> dict[str, float]:
    """When the server recorded each generation `succeeded` (its own wall clock)."""
    with read_session() as db:
        rows = db.exec(
            select(GeneratedImage.public_id, GeneratedImage.finished_at).where(
                GeneratedImage.public_id.in_(public_ids)  # type: ignore[attr-defined]
            )
        ).all()
    return {public_id: _epoch(finished) for public_id, finished in rows if finished}


def _epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


# --- the benchmark -------------------------------------------------------------------------


@dataclass
class Round:
    single_s: float
    burst_s: float
    burst_server_s: float
    jobs: list[Job]
    finished: dict[str, float]
    fake_peak: int
    # CPU seconds: the server's (every process of its group) and this process's (client,
    # probes, fake provider) over the single generation and over the burst.
    single_server_cpu: float
    burst_server_cpu: float
    burst_bench_cpu: float
    # PostgreSQL's and Redis's CPU over the burst (scaled mode; 0 embedded).
    burst_backing_cpu: float


@dataclass
class _Users:
    observer_token: str
    single_token: str
    burst: list[tuple[int, str]]  # (user id, token)


def _make_users(burst: int = BURST) -> _Users:
    def user_with_token(index: int) -> tuple[int, str]:
        email = f"bench{index}@example.com"
        user_id = make_user(credits=STARTING_CREDITS, email=email)
        token = api_tokens.create_token(
            CurrentUser(user_id, email, "user"), "bench", password=PASSWORD
        )
        return user_id, token.secret

    _, observer = user_with_token(0)
    _, single = user_with_token(1)
    return _Users(observer, single, [user_with_token(2 + i) for i in range(burst)])


EMBEDDED, SCALED = "embedded", "scaled"
# Scaled with its images in a bucket on SeaweedFS (bench/in_flight.py).
SCALED_S3 = "scaled, images on S3"
MODES = (EMBEDDED, SCALED)
BENCH_BUCKET = "studio-bench"
SCALED_WEB_WORKERS = 2
SCALED_JOB_WORKERS = 2


@dataclass
class _Servers:
    """What serves the app in one mode: its address and the processes whose CPU counts."""

    url: str
    users: _Users
    # Process groups of the web server and the job workers.
    process_groups: list[int]
    # The database and Redis servers of the scaled mode (counted apart).
    backing_cpu: Callable[[], float] = field(default=lambda: 0.0)


@contextmanager
def _running_app(
    workdir: Path,
    fake: FakeServer,
    mode: str,
    *,
    burst: int = BURST,
    extra_env: dict[str, str] | None = None,
) -> Iterator[_Servers]:
    """The app as `make run` starts it (embedded), or on PostgreSQL + Redis with
    SCALED_WEB_WORKERS web workers and SCALED_JOB_WORKERS job workers (scaled), and its
    images in a SeaweedFS bucket (scaled, images on S3)."""
    provider_env = {
        "OPENAI_API_KEY": "sk-bench-0000000000000000",
        "OPENAI_BASE_URL": f"{fake.url}{openai_api.BASE_PATH}",
        **(extra_env or {}),
    }
    with contextlib.ExitStack() as stack:
        scaled_env: dict[str, str] = {}
        backing_cpu = _no_backing_servers
        if mode in (SCALED, SCALED_S3):
            postgres = PostgresServer().start()
            stack.callback(postgres.stop)
            redis = RedisServer().start()
            stack.callback(redis.stop)
            scaled_env = {
                "STUDIO_DATABASE_URL": postgres.create_database("studio_bench"),
                "STUDIO_REDIS_URL": redis.url,
                "GRANIAN_WORKERS": str(SCALED_WEB_WORKERS),
                **app_server.private_frontend(PROJECT_ROOT, workdir),
            }
            backing_cpu = _backing_cpu(redis.pid)
        if mode == SCALED_S3:
            s3 = SeaweedServer().start()
            stack.callback(s3.stop)
            s3.create_bucket(BENCH_BUCKET)
            scaled_env |= s3.env(BENCH_BUCKET)
            backing_cpu = _backing_cpu(redis.pid, s3.pid)
        env = app_server.app_env(workdir, **provider_env, **scaled_env)
        app_server.run_cli(PROJECT_ROOT, env, "setup")
        database = {k: v for k, v in scaled_env.items() if k.startswith("STUDIO_")}
        stack.enter_context(studio_env(workdir, **database))
        users = _make_users(burst)
        log_path = workdir / "server.log"
        groups = []
        if mode in (SCALED, SCALED_S3):
            for n in range(SCALED_JOB_WORKERS):
                worker = app_server.start_job_worker(
                    PROJECT_ROOT, env, workdir / f"job-worker-{n}.log"
                )
                stack.callback(app_server.stop, worker)
                groups.append(worker.pid)
        port = app_server.free_port()
        process = app_server.start(PROJECT_ROOT, env, port, log_path)
        stack.callback(app_server.stop, process)
        groups.append(process.pid)
        url = f"http://127.0.0.1:{port}"
        app_server.wait_until_serving(url, process, log_path)
        yield _Servers(url, users, groups, backing_cpu)


def _no_backing_servers() -> float:
    return 0.0


def _backing_cpu(*pids: int) -> Callable[[], float]:
    """PostgreSQL's CPU (its processes run as SERVER_USER when started as root) + that of
    `pids` (Redis, SeaweedFS)."""
    as_root = os.getuid() == 0
    return lambda: (user_cpu_s(SERVER_USER) if as_root else 0.0) + sum(map(pid_cpu_s, pids))


def _stat_fields(stat: Path) -> list[str] | None:
    try:
        return stat.read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _ticks(fields: list[str]) -> int:
    # After the command: state ppid pgrp ... utime (12th) stime (13th).
    return int(fields[11]) + int(fields[12])


def pid_cpu_s(pid: int) -> float:
    fields = _stat_fields(Path(f"/proc/{pid}/stat"))
    return _ticks(fields) / os.sysconf("SC_CLK_TCK") if fields else 0.0


def user_cpu_s(user: str) -> float:
    """CPU seconds used so far by the live processes running as `user`."""
    uid = pwd.getpwnam(user).pw_uid
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            owner = stat.stat().st_uid
        except OSError:
            continue
        fields = _stat_fields(stat) if owner == uid else None
        if fields:
            total += _ticks(fields)
    return total / os.sysconf("SC_CLK_TCK")


def group_cpu_s(*pgids: int) -> float:
    """CPU seconds (user + system) used so far by every live process of these groups."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat_fields(stat)
        if fields and int(fields[2]) in pgids:
            total += _ticks(fields)
    return total / os.sysconf("SC_CLK_TCK")


def _round(servers: _Servers, probes: Probes, provider: SlowOpenAI, mode: str, index: int) -> Round:
    url, users, groups = servers.url, servers.users, servers.process_groups
    # The fake files its timings by tag: a tag names its mode and round.
    round_tag = f"{mode}{index}"
    probes.phase = "off"
    single = Job(tag=f"{round_tag}-single", token=users.single_token)
    server_cpu = group_cpu_s(*groups)
    single_s = asyncio.run(_generate_all(url, [single]))
    single_cpu = group_cpu_s(*groups) - server_cpu
    probes.phase = "idle"
    time.sleep(IDLE_PROBE_S)
    jobs = [Job(tag=f"{round_tag}-j{n}", token=token) for n, (_, token) in enumerate(users.burst)]
    provider.reset_peak()
    probes.phase = f"burst{index}"
    server_cpu, bench_cpu = group_cpu_s(*groups), time.process_time()
    backing_cpu = servers.backing_cpu()
    burst_s = asyncio.run(_generate_all(url, jobs))
    burst_cpu = group_cpu_s(*groups) - server_cpu
    backing_cpu = servers.backing_cpu() - backing_cpu
    bench_cpu = time.process_time() - bench_cpu
    probes.phase = "off"
    finished = _finished_at([job.public_id for job in [single, *jobs]])
    burst_server_s = max(finished[job.public_id] for job in jobs) - min(job.sent for job in jobs)
    return Round(
        single_s,
        burst_s,
        burst_server_s,
        jobs,
        finished,
        provider.max_in_flight,
        single_cpu,
        burst_cpu,
        bench_cpu,
        backing_cpu,
    )


def _charged_once(users: _Users, bursts: int) -> str:
    cost = get_tier(TIER).credits
    expected = STARTING_CREDITS - bursts * cost
    with read_session() as db:
        balances = [ledger.balance(db, user_id) for user_id, _ in users.burst]
        open_holds = len(
            db.exec(select(CreditHold.id).where(CreditHold.status == HoldStatus.OPEN.value)).all()
        )
    right = sum(1 for balance in balances if balance == expected)
    return (
        f"sanity: {right} of {len(balances)} burst users hold exactly {expected} credits "
        f"({STARTING_CREDITS} − {bursts} bursts × {cost}: charged once per burst); "
        f"{open_holds} holds left open."
    )


@dataclass
class _ModeRun:
    rounds: list[Round]
    probes: Probes
    sanity: str
    # Where the server's CPU went in one extra burst sampled by py-spy (empty: not profiled).
    profile: list[str]


# Where a sample of server CPU belongs: the category of its innermost frame that names one.
CPU_CATEGORIES = {
    "image work (decoding the provider's PNG, thumbnail, WebP, Pillow)": ("PIL/",),
    "the database (SQLAlchemy, its driver, the ORM)": ("sqlalchemy/", "psycopg", "sqlite3"),
    "the provider SDK and HTTP client (openai, httpx)": ("openai/", "httpx/", "httpcore/"),
    "the job queue and Redis (taskiq, redis-py)": ("taskiq", "redis/"),
    "Reflex (state, websocket events)": ("reflex/",),
    "the web framework (FastAPI, Starlette, pydantic)": (
        "fastapi/",
        "starlette/",
        "pydantic",
        "granian/",
        "uvicorn/",
    ),
    "asyncio's loop and threads": ("asyncio/", "threading.py", "concurrent/futures"),
}


def _profiled_burst(servers: _Servers, mode: str) -> list[str]:
    """One more burst with py-spy sampling every server process; one line per finding."""
    if pyspy.py_spy() is None:
        return ["not profiled: py-spy is not installed (`.venv/bin/pip install py-spy`)."]
    jobs = [
        Job(tag=f"{mode}p-j{n}", token=token) for n, (_, token) in enumerate(servers.users.burst)
    ]
    with pyspy.recording(servers.process_groups) as samples:
        time.sleep(1.0)  # py-spy attaches to every process and its children
        cpu_before = group_cpu_s(*servers.process_groups)
        asyncio.run(_generate_all(servers.url, jobs))
        cpu_ms = (group_cpu_s(*servers.process_groups) - cpu_before) * 1000 / len(jobs)
    if not samples.total:
        return ["not profiled: py-spy took no samples (is ptrace allowed here?)."]
    by_category = "; ".join(
        f"{name} {share:.0%} (≈ {share * cpu_ms:.0f} ms)"
        for name, share in samples.by_category(CPU_CATEGORIES)
    )
    top = "; ".join(f"`{name}` {share:.0%}" for name, share in samples.top_self(8))
    app = "; ".join(
        f"`{name}` {share:.0%} (≈ {share * cpu_ms:.0f} ms)" for name, share in samples.top_app(8)
    )
    return [
        f"py-spy over one more burst without probes ({samples.total} samples running, "
        f"{samples.waiting} blocked and left out; ≈ {cpu_ms:.0f} ms of server CPU a "
        f"generation, the profiler's own cost included) — by what the CPU was doing: "
        f"{by_category}.",
        f"the functions the samples landed in: {top}.",
        f"the app's functions they were under: {app}.",
    ]


def _run_mode(mode: str, options: Options, provider: SlowOpenAI, fake: FakeServer) -> _ModeRun:
    rounds: list[Round] = []
    with (
        tempfile.TemporaryDirectory(prefix="studio-bench-") as tmp,
        _running_app(Path(tmp), fake, mode) as servers,
    ):
        with Probes(servers.url, servers.users.observer_token, phase="off") as probes:
            for index in range(options.warmup + options.runs):
                done = _round(servers, probes, provider, mode, index)
                if index >= options.warmup:
                    rounds.append(done)
                else:
                    for key in [k for k in probes.samples if k[1] in {"idle", f"burst{index}"}]:
                        del probes.samples[key]
                print(
                    f"  {mode} round {index}: single {done.single_s:.2f} s, burst "
                    f"{done.burst_s:.2f} s (server {done.burst_server_s:.2f} s), fake held "
                    f"{done.fake_peak} at once",
                    flush=True,
                )
        sanity = _charged_once(servers.users, options.warmup + options.runs)
        # Without the probes: the profile is the generations' own CPU.
        profile = _profiled_burst(servers, mode) if options.profile else []
    return _ModeRun(rounds, probes, sanity, profile)


def run(options: Options) -> Result:
    provider = SlowOpenAI(PROVIDER_DELAY_S)
    fake = FakeServer()
    fake.on("POST", openai_api.GENERATIONS_PATH, provider)
    fake.start()
    try:
        runs = {mode: _run_mode(mode, options, provider, fake) for mode in MODES}
    finally:
        fake.stop()
    return _result(options, runs, provider)


# --- the report ---------------------------------------------------------------------------


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def _burst_samples(probes: Probes, label: str, runs: int, warmup: int) -> list[float]:
    return [s for i in range(warmup, warmup + runs) for s in probes.of(label, f"burst{i}")]


def _result(options: Options, runs: dict[str, _ModeRun], provider: SlowOpenAI) -> Result:
    figures = []
    breakdown = []
    for mode, done in runs.items():
        rounds, probes = done.rounds, done.probes
        single = statistics.median(r.single_s for r in rounds)
        burst = statistics.median(r.burst_s for r in rounds)
        figures.append(
            Figure(
                f"{mode}: {BURST} at once, all succeeded",
                burst * 1000,
                "one alone",
                single * 1000,
                "ms",
                target_ratio=TARGET,
            )
        )
        for label in PROBES:
            idle = probes.of(label, "idle")
            busy = _burst_samples(probes, label, options.runs, options.warmup)
            if not idle or not busy:
                continue
            figures += [
                Figure(
                    f"{mode}: {label} median, during the burst",
                    _pct(busy, 0.5),
                    "idle",
                    _pct(idle, 0.5),
                    "ms",
                ),
                Figure(
                    f"{mode}: {label} p95, during the burst",
                    _pct(busy, 0.95),
                    "idle",
                    _pct(idle, 0.95),
                    "ms",
                ),
            ]
        breakdown += [f"**{mode}**", *_breakdown(rounds, probes, provider, options, done.sanity)]
        breakdown += done.profile
    return Result(
        name=NAME,
        title=TITLE,
        baseline=(
            "in each mode, one generation alone through the same API path (POST, then its "
            "status with `?wait=`), same servers, same fake provider (which answers after "
            f"{PROVIDER_DELAY_S:.0f} s); for the probes, the same requests while the app is "
            "idle."
        ),
        method=(
            f"Two modes in one run, one after the other: **{EMBEDDED}** — the app as `make run` "
            "starts it (`cli setup` + `reflex run --env prod`, one process, temporary SQLite "
            f"database and image folder); **{SCALED}** — PostgreSQL 15 and Redis started from "
            f"Debian's packages, `reflex run --env prod` with GRANIAN_WORKERS="
            f"{SCALED_WEB_WORKERS} and {SCALED_JOB_WORKERS} job workers (`cli worker`), images "
            f"on the local disk. In each mode {options.runs} measured rounds after "
            f"{options.warmup} warm-up round; each round is one generation alone, "
            f"{IDLE_PROBE_S:.0f} s of idle probes, then {BURST} POSTs sent at once by {BURST} "
            f"users (one API token each, tier {TIER}, provider openai → the fake), medians over "
            "rounds. Time runs from sending the first POST to the last `succeeded` (each job: "
            f"its POST, then one long poll `GET status_url?wait={STATUS_WAIT_S}` that answers "
            "when the image is done; one shared client). Probes: one "
            f"thread each, every {PROBE_EVERY_S * 1000:.0f} ms, idle samples from all rounds, "
            "burst samples from the measured bursts. The fake: a threaded HTTP server on "
            "loopback, OpenAI's wire format, a real PNG of the size asked for."
        ),
        figures=figures,
        breakdown=breakdown,
        reading=READING,
    )


def _spread(values: list[float]) -> str:
    if not values:
        return "–"
    ms = sorted(v * 1000 for v in values)
    return f"median {statistics.median(ms):.0f}, max {ms[-1]:.0f}"


def _breakdown(
    rounds: list[Round], probes: Probes, provider: SlowOpenAI, options: Options, sanity: str
) -> list[str]:
    lines = [
        "every round (s) — single: "
        + " ".join(f"{r.single_s:.2f}" for r in rounds)
        + "; burst: "
        + " ".join(f"{r.burst_s:.2f}" for r in rounds)
        + "; burst by the server's own `finished_at`: "
        + " ".join(f"{r.burst_server_s:.2f}" for r in rounds)
        + "; most requests the fake held at once: "
        + " ".join(str(r.fake_peak) for r in rounds)
        + ".",
        "CPU (s) — server over the single generation: "
        + " ".join(f"{r.single_server_cpu:.2f}" for r in rounds)
        + "; server over the burst: "
        + " ".join(f"{r.burst_server_cpu:.2f}" for r in rounds)
        + f" (≈ {statistics.median(r.burst_server_cpu for r in rounds) / BURST * 1000:.0f} ms "
        f"a generation, with its polls and the probes); this process (client, polls, probes, "
        "fake) over the burst: "
        + " ".join(f"{r.burst_bench_cpu:.2f}" for r in rounds)
        + "; PostgreSQL and Redis over the burst: "
        + " ".join(f"{r.burst_backing_cpu:.2f}" for r in rounds)
        + f"; {os.cpu_count()} cores.",
    ]
    jobs = [job for r in rounds for job in r.jobs]
    finished = {k: v for r in rounds for k, v in r.finished.items()}

    def phase(start: str, end: str) -> list[float]:
        out = []
        for job in jobs:
            moments = {
                "sent": job.sent,
                "accepted": job.accepted,
                "received": provider.received.get(job.tag),
                "answered": provider.answered.get(job.tag),
                "finished": finished.get(job.public_id),
                "seen": job.seen_done,
            }
            if moments[start] is not None and moments[end] is not None:
                out.append(moments[end] - moments[start])  # type: ignore[operator]
        return out

    first_sent = {r.jobs[0].tag.split("-")[0]: min(j.sent for j in r.jobs) for r in rounds}
    to_provider = [
        provider.received[j.tag] - first_sent[j.tag.split("-")[0]]
        for j in jobs
        if j.tag in provider.received
    ]
    lines.append(
        f"where a burst job's time goes (ms, over {len(jobs)} jobs): POST answered (202) "
        f"{_spread(phase('sent', 'accepted'))}; POST sent → the provider call reaches the "
        f"fake {_spread(phase('sent', 'received'))} (first POST of the burst → the last "
        f"call reaching the fake: max {max(to_provider) * 1000:.0f}); the fake's wait "
        f"{_spread(phase('received', 'answered'))}; fake answered → `succeeded` recorded "
        f"(response read, PNG checked and decoded, thumbnail, 2 files, capture) "
        f"{_spread(phase('answered', 'finished'))}; recorded → seen by a poll "
        f"{_spread(phase('finished', 'seen'))}."
    )
    polls = [job.polls for job in jobs]
    lines.append(
        f"status polls per burst job: median {statistics.median(polls):.0f}, max {max(polls)}."
    )
    for label in PROBES:
        idle = probes.of(label, "idle")
        busy = _burst_samples(probes, label, options.runs, options.warmup)
        if idle and busy:
            lines.append(
                f"{label}: {len(busy)} samples during bursts (max {max(busy) * 1000:.0f} ms), "
                f"{len(idle)} idle (max {max(idle) * 1000:.0f} ms)."
            )
    if probes.errors:
        lines.append(f"probe errors: {len(probes.errors)} (first: {probes.errors[0]}).")
    lines.append(sanity)
    return lines


READING = [
    "Scaled vs embedded, three runs on 2026-12-03. The table is the quietest (idle p95 4–11 "
    "ms): 50 at once took 1.60× one alone scaled and 1.59× embedded — both just over the "
    "1.5× target — and the probes' p95 during the burst was 32–71 ms scaled against "
    "110–125 ms embedded (target under 100 ms met scaled, not embedded). Two earlier runs "
    "on a busier machine: 1.74× / 1.81× and 2.73× / 2.59× (scaled / embedded), scaled p95 "
    "52–77 ms and 107–200 ms. The figures move with the machine's other load; the p95 "
    "gap between the modes does not.",
    "Bound by the machine: two cores carry two web workers, two job workers, PostgreSQL, "
    "Redis and this benchmark's own client, polls, probes and fake (~0.4 s of CPU a burst "
    "in this run). The burst's extra 1.2 s over one alone is the fifty POSTs being "
    "accepted (median 0.9 s, max 1.3 s): every POST's hold and pending row is a write "
    "transaction, and on PostgreSQL every write transaction takes one advisory lock (the "
    "rule that keeps SQLite's guarantees, services/db.py), so the POSTs and the job "
    "workers' captures take turns — while the same two cores run the job workers' image "
    "work. Per added core, with another web and job worker: ~1 s of the burst's ~3 s of "
    "server CPU moves off these two cores; at 3.2 s of CPU over ~1.2 s of acceptance, "
    "about 3 cores would bring the burst under 1.5× here, 4 with the benchmark's own "
    "client on the machine.",
    "Server CPU a generation outside the provider call, profiled (py-spy, the lines above, "
    "a burst without probes): ~48 ms scaled (~62 ms with polls and probes), ~29 ms "
    "embedded (~40 ms). The three biggest costs, scaled: (1) image work ~23 ms — decoding "
    "the provider's PNG (`ImageFile.load`) and the 384 px thumbnail (halving, resampling, "
    "WebP method 2); (2) the database ~12 ms — one write transaction for the POST (10 "
    "statements: limits, hold, pending row), one read and one write transaction for the "
    "job (8), the long poll's reads, each with PostgreSQL round trips; (3) asyncio and "
    "thread hand-offs ~11 ms (each job hops to a thread to read its row, to store, to "
    "capture). Storing the two files (`write_atomically`, fsync'd) is ~6 ms, mostly "
    "waiting on the disk. The fake's PNG is a flat colour: a provider's photo-like "
    "1024×1024 PNG decodes in ~21 ms instead of ~5 (measured separately), so image work "
    "is the biggest cost in production too.",
    "Cut so far, and what is left: the OpenAI SDK client is made once per event loop (it "
    "was ~40 ms a generation: SSL context and CA bundle); thumbnails halve before "
    "resampling and use WebP method 2 (~11 ms less); offline images are not decoded again; "
    "status polls are one long poll per job. Checked and kept: WebP method 0 saves ~1 ms "
    "but makes thumbnails ~28% bigger (24 on every gallery page); skipping the thumbnail's "
    "fsync trades durability for ~1 ms; the PNG must be decoded to check its size and "
    "draw its thumbnail. What would cut more: taking the advisory lock only where rows "
    "interact (row locks on PostgreSQL), and drawing thumbnails after the image is "
    "recorded — neither done here.",
    "Embedded, for comparison: without Redis, Reflex runs one backend worker, so every "
    "request and every generation shares one event loop and one GIL; the burst ends when "
    "that process has done fifty generations' Python work, and pages and API calls wait "
    "behind it (p95 ~110–200 ms in a burst). Scaled, the same work spreads over four "
    "processes and the page stays under 100 ms.",
    "Checked and not the limit: the provider slot limit (STUDIO_MAX_PARALLEL_GENERATIONS, "
    "64; the fake held all fifty at once); anyio's 40-thread limiter for sync routes and "
    "asyncio's default executor — each process is CPU-bound, more threads add no CPU.",
]
