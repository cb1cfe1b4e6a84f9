"""HTML and script in names and prompts are shown as text everywhere, never run.

An admin's category and template named with markup, and a user's own prompt with an
`<img onerror>` and a `<script>`, go through the studio, the templates page, My
Creations and the admin tab. Each page must show the text literally, and neither the
`onerror` nor the script may ever run: `window.__xss` stays undefined.

The same run also reads the server's own log: the provider key the server holds, the
passwords typed and the session tokens handed out must never have been written there.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from playwright.sync_api import Browser, Locator, Page, expect

from studio_app.settings import PROJECT_ROOT
from tests.e2e.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    PROVIDER_KEY_CANARY,
    REPLICATE_KEY_CANARY,
    RunningApp,
)
from tests.e2e.helpers import PASSWORD, choose_provider, sign_up, studio_url

IMG = "<img src=x onerror=window.__xss=1>"
SCRIPT = "<script>window.__xss=2</script>"

_MAKE_CATALOG = """
import json, sys
from studio_app.services import auth, catalog_admin
from studio_app.services.catalog_admin import TemplateFields
from studio_app.services.db import read_session
from studio_app.models import User
from sqlmodel import select
category_name, template_name, prompt, email = sys.argv[1:5]
with read_session() as db:
    admin_id = db.exec(select(User.id).where(User.email == email)).one()
admin = auth.CurrentUser(id=admin_id, email=email, role="admin")
category = catalog_admin.create_category(admin, category_name, "Markup " + category_name)
template = catalog_admin.create_template(
    admin, TemplateFields(category, template_name, "Markup " + template_name, prompt, "standard")
)
print(json.dumps([category, template]))
"""


def _admin_creates_catalog(running_app: RunningApp, category: str, template: str, prompt: str):  # type: ignore[no-untyped-def]
    """The setup admin creates them through the catalog service, as the admin tab does."""
    made = subprocess.run(
        [sys.executable, "-c", _MAKE_CATALOG, category, template, prompt, ADMIN_EMAIL],
        cwd=PROJECT_ROOT,
        env=running_app.env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(made.stdout)


def _visible_text(page: Page, text: str) -> Locator:
    """The first element showing `text` literally that is on screen (other tabs hide theirs)."""
    return page.get_by_text(text).locator("visible=true").first


def _nothing_ran(page: Page) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator('img[src="x"]').count() == 0
    assert page.evaluate(
        "[...document.scripts].every(s => !s.textContent.includes('window.__xss'))"
    )


def test_markup_in_names_and_prompts_is_shown_as_text_and_never_runs(
    running_app: RunningApp, page: Page, browser: Browser
) -> None:
    base = running_app.url
    suffix = str(time.time_ns())[-6:]
    category = f"{IMG} {suffix}"
    template = f"{SCRIPT} {suffix}"
    template_prompt = f"A poster {IMG} with {SCRIPT}"
    own_prompt = f"My own {IMG} and {SCRIPT} {suffix}"
    _admin_creates_catalog(running_app, category, template, template_prompt)
    alerts: list[str] = []
    page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))

    # The studio: the category chip and the template card, then a generation from each.
    sign_up(page, base)
    page.locator(".category-chip", has_text=category).click()
    card = page.locator(".template-card", has_text=template)
    expect(card).to_be_visible()
    card.click()
    expect(page.locator("#prompt")).to_have_value(template_prompt)
    page.locator("#generate").click()
    expect(page.locator(".job-succeeded").first).to_be_visible(timeout=30_000)
    page.locator("#prompt").fill(own_prompt)
    page.locator("#generate").click()
    expect(page.locator(".latest-prompt", has_text=own_prompt)).to_be_visible(timeout=30_000)
    _nothing_ran(page)

    # The templates page.
    page.goto(f"{base}/templates")
    expect(page.get_by_text(category, exact=False).first).to_be_visible()
    expect(page.get_by_text(template, exact=False).first).to_be_visible()
    _nothing_ran(page)

    # My Creations: the tile's caption and the opened image's details.
    page.goto(f"{base}/my-creations")
    tile = page.locator(".creation-tile", has_text=own_prompt)
    expect(tile).to_be_visible()
    tile.locator(".creation-open").click()
    expect(page.locator(".creation-dialog")).to_contain_text(own_prompt)
    _nothing_ran(page)

    # The admin tab, in the admin's own browser.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    admin_page = context.new_page()
    admin_page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    try:
        admin_page.goto(f"{base}/login")
        admin_page.fill("#email", ADMIN_EMAIL)
        admin_page.fill("#password", ADMIN_PASSWORD)
        admin_page.locator("form button[type=submit]").click()
        expect(admin_page).to_have_url(studio_url(base))
        admin_page.goto(f"{base}/admin")
        # The overview's log names the template the user generated from.
        expect(_visible_text(admin_page, template)).to_be_visible()
        admin_page.get_by_role("tab", name="Categories").click()
        expect(_visible_text(admin_page, category)).to_be_visible()
        admin_page.get_by_role("tab", name="Templates").click()
        expect(_visible_text(admin_page, template)).to_be_visible()
        _nothing_ran(admin_page)
    finally:
        context.close()
    assert alerts == []


def test_the_server_log_holds_no_key_password_or_session_token(
    running_app: RunningApp, page: Page
) -> None:
    """After sign-ups, sign-ins and generations (the OpenAI one uses the canary key)."""
    base = running_app.url
    email = sign_up(page, base)
    page.locator("#prompt").fill("A lighthouse through the OpenAI fake")
    choose_provider(page, "OpenAI")
    page.locator("#generate").click()
    expect(page.locator(".job-succeeded").first).to_be_visible(timeout=30_000)
    page.locator(".account-email").click()
    page.locator(".sign-out").click()
    page.fill("#email", email)
    page.fill("#password", "a wrong password for the log")
    page.locator("form button[type=submit]").click()
    expect(page.locator(".form-error")).to_be_visible()
    page.fill("#password", PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page).to_have_url(studio_url(base))
    tokens = [c["value"] for c in page.context.cookies() if c["name"] == "studio_session"]
    assert tokens and all(len(t) > 20 for t in tokens)

    log = running_app.log_path.read_text(errors="replace")
    assert log  # the server did write its log
    for secret in (
        PROVIDER_KEY_CANARY,
        PROVIDER_KEY_CANARY[-12:],
        REPLICATE_KEY_CANARY,
        ADMIN_PASSWORD,
        PASSWORD,
        "a wrong password for the log",
        "$argon2",
        *tokens,
    ):
        assert secret not in log, f"{secret[:6]}… is in the server log"
