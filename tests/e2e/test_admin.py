"""The admin tab: stats that follow real generations, the provider kill switch,
granting credits, and non-admins kept out (even when they forge admin events)."""

from __future__ import annotations

import json
import re
import sqlite3

from playwright.sync_api import Page, WebSocketRoute, expect

from studio_app.states.admin import AdminState
from studio_app.states.admin_providers import AdminProvidersState
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ARTIFACTS, RunningApp
from tests.e2e.helpers import sign_in, sign_up, studio_url


def _sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    sign_in(page, base_url, email, password)
    expect(page).to_have_url(studio_url(base_url))
    expect(page.locator(".account-email")).to_have_text(email)


def _open_admin(page: Page, base_url: str) -> None:
    _sign_in(page, base_url, ADMIN_EMAIL, ADMIN_PASSWORD)
    page.locator(".nav-link", has_text="Admin").click()
    expect(page).to_have_url(re.compile(r".*/admin/?$"), timeout=20_000)
    expect(page.locator(".stat-card").first).to_be_visible()


def _stat(page: Page, label: str) -> int:
    return int(page.locator(f".stat-card[data-label='{label}'] .stat-value").inner_text())


def _query(app: RunningApp, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(app.database_path) as db:
        return db.execute(sql, args).fetchall()


def test_admin_sees_stats_switches_a_provider_and_grants_credits(
    running_app: RunningApp, page: Page, second_page: Page
) -> None:
    user_page = second_page  # a member's tab, next to the admin's
    url = running_app.url
    _open_admin(page, url)
    generations_before = _stat(page, "All time")

    email = sign_up(user_page, url)
    user_page.fill("#prompt", "A red fox in fresh snow")
    user_page.locator("#generate").click()
    expect(user_page.locator(".job-succeeded img.result-image").first).to_be_visible(timeout=30_000)

    page.get_by_role("button", name="Refresh").click()
    expect(page.locator(".stat-card[data-label='All time'] .stat-value")).to_have_text(
        str(generations_before + 1)
    )
    fox = page.locator(".log-row", has_text=email)
    expect(fox).to_contain_text("succeeded")
    expect(fox).to_contain_text("offline")
    expect(page.locator(".generations-chart .recharts-bar-rectangle").first).to_be_visible()
    page.get_by_text("Failures only").click()
    expect(page.locator(".log-row", has_text=email)).to_have_count(0)
    page.screenshot(path=ARTIFACTS / "admin-overview.png", full_page=True)
    page.get_by_role("button", name="Switch light or dark").click()
    page.screenshot(path=ARTIFACTS / "admin-overview-dark.png", full_page=True)
    page.get_by_role("button", name="Switch light or dark").click()

    # The kill switch: OpenAI off for everyone, at once.
    page.locator(".tab-providers").click()
    openai = page.locator(".provider-card[data-provider='openai']")
    expect(openai).to_contain_text("Key configured")
    expect(page.locator(".provider-card[data-provider='gemini']")).to_contain_text("No key")
    openai.get_by_role("switch").click()
    try:
        expect(openai).to_contain_text("Switched off for everyone")
        assert _query(running_app, "SELECT enabled FROM provider_setting WHERE name='openai'") == [
            (0,)
        ]
        user_page.reload()
        user_page.get_by_role("combobox").click()
        switched_off = user_page.get_by_role("option", name=re.compile("OpenAI"))
        expect(switched_off).to_contain_text("switched off by an admin")
        expect(switched_off).to_have_attribute("data-disabled", "")
        user_page.keyboard.press("Escape")
        page.screenshot(path=ARTIFACTS / "admin-providers.png", full_page=True)
    finally:
        openai.get_by_role("switch").click()
        expect(openai).to_contain_text("On for everyone")

    # Granting credits: a double click grants once.
    balance_before = int(user_page.locator(".credit-balance").inner_text())
    page.locator(".tab-users").click()
    page.fill("#user-search", email)
    page.get_by_role("button", name="Search").click()
    row = page.locator(".user-row")
    expect(row).to_have_count(1)
    expect(row.locator(".user-email")).to_have_text(email)
    expect(row.locator(".user-balance")).to_have_text(str(balance_before))
    row.locator(".user-actions").click()
    page.locator(".grant-item").click()
    page.fill("#grant-amount", "2.5")
    page.fill("#grant-reason", "Thanks for testing")
    page.locator("#grant-submit").click()
    expect(page.locator(".grant-error")).to_contain_text("whole number")
    page.fill("#grant-amount", "7")
    page.screenshot(path=ARTIFACTS / "admin-grant-dialog.png")
    page.locator("#grant-submit").dblclick()
    expect(page.get_by_text(f"Granted 7 credits to {email}.")).to_be_visible()
    expect(row.locator(".user-balance")).to_have_text(str(balance_before + 7))
    grants = _query(
        running_app,
        "SELECT e.amount FROM credit_entry e JOIN user u ON u.id = e.user_id "
        "WHERE u.email = ? AND e.reference = 'Thanks for testing'",
        email,
    )
    assert grants == [(7,)]
    audit = _query(
        running_app,
        "SELECT action FROM audit_entry WHERE target = ? ORDER BY id",
        f"user {email}",
    )
    assert audit == [("user.grant_credits",)]
    assert _query(
        running_app, "SELECT action FROM audit_entry WHERE target = 'provider openai' ORDER BY id"
    )[-2:] == [("provider.disable",), ("provider.enable",)]
    user_page.reload()
    expect(user_page.locator(".credit-balance")).to_have_text(str(balance_before + 7))

    # Refunding the fox: once, however often the button is pressed.
    row.locator(".user-actions").click()
    page.locator(".refund-item").click()
    fox_option = page.locator(".refund-option")
    expect(fox_option).to_have_count(1)
    page.screenshot(path=ARTIFACTS / "admin-refund-dialog.png")
    fox_option.locator(".refund-button").click()
    expect(fox_option).to_contain_text("Refunded")
    expect(row.locator(".user-balance")).to_have_text(str(balance_before + 8))
    page.keyboard.press("Escape")

    # Disabling the account signs the person out at once.
    row.locator(".user-actions").click()
    page.locator(".status-item").click()
    expect(page.get_by_role("alertdialog")).to_contain_text("Disable this account?")
    page.locator("#status-confirm").click()
    expect(row).to_contain_text("disabled")
    user_page.reload()
    expect(user_page).to_have_url(re.compile(r".*/login"), timeout=20_000)


def test_admin_tab_on_a_phone(running_app: RunningApp, phone_page: Page) -> None:
    page = phone_page
    _sign_in(page, running_app.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    page.goto(f"{running_app.url}/admin")
    expect(page.locator(".stat-card").first).to_be_visible()
    page.screenshot(path=ARTIFACTS / "admin-overview-phone.png", full_page=True)
    page.locator(".tab-users").click()
    me = page.locator(".user-item", has_text=ADMIN_EMAIL)
    expect(me).to_be_visible()
    expect(page.locator(".user-row").first).to_be_hidden()  # the wide table is for desktops
    me.locator(".user-actions").click()
    expect(page.locator(".grant-item")).to_be_visible()
    expect(page.locator(".status-item")).to_have_count(0)  # nobody disables themselves
    page.keyboard.press("Escape")


def _forge(route: WebSocketRoute, sent: list[str]):  # type: ignore[no-untyped-def]
    """Pass the page's socket through, keeping what it sent, and return the server side."""
    server = route.connect_to_server()

    def from_page(message: str | bytes) -> None:
        sent.append(str(message))
        server.send(message)

    route.on_message(from_page)
    server.on_message(lambda message: route.send(message))
    return server


def test_non_admin_gets_no_admin_tab_and_forged_admin_events_change_nothing(
    running_app: RunningApp, page: Page
) -> None:
    sent: list[str] = []
    servers = []
    page.route_web_socket(
        re.compile(r".*/_event.*"), lambda route: servers.append(_forge(route, sent))
    )
    email = sign_up(page, running_app.url)
    expect(page.locator(".nav-link", has_text="Admin")).to_have_count(0)
    expect(page.locator(".nav-link", has_text="My Creations")).to_be_visible()

    page.goto(f"{running_app.url}/admin")
    expect(page).to_have_url(studio_url(running_app.url), timeout=20_000)
    expect(page.get_by_role("heading", name="Admin")).to_have_count(0)

    counts_sql = (
        "SELECT (SELECT COUNT(*) FROM audit_entry),"
        " (SELECT COUNT(*) || group_concat(model) FROM provider_setting),"
        " (SELECT COUNT(*) FROM credit_entry), (SELECT COUNT(*) FROM user WHERE is_active = 0)"
    )
    before = _query(running_app, counts_sql)

    # Send admin events straight down this (non-admin) page's own socket.
    # Socket.IO frames: '42/_event,["event", {name, payload, router_data}]'.
    prefix = '42/_event,["event"'
    template = next(
        json.loads(frame[len("42/_event,") :])
        for frame in reversed(sent)
        if frame.startswith(prefix)
    )
    admin_state = AdminState.get_full_name()
    providers_state = AdminProvidersState.get_full_name()

    def send(handler: str, state: str = admin_state, **payload: object) -> None:
        event = dict(template[1], name=f"{state}.{handler}", payload=payload)
        servers[-1].send("42/_event," + json.dumps(["event", event]))

    send("set_provider_enabled", state=providers_state, name="offline", enabled=False)
    expect(page.get_by_text("Only admins can do that.").first).to_be_visible()
    send("choose_model", state=providers_state, form={"provider": "fault", "model": "fault-2"})
    send("load")
    send("search_users", form_data={"query": ""})
    send("open_grant", index=0)
    send("set_grant_amount", value="500")
    send("submit_grant")
    send("refund", index=0)
    send("ask_status_change", index=0)
    send("confirm_status_change")
    page.wait_for_timeout(1500)

    assert _query(running_app, counts_sql) == before
    page.reload()
    expect(page.locator(".credit-balance")).to_have_text("5")
    expect(page.locator(".account-email")).to_have_text(email)
