"""The REST API as a user meets it: mounted on the served app, with a token made on /account."""

from __future__ import annotations

import io
import json
import re
import time
import urllib.error
import urllib.request

from PIL import Image
from playwright.sync_api import Page, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import create_api_token, credits_shown, sign_up


def _call(url: str, token: str, *, method: str = "GET", body: dict | None = None, key: str = ""):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token}"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if key:
        headers["Idempotency-Key"] = key
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def _new_token(page: Page, base_url: str) -> str:
    return create_api_token(page, base_url, "my script")


def test_a_token_from_the_account_page_generates_over_http(
    page: Page, running_app: RunningApp
) -> None:
    base = running_app.url
    sign_up(page, base)
    token = _new_token(page, base)
    assert re.fullmatch(r"stu_[A-Za-z0-9_-]{40,}", token)

    status, _, body = _call(f"{base}/api/studio/credits", token)
    assert status == 200 and json.loads(body)["balance"] == 5

    status, headers, body = _call(
        f"{base}/api/studio/generate",
        token,
        method="POST",
        body={"prompt": "A paper boat on a puddle", "tier": "premium"},
        key="e2e-generate-0001",
    )
    assert status == 202, body
    accepted = json.loads(body)
    assert headers["Location"] == accepted["status_url"]
    replay_status, replay_headers, replay = _call(
        f"{base}/api/studio/generate",
        token,
        method="POST",
        body={"prompt": "A paper boat on a puddle", "tier": "premium"},
        key="e2e-generate-0001",
    )
    assert replay_status == 202 and json.loads(replay)["id"] == accepted["id"]
    assert replay_headers["Idempotent-Replayed"] == "true"

    deadline = time.monotonic() + 60
    while True:
        status, _, body = _call(f"{base}{accepted['status_url']}", token)
        creation = json.loads(body)
        if creation["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert creation["status"] == "succeeded", creation
    status, headers, image = _call(f"{base}{creation['image_url']}", token)
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(image)).size == (1536, 1024)

    # The web studio shows the same account: one image, charged once.
    status, _, body = _call(f"{base}/api/studio/credits", token)
    assert json.loads(body)["balance"] == 3
    page.goto(f"{base}/my-creations")
    expect(page.locator(".creation-thumb")).to_have_count(1)
    assert credits_shown(page).startswith("3")

    # The image route of the API takes the token, not the browser's cookie, and
    # nobody else's token.
    status, _, _ = _call(f"{base}{creation['image_url']}", "stu_someone-else")
    assert status == 401


def test_the_api_documents_itself(page: Page, running_app: RunningApp) -> None:
    base = running_app.url
    with urllib.request.urlopen(f"{base}/api/openapi.json", timeout=10) as answer:
        spec = json.loads(answer.read())
    assert spec["info"]["title"] == "Studio API"
    assert "/api/studio/generate" in spec["paths"]
    assert "ApiToken" in spec["components"]["securitySchemes"]

    external = []
    page.on(
        "request",
        lambda request: external.append(request.url) if not request.url.startswith(base) else None,
    )
    page.goto(f"{base}/api/docs")
    expect(page.locator(".swagger-ui .title")).to_contain_text("Studio API")
    expect(
        page.locator(".opblock-summary-path", has_text="/api/studio/generate").first
    ).to_be_visible()
    expect(page.locator("button.authorize")).to_be_visible()
    # Served from the app itself: the docs work without a CDN.
    assert not [url for url in external if not url.startswith("data:")], external


def test_build_assets_are_cached_for_a_year(running_app: RunningApp) -> None:
    with urllib.request.urlopen(f"{running_app.url}/login", timeout=10) as answer:
        html = answer.read().decode()
    asset = re.search(r'(/assets/[^"\']+\.js)', html)
    assert asset, "the page links no build asset"
    with urllib.request.urlopen(f"{running_app.url}{asset.group(1)}", timeout=10) as answer:
        assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    with urllib.request.urlopen(f"{running_app.url}/login", timeout=10) as answer:
        assert "immutable" not in (answer.headers["Cache-Control"] or "")
