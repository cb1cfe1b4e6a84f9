"""The built app under its Content-Security-Policy, as a browser enforces it.

Every browser test already fails on any CSP violation (conftest.py `csp_violations`);
these show that the policy is real (an injected script is blocked, and the recorder
sees it), that the API docs work under it, and that another site cannot frame a page.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from playwright.sync_api import Page, expect

from studio_app.routes import STUDIO
from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import sign_up

SECURITY_HEADERS = ("content-security-policy", "x-frame-options", "x-content-type-options")


def _wait_for(violations: list[list[dict]], page: Page) -> list[dict]:
    """The violations recorded so far, once at least one has arrived (they come from the
    browser asynchronously); bounded by count, not by a clock."""
    for _ in range(50):
        found = [violation for context in violations for violation in context]
        if found:
            return found
        page.wait_for_timeout(100)
    return []


def test_an_injected_inline_script_does_not_run_and_is_reported(
    running_app: RunningApp, page: Page, csp_violations: list[list[dict]]
) -> None:
    page.goto(f"{running_app.url}/login")
    expect(page.locator("#email")).to_be_visible()
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.injectedScriptRan = true";
            document.body.appendChild(script);
        }"""
    )
    assert page.evaluate("window.injectedScriptRan") is None
    found = _wait_for(csp_violations, page)
    assert [(v["directive"], v["blocked"]) for v in found] == [("script-src-elem", "inline")]
    for context in csp_violations:
        context.clear()  # expected: the test's own injection


def test_the_api_docs_work_under_the_policy(running_app: RunningApp, page: Page) -> None:
    page.goto(f"{running_app.url}/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Studio API")
    page.locator(".opblock-summary-path[data-path='/api/studio/templates']").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    status = page.locator(".live-responses-table tbody .response-col_status").first
    expect(status).to_have_text("200")


def test_pages_assets_and_reflex_routes_carry_the_headers(running_app: RunningApp) -> None:
    with httpx.Client(base_url=running_app.url) as client:
        home = client.get(f"{STUDIO}/", headers={"Accept-Encoding": "gzip"})
        asset = re.search(r'src="(/assets/[^"]+\.js)"', home.text) or re.search(
            r'href="(/assets/[^"]+\.js)"', home.text
        )
        assert asset is not None
        answers = [
            home,
            client.get("/"),  # a redirect to the studio
            client.get("/account/"),
            client.get(asset.group(1)),
            client.get("/ping"),
            client.get("/no-such-page"),
            client.post("/_upload"),  # Reflex's upload route, refused (no headers)
        ]
    for answer in answers:
        for header in SECURITY_HEADERS:
            assert header in answer.headers, (answer.url, header)
    assert "frame-ancestors 'none'" in home.headers["content-security-policy"]


class _AttackerSite:
    """A page on another origin (another port of 127.0.0.1) that frames the app's
    /account, next to a frame of its own as a control."""

    def __init__(self, app_url: str) -> None:
        framing = (
            '<iframe id="own" src="/own"></iframe>'
            f'<iframe id="victim" src="{app_url}/account" width="900" height="700"></iframe>'
        ).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = b"<p>the attacker's own frame</p>" if self.path == "/own" else framing
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args) -> None:  # type: ignore[no-untyped-def]
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def attacker_site(running_app: RunningApp) -> Iterator[_AttackerSite]:
    site = _AttackerSite(running_app.url)
    yield site
    site.stop()


def test_another_site_cannot_frame_the_account_page(
    running_app: RunningApp, page: Page, attacker_site: _AttackerSite
) -> None:
    email = sign_up(page, running_app.url)  # the victim is signed in
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    answered: list[int] = []

    def on_response(response) -> None:  # type: ignore[no-untyped-def]
        if response.url.startswith(f"{running_app.url}/account"):
            answered.append(response.status)

    page.on("response", on_response)
    page.goto(attacker_site.url)

    # The control: a frame the browser does load shows its page.
    own = page.frame_locator("#own")
    expect(own.locator("p")).to_have_text("the attacker's own frame")
    # The app answered the framed request, and the browser refused to show it.
    expect(page.locator("#victim")).to_be_attached()
    for _ in range(50):  # the refusal is logged as it happens; bounded by count, not time
        if any("frame-ancestors" in text for text in console):
            break
        page.wait_for_timeout(100)
    assert any("frame-ancestors 'none'" in text and running_app.url in text for text in console), (
        console
    )
    assert 200 in answered
    victim = next(frame for frame in page.frames if frame.name == "victim")
    assert not victim.url.startswith(running_app.url), victim.url  # an error page instead
    assert email not in victim.content()
