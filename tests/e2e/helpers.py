"""Steps a person takes, for the browser tests."""

from __future__ import annotations

import itertools
import time

from playwright.sync_api import BrowserContext, Page, WebSocket, expect

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def new_email() -> str:
    return f"e2e{time.time_ns()}{next(_counter)}@example.com"


def sign_up(page: Page, base_url: str, email: str | None = None) -> str:
    email = email or new_email()
    page.goto(f"{base_url}/signup")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.fill("#password_confirm", PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page).to_have_url(f"{base_url}/")
    expect(page.locator(".account-email")).to_have_text(email)
    return email


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
