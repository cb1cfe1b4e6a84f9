"""Browser tests: the app started the way `make run` starts it, driven by Chromium.

One production build per test session: a temporary database and image folder,
a free port, and the server in its own process group so that nothing outlives
the run.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from studio_app.settings import PROJECT_ROOT
from tests import app_server
from tests.e2e.helpers import record_csp_violations
from tests.e2e.state_files import secrets_in_state_files
from tests.fakes import openai_api, replicate_api
from tests.fakes.server import FakeServer

# How long an `expect` waits for the page to get there (Playwright's default is 5 s): on
# this 2-core machine under the whole suite a server answer can take longer. Only the
# waiting changes, never what is asserted.
expect.set_options(timeout=15_000)

CHROMIUM = app_server.CHROMIUM
CHROMIUM_ARGS = app_server.CHROMIUM_ARGS
PROVIDER_KEY_CANARY = "sk-e2e-canary-0123456789abcdef"
REPLICATE_KEY_CANARY = "r8_e2eCanary0123456789abcdef"
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


# The shared server helpers, under the names the crash-safety test imports.
_free_port = app_server.free_port
_stop = app_server.stop
_wait_until_serving = app_server.wait_until_serving


def app_env(workdir: Path) -> dict[str, str]:
    """This process's environment without STUDIO_* settings, the app's data in `workdir`."""
    return app_server.app_env(workdir, STUDIO_ENABLE_FAULT_PROVIDER="1")


def start_server(
    env: dict[str, str], port: int, log_path: Path, *, backend_only: bool = False
) -> subprocess.Popen:
    """`reflex run --env prod` on `port`, in its own process group (`_stop` ends the group)."""
    return app_server.start(PROJECT_ROOT, env, port, log_path, backend_only=backend_only)


@pytest.fixture(scope="session")
def openai_fake() -> Iterator[FakeServer]:
    """OpenAI's and Replicate's APIs, faked on loopback (one server: their paths differ):
    the served app's OpenAI and Replicate providers talk to it."""
    server = FakeServer().start()
    server.on("POST", openai_api.GENERATIONS_PATH, openai_api.image_of_requested_size)
    server.on("GET", openai_api.MODELS_PATH, openai_api.models())
    server.on("POST", replicate_api.CREATE_PATH, replicate_api.draws(server))
    replicate_api.serve_models(server)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def running_app(
    tmp_path_factory: pytest.TempPathFactory, openai_fake: FakeServer
) -> Iterator[RunningApp]:
    workdir = tmp_path_factory.mktemp("app")
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
        "REPLICATE_API_TOKEN": REPLICATE_KEY_CANARY,
        "REPLICATE_BASE_URL": openai_fake.url,
    }
    app_server.run_cli(PROJECT_ROOT, env, "setup")
    crashed = subprocess.run(
        [sys.executable, "-m", "tests.e2e.simulated_crash"],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    log_path = workdir / "server.log"
    with app_server.serve(PROJECT_ROOT, env, log_path) as url:
        yield RunningApp(
            url=url,
            env=env,
            log_path=log_path,
            database_path=workdir / "studio.db",
            images_dir=workdir / "images",
            crash=json.loads(crashed.stdout),
        )
    # After every browser test: no session token or API secret in a pickled state.
    leaked = secrets_in_state_files(workdir / ".states", workdir / "studio.db")
    assert not leaked, f"secrets in Reflex's state files: {leaked}"
    assert any((workdir / ".states").glob("*.pkl")), "no state files: the check saw nothing"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def csp_violations(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[list[dict]]]:
    """Every browser test runs under the app's Content-Security-Policy: each context a
    test opens (the `page` fixtures' and its own) records its pages' CSP violations, and
    any violation fails the test, whatever else it checked. A test that provokes one on
    purpose asks for this fixture and clears what it expected."""
    recorded: list[list[dict]] = []
    if "browser" not in request.fixturenames:
        yield recorded
        return
    browser: Browser = request.getfixturevalue("browser")
    open_context = browser.new_context

    def new_context(*args, **kwargs):  # type: ignore[no-untyped-def]
        context = open_context(*args, **kwargs)
        recorded.append(record_csp_violations(context))
        return context

    monkeypatch.setattr(browser, "new_context", new_context)
    yield recorded
    violations = [violation for violations in recorded for violation in violations]
    assert not violations, f"Content-Security-Policy violations: {violations}"


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
def second_page(browser: Browser) -> Iterator[Page]:
    """A second person's tab (its own cookies), next to `page`."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    new_page = context.new_page()
    new_page.set_default_timeout(20_000)
    yield new_page
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
