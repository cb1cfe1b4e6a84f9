"""The served app's redirects: `/` to the studio, the reference report's paths to ours.

Reflex serves a prerendered file for each page; these must be real HTTP 302s from the
server in front of them, so a client that does not run JavaScript follows them too.
"""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from studio_app.routes import ADMIN, BUY_CREDITS, MY_CREATIONS, REDIRECTS, STUDIO
from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import sign_up, studio_url


def test_the_server_answers_each_redirect_with_302(running_app: RunningApp) -> None:
    with httpx.Client(base_url=running_app.url) as client:
        answers = {path: client.get(path) for path in REDIRECTS}
        studio_page = client.get(f"{STUDIO}/")

    assert {path: (a.status_code, a.headers.get("location")) for path, a in answers.items()} == {
        "/": (302, STUDIO),
        "/studio/my-creations": (302, MY_CREATIONS),
        "/studio/buy-credits": (302, BUY_CREDITS),
        "/admin/studio": (302, ADMIN),
    }
    assert studio_page.status_code == 200
    assert "text/html" in studio_page.headers["content-type"]


def test_a_signed_in_person_follows_the_old_paths_to_the_pages(
    running_app: RunningApp, page: Page
) -> None:
    url = running_app.url
    sign_up(page, url)

    page.goto(f"{url}/")
    expect(page).to_have_url(studio_url(url))
    expect(page.locator("#generate")).to_be_visible()

    page.goto(f"{url}/studio/my-creations")
    expect(page).to_have_url(re.compile(rf"{re.escape(url)}/my-creations/?$"))
    expect(page.locator(".creations-empty")).to_be_visible()

    page.goto(f"{url}/studio/buy-credits")
    expect(page).to_have_url(re.compile(rf"{re.escape(url)}/buy-credits/?$"))
    expect(page.locator(".pack-card")).to_have_count(3)
