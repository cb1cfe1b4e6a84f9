"""The account page: change the password, API tokens, sign out of every session."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ARTIFACTS, RunningApp
from tests.e2e.helpers import PASSWORD, collect_frames, run_in_app, sign_in, sign_up, studio_url

NEW_PASSWORD = "a fresh password 42"


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
    sign_in(page, running_app.url, email, PASSWORD)
    expect(page.locator(".form-error")).to_have_text("Wrong email or password.")
    sign_in(page, running_app.url, email, NEW_PASSWORD)
    expect(page).to_have_url(studio_url(running_app.url))
    expect(page.locator(".account-email")).to_have_text(email)


def test_sign_out_everywhere_ends_the_other_browsers_session(
    running_app: RunningApp, page: Page, browser: Browser
) -> None:
    email = sign_up(page, running_app.url)
    other = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        laptop = other.new_page()
        laptop.set_default_timeout(20_000)
        sign_in(laptop, running_app.url, email, PASSWORD)
        expect(laptop).to_have_url(studio_url(running_app.url))

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


def _token_owner(app: RunningApp, secret: str) -> str:
    """Whom the server's own database says the token belongs to ("" for nobody)."""
    script = (
        "import sys; from studio_app.services import api_tokens; "
        "who = api_tokens.user_for_token(sys.argv[1]); print(who.email if who else '')"
    )
    return run_in_app(app.env, script, secret)


def test_api_token_is_shown_once_works_and_can_be_revoked(
    running_app: RunningApp, page: Page
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    frames = collect_frames(page)
    email = sign_up(page, running_app.url)
    page.goto(f"{running_app.url}/account")
    tokens = page.locator("#api-tokens")
    expect(tokens.get_by_role("heading", name="API tokens")).to_be_visible()
    expect(tokens).to_contain_text("Authorization: Bearer")
    expect(tokens.locator(".api-docs-link")).to_have_attribute("href", "/api/docs")
    expect(tokens.locator(".tokens-empty")).to_contain_text("No API tokens yet")

    page.locator("#open-create-token").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Create an API token")
    page.fill("#token_password", PASSWORD)
    page.locator("#create-token").click()
    expect(dialog.locator(".token-error")).to_have_text("Write a token name first.")
    page.fill("#token_name", "CI pipeline")
    page.fill("#token_password", "not my password")
    page.locator("#create-token").click()
    expect(dialog.locator(".token-error")).to_have_text("Your current password is not right.")
    expect(page.locator("#token_password")).to_have_value("")
    expect(tokens.locator(".token-row")).to_have_count(0)

    page.locator("#token_expires").click()
    page.get_by_role("option", name="30 days").click()
    page.fill("#token_password", PASSWORD)
    page.locator("#create-token").click()
    expect(dialog).to_contain_text("Copy your new token")
    expect(dialog).to_contain_text("only time you will see this token")
    secret_field = dialog.locator(".new-token-secret input, input.new-token-secret").first
    expect(secret_field).to_have_value(re.compile(r"^stu_[A-Za-z0-9_-]{40,}$"))
    secret = secret_field.input_value()
    assert _token_owner(running_app, secret) == email

    dialog.locator(".copy-token").click()
    expect(page.get_by_text("Token copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret

    # Behind the dialog: the new row, with its lifetime.
    row = tokens.locator(".token-row")
    expect(row).to_have_count(1)
    expect(row.locator(".token-name")).to_have_text("CI pipeline")
    expect(row.locator(".token-status")).to_have_text("Active")
    expect(row).to_contain_text("Expires")
    prefix = row.locator(".token-prefix").inner_text().rstrip("…")
    assert secret.startswith(prefix) and len(prefix) < len(secret)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "account-new-token-dialog.png")

    shown_until = len(frames)
    dialog.locator(".close-new-token").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.locator(".new-token-secret")).to_have_count(0)
    assert secret not in page.content()
    # Coming back to the page sends the whole state again: the secret is not in it.
    page.reload()
    expect(tokens.locator(".token-row")).to_have_count(1)
    assert secret not in page.content()
    assert any(secret in frame for frame in frames[:shown_until]), "frames were not captured"
    assert not any(secret in frame for frame in frames[shown_until:])

    tokens.locator(".revoke-token").click()
    confirm = page.get_by_role("alertdialog")
    expect(confirm).to_contain_text("Revoke this token?")
    expect(confirm).to_contain_text("CI pipeline")
    confirm.locator(".confirm-revoke-token").click()
    expect(page.get_by_text("is revoked")).to_be_visible()
    expect(row.locator(".token-status")).to_have_text("Revoked")
    expect(tokens.locator(".revoke-token")).to_have_count(0)
    assert _token_owner(running_app, secret) == ""
    page.reload()
    expect(tokens.locator(".token-row .token-status")).to_have_text("Revoked")
    page.screenshot(path=ARTIFACTS / "account-tokens-revoked.png", full_page=True)


def test_new_token_dialog_fits_a_phone(running_app: RunningApp, phone_page: Page) -> None:
    page = phone_page
    sign_up(page, running_app.url)
    page.goto(f"{running_app.url}/account")
    page.locator("#open-create-token").click()
    page.fill("#token_name", "Phone shortcut with a rather long descriptive name")
    page.fill("#token_password", PASSWORD)
    page.locator("#create-token").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.locator(".copy-token")).to_be_visible()
    expect(dialog.locator(".copy-token")).to_be_in_viewport()
    box = dialog.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "account-new-token-dialog-phone.png")
    dialog.locator(".close-new-token").click()
    expect(page.locator(".token-row")).to_have_count(1)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width}px)"


def test_a_display_name_is_chosen_explained_and_kept(running_app: RunningApp, page: Page) -> None:
    email = sign_up(page, running_app.url)
    page.goto(f"{running_app.url}/account")
    name = page.locator("#display_name")
    expect(name).to_have_value("")
    name.fill(email.partition("@")[0])
    page.locator("#save-name").click()
    expect(page.locator(".name-error")).to_have_text(
        "Choose a name that is not your email address: it is shown to everyone."
    )
    name.fill("  Paper   Crane ")
    page.locator("#save-name").click()
    expect(page.get_by_text("You appear as “Paper Crane” on what you publish.")).to_be_visible()
    expect(page.locator(".name-error")).to_have_count(0)
    page.reload()
    expect(page.locator("#display_name")).to_have_value("Paper Crane")
