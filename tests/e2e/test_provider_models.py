"""A provider's model goes away: members stop seeing it, the admin sees why and picks another."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS, RunningApp
from tests.e2e.helpers import choose_provider, open_admin_tab, sign_up

FAULT = "Fault injector (tests)"


def _choose_model(card, model: str) -> None:  # type: ignore[no-untyped-def]
    field = card.locator(".model-input input")
    field.fill(model)
    field.press("Enter")


def test_a_gone_model_hides_the_provider_until_the_admin_picks_another(
    running_app: RunningApp, page: Page, second_page: Page
) -> None:
    url = running_app.url
    sign_up(page, url)
    page.locator("#prompt").fill("A quiet harbour #fail=model_unavailable")
    choose_provider(page, FAULT)
    page.locator("#generate").click()
    expect(page.get_by_text("This provider is unavailable right now").first).to_be_visible(
        timeout=30_000
    )
    expect(page.locator(".credit-balance")).to_have_text("5")

    admin_page = second_page
    open_admin_tab(admin_page, url, "providers")
    card = admin_page.locator(".provider-card[data-provider='fault']")
    try:
        gone = card.locator(".model-gone")
        expect(gone).to_contain_text("fault-1")
        expect(gone).to_contain_text("injected model_unavailable")
        expect(gone).to_contain_text(re.compile(r"since \d{2} \w{3} \d{4}, \d{2}:\d{2} UTC"))
        admin_page.screenshot(path=ARTIFACTS / "admin-provider-model-gone.png", full_page=True)

        page.reload()
        page.get_by_role("combobox").click()
        expect(page.get_by_role("option", name="Studio offline")).to_be_visible()
        expect(page.get_by_role("option", name=FAULT)).to_have_count(0)
        page.keyboard.press("Escape")

        # A model the provider does not know is refused with its words; nothing changes.
        _choose_model(card, "fault-9")
        expect(admin_page.get_by_text(re.compile("does not offer fault-9"))).to_be_visible()
        expect(gone).to_be_visible()

        _choose_model(card, "fault-2")
        expect(admin_page.get_by_text(f"{FAULT} now uses fault-2.")).to_be_visible()
        expect(gone).to_have_count(0)
        expect(card).to_contain_text("chosen by an admin")

        page.reload()
        choose_provider(page, FAULT)
        page.locator("#prompt").fill("A harbour at dawn")
        page.locator("#generate").click()
        expect(page.locator(".job-succeeded img.result-image").first).to_be_visible(timeout=30_000)
        expect(page.locator(".credit-balance")).to_have_text("4")
    finally:
        # The server's own model again, for the tests that follow.
        _choose_model(card, "fault-1")
        expect(card).to_contain_text("the server's setting")
