"""Every response carries the security headers: pages, API JSON, errors, images, docs.

The browser side (the built app works under the policy, framing is refused) is in
tests/e2e/test_security_headers.py.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from studio_app.api.app import build_served_api
from studio_app.api.security_headers import SecurityHeaders, inline_script_hashes
from studio_app.services import auth, generation
from studio_app.services.generation import GenerationRequest
from studio_app.settings import Settings, SettingsError
from tests import aio
from tests.factories import make_account

PAGE = (
    b"<!DOCTYPE html><html><head><script>window.theme = 'dark';</script>"
    b'<script type="module" src="/assets/app.js"></script></head>'
    b'<body><script id="_R_">requestAnimationFrame(function(){})</script></body></html>'
)


def _policy(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    directives = {}
    for directive in response.headers["content-security-policy"].split(";"):
        name, *sources = directive.split()
        directives[name] = sources
    return directives


def _assert_security_headers(response) -> None:  # type: ignore[no-untyped-def]
    headers = response.headers
    assert headers.get_list("x-content-type-options") == ["nosniff"]
    assert headers.get_list("x-frame-options") == ["DENY"]
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    policy = _policy(response)
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "*" not in " ".join(" ".join(sources) for sources in policy.values())


@pytest.mark.parametrize(
    "path",
    [
        "/api/studio/templates",  # API JSON (asked twice: the page cache answers again)
        "/api/no-such-route",  # 404
        "/images/no-such-image",  # the private image route's 404
        "/api/openapi.json",
        "/api/docs-static/swagger-ui.css",
    ],
)
def test_every_kind_of_response_carries_the_headers(client: TestClient, path: str) -> None:
    for _ in range(2):
        response = client.get(path)
        assert response.status_code in (200, 404)
        _assert_security_headers(response)
        assert "strict-transport-security" not in response.headers  # the public URL is http


def test_an_image_gets_nosniff_once_with_its_private_caching(seeded_db: Settings) -> None:
    owner = make_account(email="owner@example.com")

    async def make_one() -> str:
        ticket = generation.start(owner.user_id, GenerationRequest(prompt="A red kite"))
        await generation.run(ticket)
        return ticket.public_id

    public_id = aio.run(make_one())
    client = TestClient(build_served_api())
    client.cookies.set(auth.SESSION_COOKIE, owner.token)
    response = client.get(f"/images/{public_id}/thumbnail")
    assert response.status_code == 200
    assert response.headers["cache-control"].startswith("private")
    _assert_security_headers(response)


def test_hsts_is_sent_exactly_when_the_public_url_is_https(settings_env, seeded_db) -> None:  # type: ignore[no-untyped-def]
    settings_env(STUDIO_PUBLIC_URL="https://studio.example.com")
    response = TestClient(build_served_api()).get("/api/studio/templates")
    assert response.headers["strict-transport-security"] == "max-age=31536000"
    # The websocket of the public address is allowed by name too (not only by 'self').
    assert "wss://studio.example.com" in _policy(response)["connect-src"]

    settings_env(STUDIO_PUBLIC_URL="http://studio.example.com")
    response = TestClient(build_served_api()).get("/api/studio/templates")
    assert "strict-transport-security" not in response.headers


def test_the_swagger_docs_page_may_run_exactly_its_own_inline_script(client: TestClient) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    inline = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    assert inline, "the docs page has its inline start-up script"
    script_src = _policy(response)["script-src"]
    for hash_source in inline_script_hashes(response.content):
        assert hash_source in script_src
    # Its assets are our own files, which 'self' allows, not a CDN's.
    assert "https://" not in response.text


def test_extra_sources_from_the_settings_are_added(settings_env, seeded_db) -> None:  # type: ignore[no-untyped-def]
    settings_env(
        STUDIO_CSP_SCRIPT_SRC="https://checkout.example.com",
        STUDIO_CSP_FRAME_SRC="https://checkout.example.com, https://pay.example.com",
        STUDIO_CSP_CONNECT_SRC="https://api.pay.example.com",
        STUDIO_CSP_IMG_SRC="https://cdn.example.com",
    )
    policy = _policy(TestClient(build_served_api()).get("/api/studio/templates"))
    assert policy["script-src"][-1] == "https://checkout.example.com"
    assert policy["frame-src"] == ["https://checkout.example.com", "https://pay.example.com"]
    assert "https://api.pay.example.com" in policy["connect-src"]
    assert "https://cdn.example.com" in policy["img-src"]


@pytest.mark.parametrize(
    "value",
    [
        "https://evil.example.com; script-src *",  # would write a directive of its own
        "https://a.example.com'",
        "'unsafe-inline",
    ],
)
def test_a_source_that_could_rewrite_the_policy_is_refused(settings_env, value: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SettingsError, match="STUDIO_CSP_SCRIPT_SRC"):
        settings_env(STUDIO_CSP_SCRIPT_SRC=value)


# The production build's pages are files served by Reflex: gzip-encoded to browsers that
# accept it, and with granian sent by the server itself ("pathsend"). Their policy must
# name each of their inline scripts.


def _html_app(
    body: bytes,
    *,
    encoding: str = "",
    status: int = 200,
    pathsend: Path | None = None,
    inner_headers: tuple[tuple[bytes, bytes], ...] = (),
):  # type: ignore[no-untyped-def]
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"text/html; charset=utf-8"), *inner_headers]
        if encoding:
            headers.append((b"content-encoding", encoding.encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if pathsend is not None:
            await send({"type": "http.response.pathsend", "path": str(pathsend)})
            return
        # In two parts, as a file response may send it.
        await send({"type": "http.response.body", "body": body[:20], "more_body": True})
        await send({"type": "http.response.body", "body": body[20:]})

    return app


def _expected_hashes() -> set[str]:
    hashes = set(inline_script_hashes(PAGE))
    assert len(hashes) == 2  # the module script has a src: it needs no hash
    return hashes


def test_a_pages_inline_scripts_are_allowed_by_hash(fresh_env: Settings) -> None:
    response = TestClient(SecurityHeaders(_html_app(PAGE))).get("/")
    assert response.content == PAGE
    assert _expected_hashes() <= set(_policy(response)["script-src"])


def test_a_gzip_encoded_page_is_read_for_its_hashes(fresh_env: Settings) -> None:
    app = SecurityHeaders(_html_app(gzip.compress(PAGE), encoding="gzip"))
    response = TestClient(app).get("/", headers={"Accept-Encoding": "gzip"})
    assert response.content == PAGE  # the body passes unchanged (the client unzips it)
    assert _expected_hashes() <= set(_policy(response)["script-src"])


def test_a_page_the_server_sends_from_its_file_is_read_for_its_hashes(
    fresh_env: Settings, tmp_path: Path
) -> None:
    page = tmp_path / "index.html.gz"
    page.write_bytes(gzip.compress(PAGE))
    sent = []

    async def receive():  # type: ignore[no-untyped-def]
        return {"type": "http.request", "body": b""}

    async def send(message) -> None:  # type: ignore[no-untyped-def]
        sent.append(message)

    app = SecurityHeaders(_html_app(b"", encoding="gzip", pathsend=page))
    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    aio.run(app(scope, receive, send))
    start, file_message = sent
    assert file_message == {"type": "http.response.pathsend", "path": str(page)}
    policy = dict(start["headers"])[b"content-security-policy"].decode()
    assert all(hash_source in policy for hash_source in _expected_hashes())


def test_a_not_modified_answer_keeps_the_cached_pages_policy(fresh_env: Settings) -> None:
    """A 304's headers replace the cached copy's: a policy without the page's hashes
    there would block the page's scripts on every revalidated load (measured)."""
    response = TestClient(SecurityHeaders(_html_app(b"", status=304))).get("/")
    assert response.status_code == 304
    assert "content-security-policy" not in response.headers
    assert response.headers["x-frame-options"] == "DENY"


def test_headers_an_inner_app_set_are_replaced_not_repeated(fresh_env: Settings) -> None:
    inner = ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"SAMEORIGIN"))
    response = TestClient(SecurityHeaders(_html_app(PAGE, inner_headers=inner))).get("/")
    assert response.headers.get_list("x-content-type-options") == ["nosniff"]
    assert response.headers.get_list("x-frame-options") == ["DENY"]
