"""Browser tests: the app started the way `make run` starts it, driven by Chromium.

One production build per test session: a temporary database and image folder,
a free port, and the server in its own process group so that nothing outlives
the run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from studio_app.settings import PROJECT_ROOT
from tests.fakes import openai_api
from tests.fakes.server import FakeServer

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SERVER_START_TIMEOUT_S = 600
PROVIDER_KEY_CANARY = "sk-e2e-canary-0123456789abcdef"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin password for e2e"


@dataclass(frozen=True)
class RunningApp:
    url: str
    env: dict[str, str]
    log_path: Path
    database_path: Path
    images_dir: Path
    # What tests/e2e/simulated_crash.py left before the server started.
    crash: dict


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_serving(
    url: str, process: subprocess.Popen, log_path: Path, *, page: bool = True
) -> None:
    """Until /ping (and, unless `page` is False, the home page) answers 200."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited early:\n{log_path.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=2) as ping:
                pinged = ping.status == 200
            if pinged and not page:
                return
            if pinged:
                with urllib.request.urlopen(url, timeout=5) as home:
                    if home.status == 200:
                        return
        except OSError:
            pass
        time.sleep(1 if page else 0.25)
    raise RuntimeError(f"the app did not start in time:\n{log_path.read_text()[-4000:]}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def app_env(workdir: Path) -> dict[str, str]:
    """This process's environment without STUDIO_* settings, the app's data in `workdir`."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("STUDIO_")},
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "REFLEX_USE_NPM": "1",
        "STUDIO_DATABASE_URL": f"sqlite:///{workdir / 'studio.db'}",
        "STUDIO_IMAGES_DIR": str(workdir / "images"),
        "STUDIO_ENABLE_FAULT_PROVIDER": "1",
    }


def start_server(
    env: dict[str, str], port: int, log_path: Path, *, backend_only: bool = False
) -> subprocess.Popen:
    """`reflex run --env prod` on `port`, in its own process group (`_stop` ends the group).

    `backend_only` serves the backend alone (the REST API, /ping; no pages): no frontend
    build, so it serves within seconds.
    """
    mode = (
        ["--backend-only", "--backend-port"]
        if backend_only
        else ["--single-port", "--frontend-port"]
    )
    with log_path.open("a") as log:
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "reflex"), "run", "--env", "prod", *mode, str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@pytest.fixture(scope="session")
def openai_fake() -> Iterator[FakeServer]:
    """OpenAI's image API, faked on loopback: the served app's OpenAI provider talks to it."""
    server = FakeServer().start()
    server.on("POST", openai_api.GENERATIONS_PATH, openai_api.image_of_requested_size)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def running_app(
    tmp_path_factory: pytest.TempPathFactory, openai_fake: FakeServer
) -> Iterator[RunningApp]:
    workdir = tmp_path_factory.mktemp("app")
    port = _free_port()
    env = {
        **app_env(workdir),
        "STUDIO_SIGNUPS_PER_ADDRESS_PER_HOUR": "1000",
        "STUDIO_TEST_PAYMENT_GATEWAY": "1",
        # `cli setup` creates this admin.
        "STUDIO_ADMIN_EMAIL": ADMIN_EMAIL,
        "STUDIO_ADMIN_PASSWORD": ADMIN_PASSWORD,
        # A provider key the server holds: it must never reach a browser.
        "OPENAI_API_KEY": PROVIDER_KEY_CANARY,
        "OPENAI_BASE_URL": f"{openai_fake.url}{openai_api.BASE_PATH}",
    }
    subprocess.run(
        [sys.executable, "-m", "studio_app.cli", "setup"],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    crashed = subprocess.run(
        [sys.executable, "-m", "tests.e2e.simulated_crash"],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    log_path = workdir / "server.log"
    process = start_server(env, port, log_path)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, process, log_path)
        yield RunningApp(
            url=url,
            env=env,
            log_path=log_path,
            database_path=workdir / "studio.db",
            images_dir=workdir / "images",
            crash=json.loads(crashed.stdout),
        )
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


ARTIFACTS = PROJECT_ROOT / "test-artifacts"


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser tab; the page it ends on is saved to test-artifacts/<test>.png."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    new_page = context.new_page()
    new_page.set_default_timeout(20_000)
    yield new_page
    ARTIFACTS.mkdir(exist_ok=True)
    with contextlib.suppress(Exception):
        new_page.screenshot(path=ARTIFACTS / f"{request.node.name}.png", full_page=True)
    context.close()


@pytest.fixture
def phone_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A 390-px phone-sized tab, screenshot saved like `page`."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    new_page = context.new_page()
    new_page.set_default_timeout(20_000)
    yield new_page
    ARTIFACTS.mkdir(exist_ok=True)
    with contextlib.suppress(Exception):
        new_page.screenshot(path=ARTIFACTS / f"{request.node.name}-phone.png", full_page=True)
    context.close()
