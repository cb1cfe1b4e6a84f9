"""A person buys a credit pack: the header balance and the statement follow at once."""

from __future__ import annotations

import re

from playwright.sync_api import Page, WebSocket, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import sign_up


def _open_buy_credits(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/buy-credits")
    expect(page.locator(".pack-card")).to_have_count(3)
    expect(page.locator(".test-mode-banner")).to_contain_text("Test mode — no real payment")


def test_buy_a_pack_updates_balance_and_statement(running_app: RunningApp, page: Page) -> None:
    sign_up(page, running_app.url)
    _open_buy_credits(page, running_app.url)
    expect(page.locator(".pack-card").nth(1)).to_contain_text("₹250")
    expect(page.locator(".statement-table .statement-row")).to_have_count(1)

    page.get_by_role("button", name="Buy 50 credits").click()

    expect(page.get_by_text("50 credits added for ₹250")).to_be_visible()
    expect(page.locator(".credit-balance")).to_have_text("55")
    rows = page.locator(".statement-table .statement-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Bought 50 credits (₹250)")
    expect(rows.nth(0).locator(".statement-amount")).to_have_text("+50")
    expect(rows.nth(0).locator(".statement-balance")).to_have_text("55")
    expect(rows.nth(1)).to_contain_text("Welcome credits")
    expect(rows.nth(1).locator(".statement-balance")).to_have_text("5")

    # The balance is the server's, not the page's: it survives a reload.
    page.reload()
    expect(page.locator(".credit-balance")).to_have_text("55")


def _buy_events_sent(page: Page) -> list[str]:
    sent: list[str] = []

    def on_socket(socket: WebSocket) -> None:
        socket.on(
            "framesent",
            lambda payload: (
                sent.append(str(payload)) if "credits_state.buy" in str(payload) else None
            ),
        )

    page.on("websocket", on_socket)
    return sent


def test_a_double_click_buys_once(running_app: RunningApp, page: Page) -> None:
    sent = _buy_events_sent(page)
    sign_up(page, running_app.url)
    _open_buy_credits(page, running_app.url)
    button = page.get_by_role("button", name="Buy 10 credits")
    # Two clicks in the same instant, before the page can disable the button.
    button.evaluate("b => { b.click(); b.click(); }")

    expect(page.locator(".credit-balance")).to_have_text("15")
    page.wait_for_timeout(1500)  # room for a second credit to (wrongly) land
    expect(page.locator(".credit-balance")).to_have_text("15")
    # Both clicks did reach the server, with the same purchase key.
    keys = {re.search(r'"purchase_key":"([^"]+)"', frame).group(1) for frame in sent}  # type: ignore[union-attr]
    assert len(sent) == 2 and len(keys) == 1, sent
    expect(page.locator(".statement-table .statement-row")).to_have_count(2)
    page.reload()
    expect(page.locator(".credit-balance")).to_have_text("15")

    # The next purchase is a new intent with a new key: it is credited.
    page.get_by_role("button", name="Buy 10 credits").click()
    expect(page.locator(".credit-balance")).to_have_text("25")


def test_buy_credits_on_a_phone(running_app: RunningApp, phone_page: Page) -> None:
    page = phone_page
    sign_up(page, running_app.url)
    _open_buy_credits(page, running_app.url)
    page.get_by_role("button", name="Buy 100 credits").click()
    expect(page.locator(".credit-balance")).to_have_text("105")
    lines = page.locator(".statement-line")
    expect(lines).to_have_count(2)
    expect(lines.nth(0)).to_contain_text("Bought 100 credits (₹500)")
    expect(page.locator(".statement-table")).to_be_hidden()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width}px)"
