"""Benchmark 5 — the first load of the studio page `/` in headless Chromium.

The app is started as `make run` starts it (`cli setup`, then `reflex run --env prod`,
tests/app_server.py) with a temporary database and image folder on a free port. One account
is made through /signup; every measured load carries its session cookie, so `/` shows the
studio and not the sign-in page.

Measured per load, in the page's own clock (`performance.now()`, from navigation start):
the moment the first template card is laid out (a MutationObserver set up before any page
script). Cards exist only once the app has hydrated, opened its websocket and run the page's
`on_load` events, so a visible card is a clickable one — each cold run also clicks one and
waits for the studio to take it (not timed). Bytes: every HTTP response's `encodedDataLength`
(headers + body as sent, compressed) from the DevTools protocol, plus websocket payloads, until
the network is idle.

- cold: a fresh browser context (empty cache), signed in.
- warm: the same context loading `/` again in a new tab (HTTP cache filled by the cold load).
- baseline for cold: the same page from the same server as a static document — the same
  context settings with JavaScript off, until its `load` event. That is the floor any page
  costs here (HTML + CSS over this server); the ratio is what the app on top costs.
- baseline for warm: the cold figure of the same run.
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from bench.core import Figure, Options, Result, median_ms, timed
from bench.studio_env import studio_env
from studio_app.services import auth, catalog, creations, ledger
from studio_app.services.db import read_session
from studio_app.services.provider_switches import provider_infos
from studio_app.services.views import catalog_views
from studio_app.settings import PROJECT_ROOT
from tests import app_server
from tests.e2e.helpers import sign_up

NAME = "first_load"
TITLE = "First load of the studio page"
DEFAULTS = Options(runs=7, warmup=1)
VIEWPORT = {"width": 1280, "height": 900}
CARD = ".template-card"
SETTLE_TIMEOUT_MS = 30_000

# Set before any page script runs: records when the first template card is laid out, and
# the websocket's milestones (created, open, first event sent, last message before the grid).
_WATCH_GRID = (
    """
(() => {
  const marks = (window.__benchMarks = {});
  const ready = () => {
    const card = document.querySelector("%s");
    if (card && card.getBoundingClientRect().height > 0) {
      marks.grid = performance.now();
      return true;
    }
    return false;
  };
  const observer = new MutationObserver(() => { if (ready()) observer.disconnect(); });
  observer.observe(document, { childList: true, subtree: true, attributes: true });
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      marks.wsCreated ??= performance.now();
      this.addEventListener("open", () => { marks.wsOpen ??= performance.now(); });
      this.addEventListener("message", () => {
        if (marks.grid === undefined) marks.wsLastMessage = performance.now();
      });
    }
    send(data) {
      // Reflex sends its first event (hydrate + on_load) inside the socket.io connect packet.
      if (typeof data === "string" && /^4[02]/.test(data)) marks.firstEvent ??= performance.now();
      return super.send(data);
    }
  };
})();
"""
    % CARD
)
# Navigation Timing milestones, read once the grid is there.
_NAVIGATION = """
(() => {
  const nav = performance.getEntriesByType("navigation")[0];
  return {
    responseEnd: nav.responseEnd,
    domContentLoaded: nav.domContentLoadedEventEnd,
    load: nav.loadEventEnd,
    ...window.__benchMarks,
  };
})()
"""
_MILESTONES = {
    "responseEnd": "HTML received",
    "wsCreated": "websocket created",
    "domContentLoaded": "DOMContentLoaded",
    "wsOpen": "websocket open",
    "firstEvent": "hydrate + on_load event sent",
    "wsLastMessage": "last server message before the grid (state with the templates)",
    "grid": "grid laid out",
    "load": "load event",
}


READING = [
    "Cold bytes are mostly JavaScript (the React + Radix bundle Reflex builds) and the Radix "
    "Themes stylesheet, which the static baseline loads too; the HTML is a few KB. The "
    "websocket carries the studio's state (categories, templates, tiers, providers).",
    "Cold time is not spent waiting for bytes (loopback): it goes to parsing and running the "
    "scripts (DOMContentLoaded), then the websocket, the server's answer to the hydrate + "
    "on_load event, and React rendering the grid. Our services inside on_load are a few "
    "milliseconds of it (last line above); the rest is Reflex's event processing and state "
    "serialisation and the browser's CPU — on a 2-core machine shared with other work.",
    "Warm loads skip the transfers but not the work, so they save far less time than bytes "
    "(warm was 0.7–1.2× cold over our runs: within this loaded machine's noise). The "
    "server sends no Cache-Control for /assets (the names are content-hashed) and each "
    "`reflex run` rewrites the build with a fresh Last-Modified, so Chrome either reuses its "
    "heuristic cache or revalidates each file (304), depending on how long the server has "
    "been up. A long max-age/immutable on /assets/* would make warm loads free of requests; "
    "not changed here (server configuration).",
]


@dataclass
class _Traffic:
    """Bytes one tab moved, from the DevTools protocol's Network domain."""

    http_bytes: int = 0
    websocket_bytes: int = 0
    responses: int = 0
    from_cache: int = 0
    not_modified: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    _types: dict[str, str] = field(default_factory=dict)

    def attach(self, context: BrowserContext, page: Page) -> None:
        cdp = context.new_cdp_session(page)
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.webSocketFrameReceived", self._frame)
        cdp.on("Network.webSocketFrameSent", self._frame)
        cdp.send("Network.enable")

    def _response(self, event: dict) -> None:
        self.responses += 1
        self._types[event["requestId"]] = event.get("type", "Other")
        response = event["response"]
        if response.get("fromDiskCache") or response.get("fromMemoryCache"):
            self.from_cache += 1
        elif response.get("status") == 304:
            self.not_modified += 1

    def _finished(self, event: dict) -> None:
        size = int(event.get("encodedDataLength", 0))
        self.http_bytes += size
        kind = self._types.get(event["requestId"], "Other")
        self.by_type[kind] = self.by_type.get(kind, 0) + size

    def _frame(self, event: dict) -> None:
        self.websocket_bytes += len(event["response"].get("payloadData", "").encode())

    @property
    def total(self) -> int:
        return self.http_bytes + self.websocket_bytes


@dataclass(frozen=True)
class _Load:
    ms: float
    traffic: _Traffic
    marks: dict[str, float] = field(default_factory=dict)


def _settle(page: Page) -> None:
    page.wait_for_load_state("networkidle", timeout=SETTLE_TIMEOUT_MS)


def _load_app(context: BrowserContext, url: str, *, check_click: bool) -> _Load:
    page = context.new_page()
    page.set_default_timeout(SETTLE_TIMEOUT_MS)
    traffic = _Traffic()
    traffic.attach(context, page)
    page.goto(url, wait_until="commit")
    page.wait_for_function("window.__benchMarks && window.__benchMarks.grid !== undefined")
    marks = page.evaluate(_NAVIGATION)
    _settle(page)
    if check_click:
        card = page.locator(CARD).first
        name = card.locator("h3").inner_text()
        card.click()
        expect(page.get_by_text(f"Template: {name}")).to_be_visible()
    page.close()
    return _Load(float(marks["grid"]), traffic, marks)


def _load_static(browser: Browser, url: str, state: dict) -> _Load:
    context = browser.new_context(viewport=VIEWPORT, storage_state=state, java_script_enabled=False)
    page = context.new_page()
    traffic = _Traffic()
    traffic.attach(context, page)
    page.goto(url, wait_until="load")
    _settle(page)
    # Navigation Timing, read through the DevTools protocol (page scripts are off).
    timing = context.new_cdp_session(page).send(
        "Runtime.evaluate",
        {
            "expression": "performance.getEntriesByType('navigation')[0].loadEventEnd",
            "returnByValue": True,
        },
    )
    context.close()
    return _Load(float(timing["result"]["value"]), traffic)


@contextmanager
def _running_app(workdir: Path) -> Iterator[str]:
    env = app_server.app_env(workdir)
    app_server.run_cli(PROJECT_ROOT, env, "setup")
    with app_server.serve(PROJECT_ROOT, env, workdir / "server.log") as url:
        yield url


def _on_load_services_ms(workdir: Path, state: dict, runs: int = 20) -> float:
    """Our services' share of the server's answer: what `/`'s on_load handlers call
    (AuthState.require_user, StudioState.load_studio), in this process, on the app's database.
    """
    token = next(c["value"] for c in state["cookies"] if c["name"] == auth.SESSION_COOKIE)

    def on_load() -> None:
        viewer = auth.current_user(token)  # require_user
        assert viewer is not None
        with read_session() as db:
            ledger.summary(db, viewer.id)
        viewer = auth.current_user(token)  # load_studio
        assert viewer is not None
        with read_session() as db:
            catalog_views(catalog.catalog(db))
        provider_infos()
        creations.recent_creations(viewer.id)

    with studio_env(workdir):
        on_load()
        return median_ms([timed(on_load) for _ in range(runs)])


def _kb(samples: list[int]) -> float:
    return statistics.median(samples) / 1024


def _ms(loads: list[_Load]) -> float:
    return statistics.median(load.ms for load in loads)


def run(options: Options) -> Result:
    with (
        tempfile.TemporaryDirectory(prefix="studio-bench-") as tmp,
        _running_app(Path(tmp)) as url,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=app_server.CHROMIUM, args=app_server.CHROMIUM_ARGS
        )
        signing_up = browser.new_context(viewport=VIEWPORT)
        sign_up(signing_up.new_page(), url)
        state = signing_up.storage_state()
        signing_up.close()

        cold: list[_Load] = []
        warm: list[_Load] = []
        static: list[_Load] = []
        for index in range(options.warmup + options.runs):
            shell = _load_static(browser, f"{url}/studio/", state)
            context = browser.new_context(viewport=VIEWPORT, storage_state=state)
            context.add_init_script(_WATCH_GRID)
            first = _load_app(context, f"{url}/studio/", check_click=True)
            second = _load_app(context, f"{url}/studio/", check_click=False)
            context.close()
            if index >= options.warmup:
                static.append(shell)
                cold.append(first)
                warm.append(second)
        browser.close()
        services_ms = _on_load_services_ms(Path(tmp), state)

    def median_bytes(loads: list[_Load]) -> float:
        return _kb([load.traffic.total for load in loads])

    figures = [
        Figure(
            "cold: template grid interactive", _ms(cold), "static page (JS off)", _ms(static), "ms"
        ),
        Figure(
            "cold: bytes transferred",
            median_bytes(cold),
            "static page (JS off)",
            median_bytes(static),
            "KB",
        ),
        Figure("warm: template grid interactive", _ms(warm), "cold", _ms(cold), "ms"),
        Figure("warm: bytes transferred", median_bytes(warm), "cold", median_bytes(cold), "KB"),
    ]
    return Result(
        name=NAME,
        title=TITLE,
        baseline=(
            "for cold, the same page `/` served by the same server as a static document: "
            "JavaScript off, until its `load` event (HTML + CSS, the floor any page costs "
            "here; the ratio is what the app on top of it costs). For warm, the cold figure "
            "of the same run."
        ),
        method=(
            f"Median of {options.runs} loads of each kind after {options.warmup} warm-up "
            "round; each round is static, cold (fresh context, empty cache), then warm (same "
            "context, new tab). Time: `performance.now()` in the page when the first template "
            "card is laid out (it exists only after hydration, the websocket and the page's "
            "on_load events; each cold run then clicks one and sees it taken). Bytes: "
            "`encodedDataLength` of every HTTP response plus websocket payloads, until the "
            "network is idle. Signed in (one account made through /signup); the seed catalog "
            "has no preview images, so cards show lettered placeholders."
        ),
        figures=figures,
        breakdown=[
            *_breakdown(cold, warm, static),
            f"our services inside the on_load handlers (session, credits, catalog, providers, "
            f"recent images), timed in-process on the app's database: {services_ms:.1f} ms.",
        ],
        reading=READING,
    )


def _timeline(loads: list[_Load]) -> str:
    """Median time of each milestone from navigation start, in page order."""
    medians = {
        key: statistics.median(load.marks[key] for load in loads)
        for key in _MILESTONES
        if all(key in load.marks for load in loads)
    }
    order = sorted(medians, key=medians.get)  # type: ignore[arg-type]
    return ", ".join(f"{_MILESTONES[key]} {medians[key]:.0f}" for key in order) + " (ms)"


def _breakdown(cold: list[_Load], warm: list[_Load], static: list[_Load]) -> list[str]:
    def kinds(load: _Load) -> str:
        parts = sorted(load.traffic.by_type.items(), key=lambda item: -item[1])
        return ", ".join(f"{kind} {size / 1024:.0f} KB" for kind, size in parts if size)

    sample_cold, sample_warm, sample_static = cold[-1], warm[-1], static[-1]

    def samples(loads: list[_Load]) -> str:
        return " ".join(f"{load.ms:.0f}" for load in sorted(loads, key=lambda load: load.ms))

    return [
        f"every load, sorted (ms) — cold: {samples(cold)}; warm: {samples(warm)}; "
        f"static: {samples(static)}.",
        f"cold timeline: {_timeline(cold)}.",
        f"warm timeline: {_timeline(warm)}.",
        f"cold bytes by type (last run): {kinds(sample_cold)}; websocket "
        f"{sample_cold.traffic.websocket_bytes / 1024:.1f} KB; "
        f"{sample_cold.traffic.responses} responses.",
        f"warm (last run): {kinds(sample_warm) or 'no HTTP bytes'}; websocket "
        f"{sample_warm.traffic.websocket_bytes / 1024:.1f} KB; {sample_warm.traffic.responses} "
        f"responses: {sample_warm.traffic.from_cache} from the cache, "
        f"{sample_warm.traffic.not_modified} revalidated (304).",
        f"static baseline (last run): {kinds(sample_static)}; "
        f"{sample_static.traffic.responses} responses.",
    ]
