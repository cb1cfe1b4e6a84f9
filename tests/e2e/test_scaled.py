"""The studio on the scaled backends: PostgreSQL, Redis (Reflex's state manager and the job
queue), two web workers and two job workers, all real servers this module starts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from playwright.sync_api import Page, expect

from studio_app.settings import PROJECT_ROOT
from tests import app_server
from tests.e2e.helpers import create_api_token, sign_up
from tests.servers.postgres import PostgresServer
from tests.servers.redis import RedisServer

WEB_WORKERS = 2
JOB_WORKERS = 2
GENERATIONS_PER_MINUTE = 4


@dataclass(frozen=True)
class ScaledApp:
    url: str
    database_url: str


@pytest.fixture(scope="module")
def scaled_app(
    tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer
) -> Iterator[ScaledApp]:
    redis = RedisServer().start()
    workdir = tmp_path_factory.mktemp("scaled")
    database = "studio_scaled_e2e"
    database_url = postgres.create_database(database)
    env = app_server.app_env(
        workdir,
        STUDIO_DATABASE_URL=database_url,
        STUDIO_REDIS_URL=redis.url,
        GRANIAN_WORKERS=str(WEB_WORKERS),
        STUDIO_SIGNUPS_PER_ADDRESS_PER_HOUR="1000",
        STUDIO_GENERATIONS_PER_MINUTE=str(GENERATIONS_PER_MINUTE),
        STUDIO_MAX_CONCURRENT_GENERATIONS="100",
        **app_server.private_frontend(PROJECT_ROOT, workdir),
    )
    app_server.run_cli(PROJECT_ROOT, env, "setup")
    job_workers = [
        app_server.start_job_worker(PROJECT_ROOT, env, workdir / f"job-worker-{n}.log")
        for n in range(JOB_WORKERS)
    ]
    try:
        with app_server.serve(PROJECT_ROOT, env, workdir / "server.log") as url:
            yield ScaledApp(url, database_url)
    finally:
        for worker in job_workers:
            app_server.stop(worker)
        redis.stop()
        postgres.drop_database(database)


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _web_workers(url: str) -> list[str]:
    """The backend worker processes serving `url`: `reflex run`'s children that run it too."""
    served = f"--frontend-port {url.rsplit(':', 1)[1]} "
    workers = []
    for pid in filter(str.isdigit, (entry.name for entry in Path("/proc").iterdir())):
        try:
            parent = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
        except (OSError, IndexError):
            continue
        if served in _cmdline(pid) and served in _cmdline(parent):
            workers.append(pid)
    return workers


def _rows(app: ScaledApp, sql: str, *args: object) -> list[tuple]:
    url = app.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as db:
        return db.execute(sql, args).fetchall()


def test_a_generation_end_to_end_on_postgresql_and_redis_with_two_web_workers(
    scaled_app: ScaledApp, page: Page
) -> None:
    assert len(_web_workers(scaled_app.url)) == WEB_WORKERS
    email = sign_up(page, scaled_app.url)
    page.locator("#prompt").fill("A lighthouse on a cliff at dawn")
    page.locator("#generate").click()
    expect(page.locator(".job-succeeded img.result-image").first).to_be_visible(timeout=60_000)
    expect(page.locator(".credit-balance")).to_have_text("4")
    # A reload may land on the other worker: the state lives in Redis, the rows in PostgreSQL.
    page.reload()
    expect(page.locator(".job-succeeded img.result-image").first).to_be_visible()
    assert _rows(
        scaled_app,
        'SELECT g.status, g.cost_credits FROM generated_image g JOIN "user" u '
        "ON u.id = g.user_id WHERE u.email = %s",
        email,
    ) == [("succeeded", 1)]


def test_the_generation_limit_holds_across_web_workers(scaled_app: ScaledApp, page: Page) -> None:
    sign_up(page, scaled_app.url)
    token = create_api_token(page, scaled_app.url, "limits")
    statuses = []
    for attempt in range(2 * GENERATIONS_PER_MINUTE):
        # A new connection each time: the workers take turns accepting them.
        with httpx.Client(base_url=scaled_app.url, timeout=30) as client:
            answer = client.post(
                "/api/studio/generate",
                headers={"Authorization": f"Bearer {token}"},
                json={"prompt": f"A paper crane, number {attempt}"},
            )
        statuses.append(answer.status_code)
    assert Counter(statuses) == {202: GENERATIONS_PER_MINUTE, 429: GENERATIONS_PER_MINUTE}
    assert statuses[:GENERATIONS_PER_MINUTE] == [202] * GENERATIONS_PER_MINUTE
