"""Steps a person takes, for the browser tests."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
import time

from playwright.sync_api import BrowserContext, Page, WebSocket, expect

from studio_app.routes import STUDIO
from studio_app.settings import PROJECT_ROOT

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def new_email() -> str:
    return f"e2e{time.time_ns()}{next(_counter)}@example.com"


def studio_url(base_url: str) -> re.Pattern[str]:
    """The studio's address as the browser shows it: `/studio` after a link, `/studio/`
    after a page load (the server adds the slash to every page's path)."""
    return re.compile(rf"^{re.escape(base_url + STUDIO)}/?$")


def sign_up(page: Page, base_url: str, email: str | None = None) -> str:
    email = email or new_email()
    page.goto(f"{base_url}/signup")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.fill("#password_confirm", PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page).to_have_url(studio_url(base_url))
    expect(page.locator(".account-email")).to_have_text(email)
    return email


def sign_in(page: Page, base_url: str, email: str, password: str = PASSWORD) -> None:
    """Fill and send the sign-in form (the caller checks where it lands)."""
    page.goto(f"{base_url}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.locator("form button[type=submit]").click()


def create_api_token(page: Page, base_url: str, name: str, password: str = PASSWORD) -> str:
    """Make a token on the Account page; returns its secret, read from the dialog once."""
    page.goto(f"{base_url}/account")
    page.locator("#open-create-token").click()
    page.fill("#token_name", name)
    page.fill("#token_password", password)
    page.locator("#create-token").click()
    dialog = page.locator(".new-token-dialog")
    secret_field = dialog.locator("input.new-token-secret, .new-token-secret input").first
    expect(secret_field).to_have_value(re.compile(r"^stu_"))
    secret = secret_field.input_value()
    dialog.locator(".close-new-token").click()
    expect(page.locator(".new-token-dialog")).to_have_count(0)
    return secret


def run_in_app(env: dict[str, str], code: str, *args: str) -> str:
    """Run `code` with the served app's settings (its database) and return what it printed."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def credits_shown(page: Page) -> str:
    return page.locator(".credit-balance").inner_text()


def collect_frames(page: Page) -> list[str]:
    """Every websocket frame the page sends or receives from now on (as text)."""
    frames: list[str] = []

    def on_socket(socket: WebSocket) -> None:
        socket.on("framereceived", lambda payload: frames.append(str(payload)))
        socket.on("framesent", lambda payload: frames.append(str(payload)))

    page.on("websocket", on_socket)
    return frames


# Every Content-Security-Policy violation a page of the context reports, sent to Python
# as it happens (a binding outlives navigations; a variable on `window` would not).
_CSP_VIOLATION_BINDING = "__studioCspViolation"
_REPORT_CSP_VIOLATIONS = f"""
document.addEventListener("securitypolicyviolation", (event) => {{
  window.{_CSP_VIOLATION_BINDING}({{
    page: location.href,
    directive: event.effectiveDirective,
    blocked: event.blockedURI,
    source: event.sourceFile,
    line: event.lineNumber,
    sample: event.sample,
  }});
}});
"""


def record_csp_violations(context: BrowserContext) -> list[dict]:
    """The CSP violations of every page the context opens from now on (filled as they occur)."""
    violations: list[dict] = []
    context.expose_binding(
        _CSP_VIOLATION_BINDING, lambda _source, violation: violations.append(violation)
    )
    context.add_init_script(_REPORT_CSP_VIOLATIONS)
    return violations


def open_admin_tab(page: Page, base_url: str, tab: str) -> None:
    """Sign the admin in on `page` and open the admin page's `tab` (e.g. "providers")."""
    from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

    sign_in(page, base_url, ADMIN_EMAIL, ADMIN_PASSWORD)
    expect(page).to_have_url(studio_url(base_url))
    page.goto(f"{base_url}/admin")
    page.locator(f".tab-{tab}").click()


def choose_provider(page: Page, label: str) -> None:
    """Pick a provider in the studio's provider menu by its label."""
    page.get_by_role("combobox").click()
    page.get_by_role("option", name=label).click()
