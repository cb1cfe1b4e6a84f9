"""Sessions, written as the attacker: a stolen tab id, a shared tab, another site.

- A raw websocket that reuses a tab's id without its cookie is nobody: it receives
  none of the tab's data and its events change nothing.
- After an admin signs out and a member signs in on the same tab, nothing of the
  admin's reaches the member's browser.
- A page on another port of the same host (same site: the browser sends it our
  cookies) can read no cookie, fetch no private image, open no websocket, and cannot
  sign the visitor in to an account of its choosing (login CSRF).
"""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Browser, Page, expect

from studio_app.routes import STUDIO
from studio_app.states.account import AccountState
from studio_app.states.studio import JobsState
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, RunningApp
from tests.e2e.helpers import PASSWORD, collect_frames, run_in_app, sign_in, sign_up
from tests.e2e.raw_socket import event, hydrate, open_socket


def _server_side(app: RunningApp, code: str, *args: str) -> str:
    return run_in_app(app.env, code, *args)


_MAKE_TOKEN = """
import sys
from studio_app.services import api_tokens, auth
viewer = auth.current_user(auth.sign_in(sys.argv[1], sys.argv[2], client_address="setup").token)
print(api_tokens.create_token(viewer, "victim's token", password=sys.argv[2]).secret)
"""
_TOKEN_OWNER = """
import sys
from studio_app.services import api_tokens
who = api_tokens.user_for_token(sys.argv[1])
print(who.email if who else "")
"""
_GENERATIONS_OF = """
import sys
from sqlmodel import func, select
from studio_app.models import GeneratedImage, User
from studio_app.services.db import read_session
with read_session() as db:
    user = db.exec(select(User).where(User.email == sys.argv[1])).one()
    print(db.exec(select(func.count()).where(GeneratedImage.user_id == user.id)).one())
"""
_MAKE_IMAGE = """
import sys
from studio_app.services import auth, generation
from studio_app.services.generation import GenerationRequest
from tests import aio
viewer = auth.current_user(auth.sign_in(sys.argv[1], sys.argv[2], client_address="setup").token)
ticket = generation.start(viewer.id, GenerationRequest(prompt="A private lighthouse", provider="offline"))
assert aio.run(generation.run(ticket)) == "succeeded"
print(ticket.public_id)
"""


def _tab_id(page: Page) -> str:
    return page.evaluate("sessionStorage.getItem('token')")


def _sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    sign_in(page, base_url, email, password)
    expect(page.locator(".account-email")).to_have_text(email)


def test_a_tab_id_without_its_cookie_is_nobody(running_app: RunningApp, page: Page) -> None:
    url = running_app.url
    email = sign_up(page, url)
    secret = _server_side(running_app, _MAKE_TOKEN, email, PASSWORD)
    page.goto(f"{url}/account")
    expect(page.locator(".token-row .token-name")).to_have_text("victim's token")
    tab = _tab_id(page)
    # The victim closes the tab; its state stays on the server under the tab id.
    page.goto("about:blank")

    attack = open_socket(
        url,
        tab,
        [
            hydrate("/account/"),
            event(f"{AccountState.get_full_name()}.revoke_token", {"index": 0}, "/account/"),
            event(f"{JobsState.get_full_name()}.generate", {}, f"{STUDIO}/"),
        ],
        listen_s=5,
    )
    assert attack.accepted, attack.frames[:3]
    assert len(attack.frames) > 3, "the server answered nothing: the test would prove nothing"
    assert email not in attack.text
    assert "victim" not in attack.text
    assert _server_side(running_app, _TOKEN_OWNER, secret) == email  # not revoked
    assert _server_side(running_app, _GENERATIONS_OF, email) == "0"  # nothing spent

    # The victim comes back: still signed in, the data is theirs again.
    page.goto(f"{url}/account")
    expect(page.locator(".account-details-email")).to_have_text(email)
    expect(page.locator(".token-row .token-status")).to_have_text("Active")


def test_the_next_user_of_a_tab_gets_nothing_of_the_previous_one(
    running_app: RunningApp, page: Page, browser: Browser
) -> None:
    url = running_app.url
    witness_context = browser.new_context()
    try:
        witness = sign_up(witness_context.new_page(), url)  # listed in the admin's user list
    finally:
        witness_context.close()
    _sign_in(page, url, ADMIN_EMAIL, ADMIN_PASSWORD)
    page.goto(f"{url}/admin")
    page.get_by_role("tab", name="Users").click()
    expect(page.locator("body")).to_contain_text(witness)
    for path in ("/account", "/my-creations", "/buy-credits", STUDIO):
        page.goto(f"{url}{path}")
        expect(page.locator(".account-email")).to_have_text(ADMIN_EMAIL)

    frames = collect_frames(page)
    page.locator(".account-email").click()
    page.locator(".sign-out").click()
    expect(page).to_have_url(re.compile(r".*/login/?$"))
    member = sign_up(page, url)
    for path in ("/account", "/my-creations", "/buy-credits", STUDIO, "/admin"):
        page.goto(f"{url}{path}")
        expect(page.locator(".account-email")).to_have_text(member)

    assert any(member in frame for frame in frames), "frames were not captured"
    leaked = [frame for frame in frames if ADMIN_EMAIL in frame or witness in frame]
    assert not leaked, leaked[0][:500]


def test_sign_in_refuses_other_origins_and_json_less_posts(running_app: RunningApp) -> None:
    body = json.dumps({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).encode()
    for origin, content_type in (
        ("http://127.0.0.1:1", "application/json"),
        (None, "application/json"),
        (running_app.url, "text/plain"),
    ):
        headers = {"Content-Type": content_type}
        if origin:
            headers["Origin"] = origin
        request = urllib.request.Request(f"{running_app.url}/auth/signin", body, headers)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code in (403, 415)
        assert "set-cookie" not in {k.lower() for k in refused.value.headers}

    request = urllib.request.Request(
        f"{running_app.url}/auth/signin",
        body,
        {"Content-Type": "application/json", "Origin": running_app.url},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        cookie = answer.headers["Set-Cookie"]
    assert re.match(r"studio_session=[A-Za-z0-9_-]{40,}; Path=/; Max-Age=\d+;", cookie)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # the public URL is http here


class _EvilSite(BaseHTTPRequestHandler):
    page = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def evil_site() -> Iterator[str]:
    """Another origin on the same host: the browser treats it as the same site."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EvilSite)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


_ATTACK = """
async (app) => {
  const outcome = {cookies: document.cookie};
  const attempt = async (name, run) => {
    try { outcome[name] = await run(); } catch (error) { outcome[name] = "blocked: " + error; }
  };
  await attempt("image", async () => {
    const answer = await fetch(app.image, {credentials: "include"});
    return "read " + answer.status + " " + (await answer.blob()).size;
  });
  await attempt("signin_json", async () => {
    const answer = await fetch(app.base + "/auth/signin", {
      method: "POST", credentials: "include",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({email: app.email, password: app.password}),
    });
    return "read " + answer.status;
  });
  await attempt("signin_no_cors", async () => {
    await fetch(app.base + "/auth/signin", {
      method: "POST", mode: "no-cors", credentials: "include",
      headers: {"Content-Type": "text/plain"},
      body: JSON.stringify({email: app.email, password: app.password}),
    });
    return "sent";
  });
  await attempt("api", async () => {
    const answer = await fetch(app.base + "/api/studio/tiers");
    return "read " + answer.status;
  });
  outcome.socket = await new Promise((resolve) => {
    const socket = new WebSocket(app.base.replace("http", "ws") +
      "/_event/?EIO=4&transport=websocket&token=evil-tab");
    socket.onmessage = () => { socket.close(); resolve("opened"); };
    socket.onerror = () => resolve("refused");
    setTimeout(() => resolve("timeout"), 5000);
  });
  return outcome;
}
"""


def test_another_site_on_this_host_rides_nothing(
    running_app: RunningApp, page: Page, browser: Browser, evil_site: str
) -> None:
    url = running_app.url
    attacker_context = browser.new_context()
    try:  # the account the attacker would like the victim to be signed in to
        attacker_email = sign_up(attacker_context.new_page(), url)
    finally:
        attacker_context.close()
    victim = sign_up(page, url)
    image_id = _server_side(running_app, _MAKE_IMAGE, victim, PASSWORD)

    page.goto(evil_site)
    outcome = page.evaluate(
        _ATTACK,
        {
            "base": url,
            "image": f"{url}/images/{image_id}",
            "email": attacker_email,
            "password": PASSWORD,
        },
    )
    assert outcome["cookies"] == ""  # HttpOnly: no script reads the session
    assert outcome["image"].startswith("blocked")
    assert outcome["signin_json"].startswith("blocked")
    assert outcome["api"] == "read 200"  # the bearer-token API answers any origin
    assert outcome["socket"] == "refused"

    # The no-cors post reached the server and was refused: still the victim.
    page.goto(f"{url}/account")
    expect(page.locator(".account-details-email")).to_have_text(victim)


def _headers(url: str, method: str = "GET", **headers: str) -> dict[str, str]:
    request = urllib.request.Request(url, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return {k.lower(): v for k, v in answer.headers.items()}
    except urllib.error.HTTPError as error:
        return {k.lower(): v for k, v in error.headers.items()}


def test_cors_our_origin_for_cookies_any_origin_for_the_api(running_app: RunningApp) -> None:
    url, evil = running_app.url, "http://127.0.0.1:1"
    page = _headers(f"{url}/login", Origin=evil)
    assert "access-control-allow-origin" not in page
    ours = _headers(f"{url}/login", Origin=url)
    assert ours.get("access-control-allow-origin") == url
    assert ours.get("access-control-allow-credentials") == "true"

    api = _headers(f"{url}/api/studio/tiers", Origin=evil)
    assert api.get("access-control-allow-origin") == "*"
    assert "access-control-allow-credentials" not in api
    preflight = _headers(
        f"{url}/api/studio/generate",
        "OPTIONS",
        Origin=evil,
        **{
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.get("access-control-allow-origin") == "*"
    assert "Authorization" in preflight.get("access-control-allow-headers", "")
    assert "access-control-allow-credentials" not in preflight

    image = _headers(f"{url}/images/nothing-here", Origin=evil)
    assert "access-control-allow-origin" not in image
