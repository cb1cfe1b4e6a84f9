"""The account page: change the password, sign out of every session."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ARTIFACTS, RunningApp
from tests.e2e.helpers import PASSWORD, sign_up

NEW_PASSWORD = "a fresh password 42"


def _sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.locator("form button[type=submit]").click()


def _change_password(page: Page, current: str, new: str, repeat: str) -> None:
    page.fill("#current_password", current)
    page.fill("#new_password", new)
    page.fill("#repeat_password", repeat)
    page.locator("#change-password").click()


def test_change_password_then_sign_in_with_the_new_one(running_app: RunningApp, page: Page) -> None:
    email = sign_up(page, running_app.url)
    page.goto(f"{running_app.url}/account")
    expect(page.locator(".account-details-email")).to_have_text(email)
    expect(page.get_by_text("Member since")).to_be_visible()

    _change_password(page, PASSWORD, NEW_PASSWORD, "something else entirely")
    expect(page.locator(".password-error")).to_have_text("The two new passwords are not the same.")
    _change_password(page, "not my password", NEW_PASSWORD, NEW_PASSWORD)
    expect(page.locator(".password-error")).to_have_text("Your current password is not right.")

    _change_password(page, PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
    expect(page.get_by_text("Password changed.")).to_be_visible()
    expect(page.locator(".password-error")).to_have_count(0)
    expect(page.locator("#current_password")).to_have_value("")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "account-page-desktop.png", full_page=True)

    page.locator(".account-email").click()
    page.locator(".sign-out").click()
    expect(page).to_have_url(re.compile(r".*/login/?$"))
    _sign_in(page, running_app.url, email, PASSWORD)
    expect(page.locator(".form-error")).to_have_text("Wrong email or password.")
    _sign_in(page, running_app.url, email, NEW_PASSWORD)
    expect(page).to_have_url(f"{running_app.url}/")
    expect(page.locator(".account-email")).to_have_text(email)


def test_sign_out_everywhere_ends_the_other_browsers_session(
    running_app: RunningApp, page: Page, browser: Browser
) -> None:
    email = sign_up(page, running_app.url)
    other = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        laptop = other.new_page()
        laptop.set_default_timeout(20_000)
        _sign_in(laptop, running_app.url, email, PASSWORD)
        expect(laptop).to_have_url(f"{running_app.url}/")

        page.goto(f"{running_app.url}/account")
        page.locator("#sign-out-everywhere").click()
        expect(page.get_by_role("alertdialog")).to_contain_text("Sign out of all sessions?")
        page.locator("#confirm-sign-out-everywhere").click()
        expect(page).to_have_url(re.compile(r".*/login/?$"))

        laptop.goto(f"{running_app.url}/buy-credits")
        expect(laptop).to_have_url(re.compile(r".*/login\?next=/buy-credits/?$"))
        page.goto(f"{running_app.url}/account")
        expect(page).to_have_url(re.compile(r".*/login\?next=/account/?$"))
    finally:
        other.close()


def test_account_page_on_a_phone(running_app: RunningApp, phone_page: Page) -> None:
    page = phone_page
    email = sign_up(page, running_app.url)
    page.goto(f"{running_app.url}/account")
    expect(page.locator(".account-details-email")).to_have_text(email)
    expect(page.locator("#change-password")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width}px)"
