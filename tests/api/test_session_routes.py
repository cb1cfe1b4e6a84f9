"""Sign-in, sign-up and sign-out over HTTP: the server sets the cookie, only for our origin.

Also the cookie's life at the edge (api/session_cookie.py): page loads slide it, a dead
one is cleared, and a websocket reaches Reflex with the session's hash instead.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from studio_app.api.app import build_served_api
from studio_app.api.session_cookie import SessionCookies
from studio_app.clock import utcnow
from studio_app.models import AuthSession
from studio_app.routes import STUDIO
from studio_app.services import api_tokens, auth
from studio_app.services.db import read_session, write_session
from studio_app.settings import Settings, get_settings
from tests.factories import PASSWORD, make_account

pytestmark = pytest.mark.usefixtures("migrated_db")
OURS = "http://localhost:3000"


@pytest.fixture
def client() -> TestClient:
    return TestClient(build_served_api(), base_url=OURS)


def _post(client: TestClient, path: str, body: dict, *, origin: str | None = OURS):
    headers = {"Origin": origin} if origin else {}
    return client.post(path, json=body, headers=headers)


def _session_cookie(response) -> str:  # type: ignore[no-untyped-def]
    return next(
        value
        for name, value in response.headers.multi_items()
        if name == "set-cookie" and value.startswith(f"{auth.SESSION_COOKIE}=")
    )


def test_sign_in_sets_an_httponly_cookie_and_names_the_next_page(client: TestClient) -> None:
    account = make_account(email="ada@example.com")
    answer = _post(
        client,
        "/auth/signin",
        {"email": "ADA@example.com", "password": PASSWORD, "next": "/my-creations"},
    )
    assert answer.status_code == 200
    assert answer.json() == {"next": "/my-creations"}
    cookie = _session_cookie(answer)
    token = cookie.split(";")[0].split("=", 1)[1]
    assert "; HttpOnly" in cookie and "; SameSite=Lax" in cookie and "; Path=/" in cookie
    max_age = int(cookie.split("Max-Age=")[1].split(";")[0])
    assert get_settings().session_days * 86400 - 60 < max_age <= get_settings().session_days * 86400
    assert "Secure" not in cookie
    viewer = auth.current_user(token)
    assert viewer is not None and viewer.id == account.user_id
    assert token != account.token  # a new session on every sign-in


def test_secure_cookie_exactly_when_the_public_url_is_https(
    monkeypatch: pytest.MonkeyPatch, migrated_db: Settings
) -> None:
    from studio_app.settings import reload_settings

    monkeypatch.setenv("STUDIO_PUBLIC_URL", "https://studio.example.com")
    reload_settings()
    make_account(email="sec@example.com")
    client = TestClient(build_served_api(), base_url="https://studio.example.com")
    body = {"email": "sec@example.com", "password": PASSWORD}
    answer = _post(client, "/auth/signin", body, origin="https://studio.example.com")
    assert answer.status_code == 200
    assert _session_cookie(answer).endswith("; Secure")
    assert _post(client, "/auth/signin", body, origin=OURS).status_code == 403


@pytest.mark.parametrize(
    "next_path",
    ["//evil.example", "https://evil.example", "/\t/evil.example", "/login", "\\\\evil", 5],
)
def test_next_is_only_ever_a_page_of_ours(client: TestClient, next_path: object) -> None:
    make_account(email="nx@example.com")
    body = {"email": "nx@example.com", "password": PASSWORD, "next": next_path}
    assert _post(client, "/auth/signin", body).json() == {"next": STUDIO}


@pytest.mark.parametrize("origin", ["http://localhost:3001", "http://127.0.0.1:3000", "null", None])
def test_other_origins_cannot_sign_anyone_in(client: TestClient, origin: str | None) -> None:
    make_account(email="csrf@example.com")
    body = {"email": "csrf@example.com", "password": PASSWORD}
    answer = _post(client, "/auth/signin", body, origin=origin)
    assert answer.status_code == 403
    assert answer.json()["code"] == "cross_origin"
    assert "set-cookie" not in answer.headers
    signup = _post(
        client,
        "/auth/signup",
        {"email": "new@example.com", "password": PASSWORD, "password_confirm": PASSWORD},
        origin=origin,
    )
    assert signup.status_code == 403
    assert (
        _post(
            client, "/auth/signin", {"email": "new@example.com", "password": PASSWORD}
        ).status_code
        == 401
    )


def test_only_json_is_read(client: TestClient) -> None:
    make_account(email="form@example.com")
    answer = client.post(
        "/auth/signin",
        content=b"email=form%40example.com&password=x",
        headers={"Origin": OURS, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 415
    answer = client.post(
        "/auth/signin",
        content=b"[1, 2]",
        headers={"Origin": OURS, "Content-Type": "application/json"},
    )
    assert answer.status_code == 422


def test_wrong_passwords_and_bad_sign_ups_say_why_and_set_nothing(client: TestClient) -> None:
    make_account(email="bob@example.com")
    wrong = _post(client, "/auth/signin", {"email": "bob@example.com", "password": "nope nope"})
    assert wrong.status_code == 401
    assert wrong.json()["message"] == "Wrong email or password."
    mismatch = _post(
        client,
        "/auth/signup",
        {"email": "carol@example.com", "password": PASSWORD, "password_confirm": "other one"},
    )
    assert mismatch.status_code == 422
    assert mismatch.json()["field"] == "password_confirm"
    taken = _post(
        client,
        "/auth/signup",
        {"email": "bob@example.com", "password": PASSWORD, "password_confirm": PASSWORD},
    )
    assert taken.status_code == 422 and taken.json()["field"] == "email"
    for answer in (wrong, mismatch, taken):
        assert "set-cookie" not in answer.headers


def test_sign_up_signs_in(client: TestClient) -> None:
    answer = _post(
        client,
        "/auth/signup",
        {"email": "dora@example.com", "password": PASSWORD, "password_confirm": PASSWORD},
    )
    assert answer.status_code == 200
    token = _session_cookie(answer).split(";")[0].split("=", 1)[1]
    viewer = auth.current_user(token)
    assert viewer is not None and viewer.email == "dora@example.com"


def test_sign_out_revokes_and_clears_the_cookie(client: TestClient) -> None:
    account = make_account(email="eve@example.com")
    other = auth.sign_in("eve@example.com", PASSWORD)
    client.cookies.set(auth.SESSION_COOKIE, account.token)
    answer = _post(client, "/auth/signout", {})
    assert answer.status_code == 200 and answer.json() == {"next": "/login"}
    assert "Max-Age=0" in _session_cookie(answer)
    assert auth.current_user(account.token) is None
    assert auth.current_user(other.token) is not None  # only this session


def test_sign_out_everywhere_ends_sessions_and_api_tokens(client: TestClient) -> None:
    account = make_account(email="fay@example.com")
    phone = auth.sign_in("fay@example.com", PASSWORD)
    viewer = auth.current_user(account.token)
    assert viewer is not None
    token = api_tokens.create_token(viewer, "script", password=PASSWORD)
    client.cookies.set(auth.SESSION_COOKIE, account.token)
    answer = _post(client, "/auth/signout", {"everywhere": True})
    assert answer.status_code == 200
    assert auth.current_user(account.token) is None and auth.current_user(phone.token) is None
    assert api_tokens.user_for_token(token.secret) is None

    client.cookies.clear()
    assert _post(client, "/auth/signout", {"everywhere": True}).status_code == 401


# The cookie at the edge ---------------------------------------------------------------


def _edge() -> TestClient:
    async def page(_request):  # type: ignore[no-untyped-def]
        return PlainTextResponse("a page")

    async def socket(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(websocket.headers.get("cookie", ""))
        await websocket.close()

    inner = Starlette(routes=[Route("/", page), WebSocketRoute("/_event", socket)])
    return TestClient(SessionCookies(inner), base_url=OURS)


_NAVIGATE = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}


def _expires_at(token: str):  # type: ignore[no-untyped-def]
    with read_session() as db:
        return db.exec(
            select(AuthSession.expires_at).where(AuthSession.token_hash == auth.session_hash(token))
        ).one()


def test_the_websocket_reaches_reflex_with_the_hash_only() -> None:
    account = make_account()
    edge = _edge()
    cookie = f"theme=dark; {auth.SESSION_COOKIE}={account.token}; studio_session_sha256=forged"
    with edge.websocket_connect("/_event", headers={"Cookie": cookie}) as socket:
        seen = socket.receive_text()
    assert seen == f"{auth.SESSION_HASH_COOKIE}={auth.session_hash(account.token)}"
    assert account.token not in seen
    with edge.websocket_connect(
        "/_event", headers={"Cookie": f"{auth.SESSION_HASH_COOKIE}={'a' * 64}"}
    ) as socket:
        assert socket.receive_text() == ""  # a hash sent by the client is dropped


def test_page_loads_slide_the_session_and_reissue_the_cookie() -> None:
    account = make_account()
    lifetime = timedelta(days=get_settings().session_days)
    with write_session() as db:  # the session was made two days ago
        row = db.exec(
            select(AuthSession).where(AuthSession.token_hash == auth.session_hash(account.token))
        ).one()
        row.expires_at = utcnow() + lifetime - timedelta(days=2)
        db.add(row)
    before = _expires_at(account.token)
    edge = _edge()
    edge.cookies.set(auth.SESSION_COOKIE, account.token)

    answer = edge.get("/", headers=_NAVIGATE)
    slid = _expires_at(account.token)
    assert slid - before > timedelta(days=1)
    assert f"{auth.SESSION_COOKIE}={account.token};" in answer.headers["set-cookie"]
    assert "HttpOnly" in answer.headers["set-cookie"]

    # Within the hour, a page load writes nothing; a fetch or an image sets no cookie.
    edge.get("/", headers=_NAVIGATE)
    assert _expires_at(account.token) == slid
    assert "set-cookie" not in edge.get("/").headers


def test_a_dead_session_cookie_is_cleared_on_the_next_page_load() -> None:
    account = make_account()
    auth.sign_out(account.token)
    edge = _edge()
    edge.cookies.set(auth.SESSION_COOKIE, account.token)
    answer = edge.get("/", headers=_NAVIGATE)
    assert answer.headers["set-cookie"].startswith(f"{auth.SESSION_COOKIE}=; Path=/; Max-Age=0;")


def test_too_many_failures_answer_429_with_the_wait(client: TestClient) -> None:
    make_account(email="gus@example.com")
    body = {"email": "gus@example.com", "password": "wrong password"}
    answers = [_post(client, "/auth/signin", body) for _ in range(6)]
    assert [answer.status_code for answer in answers] == [401] * 5 + [429]
    paused = answers[-1]
    assert int(paused.headers["Retry-After"]) > 0
    assert "Try again in" in paused.json()["message"]
