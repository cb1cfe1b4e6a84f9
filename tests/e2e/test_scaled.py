"""The studio on the scaled backends: PostgreSQL, Redis (Reflex's state manager and the job
queue), two web workers and two job workers, all real servers this module starts."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from studio_app.settings import PROJECT_ROOT
from tests import app_server
from tests.e2e.helpers import choose_provider, create_api_token, sign_up
from tests.servers.postgres import PostgresServer
from tests.servers.proxy import FailoverProxy
from tests.servers.redis import RedisServer

WEB_WORKERS = 2
JOB_WORKERS = 2
GENERATIONS_PER_MINUTE = 4


@dataclass(frozen=True)
class ScaledApp:
    # The load balancer's address: what browsers and API clients use.
    url: str
    database_url: str
    # The process serving the pages (WEB_WORKERS granian workers) and its own address.
    pages_url: str
    # A second web process (backend only) that takes the websockets while it lives.
    socket_process: subprocess.Popen
    redis: RedisServer


@pytest.fixture(scope="module")
def scaled_app(
    tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer
) -> Iterator[ScaledApp]:
    redis = RedisServer().start()
    workdir = tmp_path_factory.mktemp("scaled")
    database = "studio_scaled_e2e"
    database_url = postgres.create_database(database)
    pages_port, socket_port = app_server.free_port(), app_server.free_port()
    proxy = FailoverProxy(pages_port, [socket_port]).start()
    env = app_server.app_env(
        workdir,
        STUDIO_DATABASE_URL=database_url,
        STUDIO_REDIS_URL=redis.url,
        GRANIAN_WORKERS=str(WEB_WORKERS),
        # Browsers reach every web process through the balancer: its address is the app's.
        STUDIO_PUBLIC_URL=proxy.url,
        REFLEX_API_URL=proxy.url,
        STUDIO_ENABLE_FAULT_PROVIDER="1",
        STUDIO_SIGNUPS_PER_ADDRESS_PER_HOUR="1000",
        STUDIO_GENERATIONS_PER_MINUTE=str(GENERATIONS_PER_MINUTE),
        STUDIO_MAX_CONCURRENT_GENERATIONS="100",
        **app_server.private_frontend(PROJECT_ROOT, workdir),
    )
    app_server.run_cli(PROJECT_ROOT, env, "setup")
    log = workdir / "server.log"
    processes = [
        app_server.start_job_worker(PROJECT_ROOT, env, workdir / f"job-worker-{n}.log")
        for n in range(JOB_WORKERS)
    ]
    try:
        pages = app_server.start(PROJECT_ROOT, env, pages_port, log)
        processes.append(pages)
        sockets = app_server.start(
            PROJECT_ROOT, {**env, "GRANIAN_WORKERS": "1"}, socket_port, log, backend_only=True
        )
        processes.append(sockets)
        pages_url = f"http://127.0.0.1:{pages_port}"
        app_server.wait_until_serving(pages_url, pages, log)
        app_server.wait_until_serving(f"http://127.0.0.1:{socket_port}", sockets, log, page=False)
        yield ScaledApp(proxy.url, database_url, pages_url, sockets, redis)
    finally:
        for process in processes:
            app_server.stop(process)
        proxy.stop()
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
    assert len(_web_workers(scaled_app.pages_url)) == WEB_WORKERS
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


def _established_connections(port: int) -> int:
    """Open TCP connections whose server side is `port` (a web process's websockets)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with Path(table).open() as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                    count += 1
    return count


SLOW_JOB_S = 8


def test_a_browser_whose_web_process_dies_while_it_waits_gets_its_image_from_another(
    scaled_app: ScaledApp, page: Page
) -> None:
    sign_up(page, scaled_app.url)
    page.locator("#prompt").fill(f"A tortoise crossing a road #delay={SLOW_JOB_S}")
    choose_provider(page, "Fault injector (tests)")
    page.locator("#generate").click()
    expect(page.locator(".job-pending")).to_have_count(1)
    socket_port = int(scaled_app.socket_process.args[-1])
    assert _established_connections(socket_port) >= 1, "the tab's websocket is elsewhere"

    os.killpg(scaled_app.socket_process.pid, signal.SIGKILL)
    scaled_app.socket_process.wait(timeout=10)
    # The tab reconnects through the balancer to the other web process (as a new tab:
    # the dead process still owns its old token in Redis), loads its states there and
    # follows its pending job to the end.
    expect(page.locator(".job-succeeded img.result-image").first).to_be_visible(
        timeout=(SLOW_JOB_S + 30) * 1000
    )
    expect(page.locator(".credit-balance")).to_have_text("4")


def test_an_edit_from_an_upload_across_web_and_job_workers(
    scaled_app: ScaledApp, page: Page, tmp_path: Path
) -> None:
    """The picture is uploaded to one web worker (its tab's state in Redis), edited by a
    job worker, and shown by whichever web worker serves the page."""
    email = sign_up(page, scaled_app.url)
    page.locator(".edit-a-picture").click()
    page.locator(".picture-upload input[type=file]").set_input_files(_photo(tmp_path))
    expect(page.locator(".chosen-picture .fit-note")).to_have_text(
        "Cropped from the centre to 1:1 (1024×1024): its sides are cut off.", timeout=20_000
    )
    page.locator("#prompt").fill("make it black and white")
    page.locator("#generate").click()
    expect(page.locator(".job-succeeded img.result-image").first).to_be_visible(timeout=60_000)
    expect(page.locator(".credit-balance")).to_have_text("4")
    assert _rows(
        scaled_app,
        "SELECT g.status, g.width, u.email FROM generated_image g JOIN image_upload i "
        'ON i.id = g.source_upload_id JOIN "user" u ON u.id = g.user_id WHERE u.email = %s',
        email,
    ) == [("succeeded", 1024, email)]


def _photo(folder: Path) -> str:
    path = folder / "photo.png"
    picture = Image.new("RGB", (900, 600), (210, 40, 40))
    picture.paste((40, 60, 210), (450, 0, 900, 600))
    picture.save(path, "PNG")
    return str(path)


BURST_USERS = 3
BURST_JOB_S = 3
# Longer than the Redis client's own retries, so that some requests find it down.
REDIS_DOWN_S = 2


def _generate_later(url: str, token: str, prompt: str, delay_s: float) -> httpx.Response:
    time.sleep(delay_s)
    with httpx.Client(base_url=url, timeout=60) as client:
        return client.post(
            "/api/studio/generate",
            headers={"Authorization": f"Bearer {token}"},
            json={"prompt": prompt, "provider": "fault"},
        )


# Last in the module: the web processes' Reflex states go with Redis.
def test_redis_restarting_during_a_burst_loses_no_job_and_no_credit(
    scaled_app: ScaledApp, page: Page
) -> None:
    tokens = {}
    for n in range(BURST_USERS):
        page.context.clear_cookies()
        email = sign_up(page, scaled_app.url)
        tokens[email] = create_api_token(page, scaled_app.url, f"burst {n}")
    asked = [(email, n) for n in range(GENERATIONS_PER_MINUTE) for email in tokens]
    # Spread over ~2.5 s: before, during and after Redis is down.
    requests = [
        (email, f"A storm over the sea, {email} #{n} #delay={BURST_JOB_S}", 0.2 * order)
        for order, (email, n) in enumerate(asked)
    ]
    with ThreadPoolExecutor(len(requests)) as pool:
        sent = [
            (email, pool.submit(_generate_later, scaled_app.url, tokens[email], prompt, delay))
            for email, prompt, delay in requests
        ]
        time.sleep(0.6)  # some are queued or running, some not yet asked
        scaled_app.redis.restart(down_s=REDIS_DOWN_S)
        answers = [(email, future.result()) for email, future in sent]

    statuses = Counter(answer.status_code for _, answer in answers)
    print(f"answers during the restart: {dict(statuses)}")
    assert set(statuses) <= {202, 503}, statuses
    assert statuses[202] > 0
    for _, answer in answers:
        if answer.status_code == 503:
            assert answer.json()["code"] == "queue_unavailable"
            assert "try again" in answer.json()["message"]
            assert answer.headers["Retry-After"]

    def ended() -> bool:
        return not _rows(
            scaled_app,
            'SELECT 1 FROM generated_image g JOIN "user" u ON u.id = g.user_id '
            "WHERE g.status = 'pending' AND u.email = ANY(%s)",
            list(tokens),
        )

    deadline = time.monotonic() + 60 + BURST_JOB_S * len(requests)
    while not ended():
        assert time.monotonic() < deadline, "jobs left pending after Redis came back"
        time.sleep(0.5)
    for email in tokens:
        accepted = sum(1 for who, answer in answers if who == email and answer.status_code == 202)
        made = _rows(
            scaled_app,
            'SELECT g.status, g.error_code FROM generated_image g JOIN "user" u '
            "ON u.id = g.user_id WHERE u.email = %s",
            email,
        )
        # Every accepted image was made (none lost with Redis); every refused one is
        # recorded as not queued; each made image is charged once, nothing else is held.
        expected = Counter(
            {
                ("succeeded", None): accepted,
                ("failed", "queue_unavailable"): GENERATIONS_PER_MINUTE - accepted,
            }
        )
        assert Counter(made) == +expected, made
        balance = _rows(
            scaled_app,
            'SELECT COALESCE(SUM(e.amount), 0) FROM credit_entry e JOIN "user" u '
            "ON u.id = e.user_id WHERE u.email = %s",
            email,
        )[0][0]
        assert balance == 5 - accepted
        assert not _rows(
            scaled_app,
            'SELECT 1 FROM credit_hold h JOIN "user" u ON u.id = h.user_id '
            "WHERE h.status = 'open' AND u.email = %s",
            email,
        )
