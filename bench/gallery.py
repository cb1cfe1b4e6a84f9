"""Benchmark 4 — My Creations at scale: one user with 10,000 creations.

Two databases, same schema (migrated with Alembic, catalog seeded), built in this process:

- small: user A with 100 creations, user B with none, a donor account whose 8 creations were
  made for real through the generation path (offline provider: a PNG original and its WebP
  thumbnail each), and 3 other users with 3,000 creations each (noise in the same table).
- large: a copy of small, plus 10,000 creations of user B.

Every bulk row is `succeeded` and points at one of the donor's real files (storage keys may
repeat), with `created_at` spread at random over the last year (A: the last 60 days), some on
templates (so the template-name join has work to do).

Servers: the app as `make run` starts it (tests/app_server.py, pages + API on one port) on the
large database, and a backend-only server (API alone) on the small one, side by side.

- API: `GET /api/studio/my-creations` with A's or B's Bearer token — B's first page and B's
  100th page (the cursor chain walked first; only the request for page 100 is timed) against
  A's first page on the small database. Requests alternate; medians.
- Chromium: a fresh context with the user's session cookie opens /my-creations; time from
  navigation start until the first grid is shown: 24 `.creation-thumb` images, each decoded.
  B against A (both on the large server, alternating). Then the pager's Older button (the
  page shows one page of 24 at a time): the click from page 1 to page 2 for A and B, and one
  walk of B from page 1 to page 100, click by click. A click counts until `.page-number` reads
  the new page and the grid holds 24 thumbnails, none from the page before, all decoded.
- Bytes: the thumbnail responses of one grid page (`encodedDataLength` from the DevTools
  protocol) against the originals of the same 24 creations.
"""

from __future__ import annotations

import cProfile
import pstats
import random
import secrets
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import event
from sqlmodel import select

from bench.core import Figure, Options, Result, median_ms, timed
from bench.studio_env import studio_env
from studio_app.clock import utcnow
from studio_app.models import GeneratedImage, ImageTemplate
from studio_app.services import api_tokens, auth, catalog, creations, generation, migrations
from studio_app.services.auth import CurrentUser
from studio_app.services.db import dispose_engines, get_engine, read_session, write_session
from studio_app.settings import PROJECT_ROOT
from studio_app.storage import image_store
from tests import app_server
from tests.factories import make_user

NAME = "gallery"
TITLE = "My Creations with 10,000 creations"
DEFAULTS = Options(runs=9, warmup=2)
TARGET_TIME = 2.0
TARGET_BYTES = 0.1
SMALL, LARGE = 100, 10_000
NOISE_USERS, NOISE_EACH = 3, 3_000
REAL_IMAGES = 8
PAGE = creations.PAGE_SIZE
DEEP_PAGE = 100  # the page whose time is reported (API and the Older walk)
VIEWPORT = {"width": 1280, "height": 900}
TIMEOUT_MS = 120_000
PASSWORD = "gallery bench password"


@dataclass
class Account:
    user_id: int
    email: str
    session: str  # the studio_session cookie
    api_token: str


@dataclass
class World:
    small: Path  # workdir with studio.db and images/
    large: Path
    a: Account
    b: Account
    image_bytes: dict[str, int] = field(default_factory=dict)  # storage key -> size


# --- building the databases ------------------------------------------------------------------


def make_offline_creations(user_id: int, count: int) -> None:
    """`count` standard images of `user_id` made through the generation path (offline
    provider), on the catalog's templates in turn."""
    import asyncio

    with read_session() as db:
        templates = db.exec(select(ImageTemplate).order_by(ImageTemplate.id)).all()

    async def make() -> None:
        for index in range(count):
            template = templates[index % len(templates)]
            request = generation.GenerationRequest(
                prompt=template.prompt,
                tier="standard",
                provider="offline",
                template_id=template.id,
                seed=index,
            )
            if await generation.run(generation.start(user_id, request)) != "succeeded":
                raise RuntimeError("the offline provider failed to make an image")

    asyncio.run(make())


def _real_rows(donor: int) -> list[GeneratedImage]:
    """REAL_IMAGES creations made through the generation path (standard tier, offline)."""
    make_offline_creations(donor, REAL_IMAGES)
    with read_session() as db:
        return list(db.exec(select(GeneratedImage).where(GeneratedImage.user_id == donor)).all())


def _bulk_rows(user_id: int, count: int, models: list[GeneratedImage], days: int) -> list[dict]:
    rng = random.Random(user_id * 7919 + count)
    now = utcnow()
    rows = []
    for index in range(count):
        model = models[index % len(models)]
        created = now - timedelta(seconds=rng.uniform(60, days * 86400))
        if index % 50 == 0 and rows:  # some share a timestamp: the cursor's id tie-break
            created = rows[-1]["created_at"]
        duration = rng.randint(2_000, 9_000)
        rows.append(
            {
                "public_id": secrets.token_hex(12),
                "user_id": user_id,
                # Two in three on a template (the page shows its name in the details).
                "template_id": model.template_id if index % 3 else None,
                "prompt": f"{model.prompt} #{index}",
                "enhanced_prompt": None,
                "negative_prompt": None,
                "seed": index,
                "provider": model.provider,
                "model": model.model,
                "tier": model.tier,
                "width": model.width,
                "height": model.height,
                "status": model.status,
                "error_code": None,
                "error_message": None,
                "cost_credits": model.cost_credits,
                "image_key": model.image_key,
                "thumbnail_key": model.thumbnail_key,
                "created_at": created,
                "finished_at": created + timedelta(milliseconds=duration),
                "duration_ms": duration,
                "deleted_at": None,
                "idempotency_key": None,
                "request_hash": None,
            }
        )
    return rows


def _insert(rows: list[dict]) -> None:
    with write_session() as db:
        db.connection().execute(GeneratedImage.__table__.insert(), rows)  # type: ignore[attr-defined]


def _account(email: str) -> Account:
    signed = auth.sign_up(email, PASSWORD, client_address=f"bench-{email}")
    viewer = CurrentUser(id=signed.user_id, email=signed.email, role="user")
    token = api_tokens.create_token(viewer, "bench", password=PASSWORD).secret
    return Account(signed.user_id, signed.email, signed.token, token)


def _checkpoint(workdir: Path) -> None:
    dispose_engines()
    with sqlite3.connect(workdir / "studio.db") as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def build_world(root: Path) -> World:
    small, large = root / "small", root / "large"
    small.mkdir()
    with studio_env(small, STUDIO_GENERATIONS_PER_MINUTE="1000000"):
        migrations.upgrade_to_head()
        with write_session() as db:
            catalog.seed_catalog(db)
        a = _account("a-hundred@example.com")
        b = _account("b-ten-thousand@example.com")
        donor = make_user(credits=1_000)
        models = _real_rows(donor)
        _insert(_bulk_rows(a.user_id, SMALL, models, days=60))
        for _ in range(NOISE_USERS):
            _insert(_bulk_rows(make_user(), NOISE_EACH, models, days=365))
        image_bytes = {}
        for model in models:
            for key in (model.image_key, model.thumbnail_key):
                assert key is not None
                stored = image_store().read(key)
                assert stored is not None
                image_bytes[key] = len(stored)
        _checkpoint(small)
    shutil.copytree(small, large)
    with studio_env(large):
        _insert(_bulk_rows(b.user_id, LARGE, models, days=365))
        _checkpoint(large)
    return World(small, large, a, b, image_bytes)


# --- servers ----------------------------------------------------------------------------------


@contextmanager
def _servers(world: World) -> Iterator[tuple[str, str]]:
    """(full app on the large database, API-only server on the small one)."""
    env_large = app_server.app_env(world.large)
    env_small = app_server.app_env(world.small)
    app_server.run_cli(PROJECT_ROOT, env_large, "setup")
    small_port = app_server.free_port()
    small_log = world.small / "server.log"
    backend = app_server.start(PROJECT_ROOT, env_small, small_port, small_log, backend_only=True)
    try:
        small_url = f"http://127.0.0.1:{small_port}"
        app_server.wait_until_serving(small_url, backend, small_log, page=False)
        with app_server.serve(PROJECT_ROOT, env_large, world.large / "server.log") as url:
            yield url, small_url
    finally:
        app_server.stop(backend)


# --- API --------------------------------------------------------------------------------------


def _get_page(client: httpx.Client, base: str, token: str, cursor: str | None) -> dict:
    params = {"limit": str(PAGE)}
    if cursor:
        params["cursor"] = cursor
    response = client.get(
        f"{base}/api/studio/my-creations",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
    )
    response.raise_for_status()
    return response.json()


def _cursor_for_page(client: httpx.Client, base: str, token: str, page: int) -> str:
    cursor = None
    for _ in range(page - 1):
        cursor = _get_page(client, base, token, cursor)["next_cursor"]
        assert cursor, "ran out of pages"
    assert cursor is not None
    return cursor


@dataclass
class ApiTimes:
    a_small: list[float] = field(default_factory=list)
    a_large: list[float] = field(default_factory=list)
    b_first: list[float] = field(default_factory=list)
    b_deep: list[float] = field(default_factory=list)


def measure_api(world: World, large: str, small: str, options: Options) -> ApiTimes:
    times = ApiTimes()
    with httpx.Client(timeout=60) as client:
        deep = _cursor_for_page(client, large, world.b.api_token, DEEP_PAGE)
        page = _get_page(client, large, world.b.api_token, deep)
        assert len(page["items"]) == PAGE
        calls = [
            (times.a_small, small, world.a.api_token, None),
            (times.b_first, large, world.b.api_token, None),
            (times.b_deep, large, world.b.api_token, deep),
            (times.a_large, large, world.a.api_token, None),
        ]
        for index in range(options.warmup + options.runs):
            order = calls if index % 2 else calls[::-1]
            for samples, base, token, cursor in order:
                spent = timed(lambda b=base, t=token, c=cursor: _get_page(client, b, t, c))
                if index >= options.warmup:
                    samples.append(spent)
    return times


# --- Chromium ---------------------------------------------------------------------------------

# Polled every animation frame: true (and the time noted) once `count` thumbnails are decoded.
_GRID_SHOWN = """
(count) => {
  const thumbs = [...document.querySelectorAll('.creation-thumb')];
  const ok = thumbs.length >= count && thumbs.every((img) => img.complete && img.naturalWidth > 0);
  if (ok) window.__shown ??= performance.now();
  return ok;
}
"""
# After an Older/Newer click: true (and the time noted) once `.page-number` reads "Page n" and
# the grid holds `count` thumbnails, none of them from the page before the click, all decoded.
_PAGE_SHOWN = """
([page, count]) => {
  const label = document.querySelector('.page-number');
  if (!label || label.textContent.trim() !== `Page ${page}`) return false;
  const thumbs = [...document.querySelectorAll('.creation-thumb')];
  if (thumbs.length !== count) return false;
  const before = window.__before;
  if (thumbs.some((img) => before.has(img.getAttribute('src')))) return false;
  window.__dom ??= performance.now();
  const ok = thumbs.every((img) => img.complete && img.naturalWidth > 0);
  if (ok) window.__paged ??= performance.now();
  return ok;
}
"""
_CLICK_OLDER = """
() => {
  window.__before = new Set(
    [...document.querySelectorAll('.creation-thumb')].map((img) => img.getAttribute('src'))
  );
  window.__dom = undefined;
  window.__paged = undefined;
  window.__clicked = performance.now();
  document.querySelector('.older-page').click();
}
"""


@dataclass
class PageLoad:
    shown_ms: float
    thumb_bytes: list[int]
    thumb_ids: list[str]
    older_ms: float  # the Older click from page 1 to page 2, until its thumbnails are decoded
    older_dom_ms: float  # the same click until the new tiles are in the DOM


@dataclass
class _Network:
    thumbs: dict[str, str] = field(default_factory=dict)  # request id -> public id
    sizes: dict[str, int] = field(default_factory=dict)
    ws_received: int = 0

    def attach(self, page: Page) -> None:
        cdp = page.context.new_cdp_session(page)
        cdp.on("Network.requestWillBeSent", self._request)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.webSocketFrameReceived", self._frame)
        cdp.send("Network.enable")

    def _request(self, event: dict) -> None:
        url = event["request"]["url"]
        if url.endswith("/thumbnail"):
            self.thumbs[event["requestId"]] = url.rsplit("/", 2)[-2]

    def _finished(self, event: dict) -> None:
        if event["requestId"] in self.thumbs:
            self.sizes[event["requestId"]] = int(event.get("encodedDataLength", 0))

    def _frame(self, event: dict) -> None:
        self.ws_received += len(event["response"].get("payloadData", "").encode())


def _context(browser: Browser, url: str, account: Account):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=VIEWPORT)
    context.add_cookies([{"name": auth.SESSION_COOKIE, "value": account.session, "url": url}])
    return context


def _click_older(page: Page, to_page: int) -> tuple[float, float]:
    """Older, until page `to_page` is labelled and its PAGE new thumbnails are decoded.

    (click → decoded, click → the new tiles in the DOM) in ms.
    """
    page.evaluate(_CLICK_OLDER)
    page.wait_for_function(_PAGE_SHOWN, arg=[to_page, PAGE], polling="raf")
    paged, dom = page.evaluate(
        "[window.__paged - window.__clicked, window.__dom - window.__clicked]"
    )
    return float(paged), float(dom)


def load_page(browser: Browser, url: str, account: Account) -> PageLoad:
    """A cold open of /my-creations, then one Older (page 1 → 2)."""
    context = _context(browser, url, account)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    network = _Network()
    network.attach(page)
    page.goto(f"{url}/my-creations", wait_until="commit")
    page.wait_for_function(_GRID_SHOWN, arg=PAGE, polling="raf")
    shown = float(page.evaluate("window.__shown"))
    page.wait_for_load_state("networkidle")
    thumbs = {rid: pid for rid, pid in network.thumbs.items() if rid in network.sizes}
    older, older_dom = _click_older(page, 2)
    context.close()
    return PageLoad(
        shown,
        [network.sizes[rid] for rid in thumbs][:PAGE],
        list(thumbs.values())[:PAGE],
        older,
        older_dom,
    )


@dataclass
class DeepWalk:
    click_ms: list[float]  # the Older click to page n + 1 at index n - 1 (until decoded)
    dom_ms: list[float]  # the same clicks until the new tiles are in the DOM
    ws_bytes: list[int]  # websocket bytes received per click
    tiles: list[int]  # `.creation-tile` elements in the DOM after each click


def deep_walk(browser: Browser, url: str, account: Account) -> DeepWalk:
    """Open the page, then Older until page DEEP_PAGE is on screen, timing every click."""
    context = _context(browser, url, account)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    network = _Network()
    network.attach(page)
    page.goto(f"{url}/my-creations", wait_until="commit")
    page.wait_for_function(_GRID_SHOWN, arg=PAGE, polling="raf")
    page.wait_for_load_state("networkidle")
    walk = DeepWalk([], [], [], [])
    for to_page in range(2, DEEP_PAGE + 1):
        before = network.ws_received
        shown, dom = _click_older(page, to_page)
        walk.click_ms.append(shown)
        walk.dom_ms.append(dom)
        page.wait_for_timeout(50)  # let the rest of the state update arrive
        walk.ws_bytes.append(network.ws_received - before)
        walk.tiles.append(int(page.evaluate("document.querySelectorAll('.creation-tile').length")))
    context.close()
    return walk


@dataclass
class BrowserTimes:
    a: list[PageLoad] = field(default_factory=list)
    b: list[PageLoad] = field(default_factory=list)
    deep: DeepWalk | None = None


def measure_browser(world: World, url: str, options: Options) -> BrowserTimes:
    times = BrowserTimes()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=app_server.CHROMIUM, args=app_server.CHROMIUM_ARGS
        )
        runs = max(3, options.runs // 2 + 1)
        for index in range(options.warmup + runs):
            pair = [(times.a, world.a), (times.b, world.b)]
            for loads, account in pair if index % 2 else pair[::-1]:
                load = load_page(browser, url, account)
                if index >= options.warmup:
                    loads.append(load)
        times.deep = deep_walk(browser, url, world.b)
        browser.close()
    return times


# --- in-process: the service call, its SQL and query plan -------------------------------------


@contextmanager
def _captured_sql() -> Iterator[list[tuple[str, tuple]]]:
    statements: list[tuple[str, tuple]] = []
    engine = get_engine()

    def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        statements.append((statement, tuple(parameters or ())))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def service_profile(world: World, options: Options) -> list[str]:
    lines: list[str] = []
    with studio_env(world.large):
        a = CurrentUser(world.a.user_id, world.a.email, "user")
        b = CurrentUser(world.b.user_id, world.b.email, "user")
        cursor = None
        for _ in range(DEEP_PAGE - 1):
            cursor = creations.list_creations(b, cursor=cursor).next_cursor
        runs = max(options.runs, 15)

        def median_of(function) -> float:  # type: ignore[no-untyped-def]
            function()
            return median_ms([timed(function) for _ in range(runs)])

        a_first = median_of(lambda: creations.list_creations(a))
        b_first = median_of(lambda: creations.list_creations(b))
        b_deep = median_of(lambda: creations.list_creations(b, cursor=cursor))
        a_choices = median_of(lambda: creations.filter_choices(a))
        b_choices = median_of(lambda: creations.filter_choices(b))
        lines.append(
            f"the service call in-process (median of {runs}, large database): "
            f"list_creations A page 1 {a_first:.1f} ms, B page 1 {b_first:.1f} ms, "
            f"B page {DEEP_PAGE} {b_deep:.1f} ms; filter_choices (on every open of the page) "
            f"A {a_choices:.1f} ms, B {b_choices:.1f} ms."
        )
        with _captured_sql() as statements:
            creations.list_creations(b, cursor=cursor)
        engine = get_engine()
        raw = engine.raw_connection()
        try:
            for statement, parameters in statements:
                if "FROM generated_image" not in statement:
                    continue
                kind = "page query" if "LIMIT" in statement else "cursor anchor"
                rows = raw.cursor().execute("EXPLAIN QUERY PLAN " + statement, parameters)
                plan = "; ".join(str(row[-1]) for row in rows.fetchall())
                lines.append(f"EXPLAIN QUERY PLAN, {kind}: {plan}.")
        finally:
            raw.close()
        if options.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(20):
                creations.list_creations(b, cursor=cursor)
            profiler.disable()
            stats = pstats.Stats(profiler)
            total = stats.total_tt  # type: ignore[attr-defined]
            cumulative = {
                _function_name(key): entry[3]
                for key, entry in stats.stats.items()  # type: ignore[attr-defined]
            }
            wanted = [
                ("CreationView.of", "of"),
                ("Session.exec (SQL + ORM rows)", "exec"),
                ("get_provider", "get_provider"),
                ("get_tier", "get_tier"),
            ]
            parts = []
            for label, function in wanted:
                spent = max(
                    (v for k, v in cumulative.items() if k.endswith("." + function)), default=0.0
                )
                parts.append(f"{label} {spent / total:.0%}")
            lines.append(
                f"cProfile of list_creations (B, page {DEEP_PAGE}, 20 calls), cumulative share: "
                + ", ".join(parts)
                + "."
            )
        dispose_engines()
    return lines


def _function_name(key: tuple[str, int, str]) -> str:
    filename, _line, function = key
    return f"{Path(filename).stem}.{function}"


# --- the benchmark ----------------------------------------------------------------------------


def _ms(samples: list[float]) -> float:
    return statistics.median(samples)


def run(options: Options) -> Result:
    with tempfile.TemporaryDirectory(prefix="studio-bench-") as tmp:
        started = time.perf_counter()
        world = build_world(Path(tmp))
        built_s = time.perf_counter() - started
        with _servers(world) as (large, small):
            api = measure_api(world, large, small, options)
            browser = measure_browser(world, large, options)
        profile = service_profile(world, options)
        originals = _original_sizes(world, [load.thumb_ids for load in browser.b + browser.a])
    return _result(options, api, browser, profile, originals, built_s)


def _original_sizes(world: World, pages: list[list[str]]) -> list[int]:
    """Per grid page, the bytes of the originals of the creations its thumbnails show."""
    with sqlite3.connect(world.large / "studio.db") as connection:
        keys = dict(connection.execute("SELECT public_id, image_key FROM generated_image"))
    return [sum(world.image_bytes[keys[public_id]] for public_id in page) for page in pages]


def _samples(values: list[float]) -> str:
    return " ".join(f"{value:.0f}" for value in sorted(values))


def _result(
    options: Options,
    api: ApiTimes,
    browser: BrowserTimes,
    profile: list[str],
    originals: list[int],
    built_s: float,
) -> Result:
    base_api = median_ms(api.a_small)
    a_shown = _ms([load.shown_ms for load in browser.a])
    a_older = _ms([load.older_ms for load in browser.a])
    assert browser.deep is not None
    clicks = browser.deep.click_ms
    tail = clicks[-5:]
    loads = browser.b + browser.a
    thumb_kb = statistics.median(sum(load.thumb_bytes) for load in loads) / 1024
    original_kb = statistics.median(originals) / 1024
    figures = [
        Figure(
            "API: first page, 10,000 creations",
            median_ms(api.b_first),
            "first page, 100 (small db)",
            base_api,
            "ms",
            TARGET_TIME,
        ),
        Figure(
            f"API: page {DEEP_PAGE}, 10,000 creations",
            median_ms(api.b_deep),
            "first page, 100 (small db)",
            base_api,
            "ms",
            TARGET_TIME,
        ),
        Figure(
            "API: first page, 100 creations, large db",
            median_ms(api.a_large),
            "same user, small db",
            base_api,
            "ms",
        ),
        Figure(
            "page: first grid shown, 10,000",
            _ms([load.shown_ms for load in browser.b]),
            "same, 100 creations",
            a_shown,
            "ms",
            TARGET_TIME,
        ),
        Figure(
            "page: Older, page 1 → 2, 10,000",
            _ms([load.older_ms for load in browser.b]),
            "same, 100 creations",
            a_older,
            "ms",
            TARGET_TIME,
        ),
        Figure(
            f"page: Older to page {DEEP_PAGE}, 10,000",
            statistics.median(tail),
            "Older, page 1 → 2, 100",
            a_older,
            "ms",
            TARGET_TIME,
        ),
        Figure(
            f"bytes: {PAGE} thumbnails of one grid page",
            thumb_kb,
            f"the {PAGE} originals",
            original_kb,
            "KB",
            TARGET_BYTES,
        ),
    ]
    deep = browser.deep
    marks = [n for n in (1, 2, 5, 10, 25, 50, 75, DEEP_PAGE - 1) if n <= len(clicks)]
    depth = ", ".join(
        f"page {n + 1} {clicks[n - 1]:.0f} ms / {deep.ws_bytes[n - 1] / 1024:.0f} KB / "
        f"{deep.tiles[n - 1]} tiles"
        for n in marks
    )
    last = slice(-5, None)
    dom_tail = statistics.median(deep.dom_ms[last])
    a_dom = _ms([load.older_dom_ms for load in browser.a])
    b_dom = _ms([load.older_dom_ms for load in browser.b])
    b_older = _ms([load.older_ms for load in browser.b])
    breakdown = [
        f"API samples (ms, sorted) — 100 on small db: {_samples([s * 1000 for s in api.a_small])}; "
        f"10,000 page 1: {_samples([s * 1000 for s in api.b_first])}; 10,000 page {DEEP_PAGE}: "
        f"{_samples([s * 1000 for s in api.b_deep])}.",
        f"first grid shown (ms, sorted) — 100: {_samples([load.shown_ms for load in browser.a])}; "
        f"10,000: {_samples([load.shown_ms for load in browser.b])}.",
        f"Older, page 1 → 2 (ms, sorted) — 100: "
        f"{_samples([load.older_ms for load in browser.a])}; "
        f"10,000: {_samples([load.older_ms for load in browser.b])}.",
        f"inside a click (medians): click → the new tiles in the DOM (server round trip + "
        f"React), then → their {PAGE} thumbnails fetched and decoded — page 1 → 2, 100: "
        f"{a_dom:.0f} + {a_older - a_dom:.0f} ms; page 1 → 2, 10,000: {b_dom:.0f} + "
        f"{b_older - b_dom:.0f} ms; last 5 of the walk to page {DEEP_PAGE}: {dom_tail:.0f} + "
        f"{statistics.median(tail) - dom_tail:.0f} ms.",
        f"Older at depth, one walk of user B (click → page labelled and its thumbnails decoded / "
        f"websocket bytes received for that click / `.creation-tile` elements in the DOM after "
        f"it): {depth}; last 5 clicks: {_samples(tail)} ms.",
        *profile,
        f"building both databases (8 real images, {SMALL + LARGE + NOISE_USERS * NOISE_EACH:,} "
        f"bulk rows): {built_s:.1f} s.",
    ]
    return Result(
        name=NAME,
        title=TITLE,
        baseline=(
            f"the same figure for a user with {SMALL} creations: for the API on a database "
            f"without the 10,000 (same schema, same other rows), for the page on the same server "
            f"(the list is per user through its index; the API row 'large db' shows the table "
            f"size alone changes nothing). Bytes: the originals of the same {PAGE} creations."
        ),
        method=(
            f"Two migrated SQLite databases: {SMALL} creations of user A, {NOISE_USERS}×"
            f"{NOISE_EACH:,} of other users; the large one adds {LARGE:,} of user B. Rows are "
            f"bulk-inserted, succeeded, spread over a year, sharing {REAL_IMAGES} real originals "
            f"(offline provider, 1024×1024 PNG) and their WebP thumbnails. Servers as `make run` "
            f"(large) and backend-only (small), side by side. API: `GET /api/studio/my-creations` "
            f"(Bearer), median of {options.runs} after {options.warmup} warm-up, requests "
            f"alternating; for page {DEEP_PAGE} the cursor chain is walked first and only that "
            f"request is timed. Page: headless Chromium, fresh context per open (cold cache), "
            f"session cookie set; time from navigation start until {PAGE} `.creation-thumb` "
            f"images are decoded; then one click on the pager's Older (page 1 → 2) until "
            f"`.page-number` reads 'Page 2' and the grid holds {PAGE} thumbnails, none of page 1, "
            f"all decoded; A and B alternate, median of {len(browser.a)}. Older at depth: one walk "
            f"of user B from page 1 to page {DEEP_PAGE}, every click timed the same way, median "
            f"of the last 5 (pages {DEEP_PAGE - 4}–{DEEP_PAGE}). Bytes: `encodedDataLength` of "
            f"the {PAGE} thumbnail responses vs the originals' file sizes."
        ),
        figures=figures,
        breakdown=breakdown,
        reading=READING,
    )


READING = [
    "The list query is keyset-paged on (created_at, id) through ix_generated_image_user_created "
    "(plan above), so the API answers page 1 and page 100 of 10,000 in the time it answers "
    "page 1 of 100; the request is mostly FastAPI, the token lookup and JSON, the service call "
    "a few ms (CreationView.of and the ORM's row building, not SQL).",
    "Fixed with this benchmark: the cursor condition was `created_at < x OR (created_at = x "
    "AND id < y)`, which SQLite cannot use as an index range: it walked the user's index from "
    "the newest creation and read the table row of each one before the cursor (page 100: "
    "2,376 rows; page 400: 9,576). It is now the row value `(created_at, id) < (x, y)`, and "
    "the plan seeks to the cursor (`created_at<?`).",
    "The first grid costs the same for 10,000 as for 100: the page is the JS bundle, the "
    "websocket and 24 thumbnails. Thumbnails (384-px WebP) are ~3% of the originals' bytes.",
    "History: the page used to grow one list with Load more, and Reflex resends a changed "
    "list whole, so page 100 took 7.12× page 2 (1.9 MB over the websocket per click); the fix "
    "was paging (Newer/Older, one page of 24 in the state).",
    "Older now costs the same at page 100 as at page 2, and the same for 10,000 as for 100: "
    "every click receives ~19 KB over the websocket and leaves 24 tiles in the DOM (depth line "
    "above). A click is dominated by the new page's 24 thumbnails — new URLs, fetched and "
    "decoded after React renders the tiles: 70–85% of the click. The server round trip (event, "
    "list_creations a few ms, state delta) plus React's render is the rest, ~40–130 ms over our "
    "runs. Deep clicks come out below the page-2 baseline because the walk's tab is warm; the "
    "baseline click follows a cold open.",
    "Also O(n) on every open of the page, not a target miss: `filter_choices` (templates and "
    "providers the user has used) reads all of the user's rows — 40–60 ms for 10,000 against "
    "1–2 ms for 100. Covering indexes (user_id, template_id, deleted_at) and (user_id, "
    "provider, deleted_at) cut it ~5× in a trial (still a scan of the index); not applied here "
    "(a migration).",
    "On a shared 2-core machine, page timings move by ±20% between runs; compare ratios.",
]
