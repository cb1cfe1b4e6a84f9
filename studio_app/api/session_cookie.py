"""The session cookie at the HTTP edge: how it is written, slid and hidden from Reflex.

- The cookie is written only by the server (`Set-Cookie`): HttpOnly, SameSite=Lax,
  Secure exactly when the public URL is https, with the session's expiry.
- Page loads slide it: a document request carrying a live session extends the session
  (at most hourly, services/auth.py) and re-issues the cookie; a dead one is cleared.
- The websocket's handshake carries the cookie too, and Reflex keeps the handshake's
  headers in every state it pickles (`.states/`, Redis). So before Reflex sees a
  websocket, its Cookie header is replaced by `studio_session_sha256=<hash>`: event
  handlers find the caller from that hash (`auth.user_for_session_hash`), and a pickled
  state holds nothing a browser could sign in with. A client cannot send that name
  itself: every other cookie of the handshake is dropped.
"""

from __future__ import annotations

from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from studio_app.clock import utcnow
from studio_app.services import auth
from studio_app.settings import get_settings


def session_cookie(token: str, expires_at: datetime) -> str:
    """The `Set-Cookie` value that hands the browser its session."""
    max_age = max(0, int((expires_at - utcnow()).total_seconds()))
    return _cookie(token, max_age)


def cleared_session_cookie() -> str:
    """The `Set-Cookie` value that makes the browser forget its session."""
    return _cookie("", 0)


def _cookie(value: str, max_age: int) -> str:
    secure = "; Secure" if get_settings().public_is_https else ""
    return (
        f"{auth.SESSION_COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
    )


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def _is_page_load(scope: Scope) -> bool:
    """A browser navigating to a document (not a fetch, an image or a script)."""
    return (
        scope["method"] == "GET"
        and _header(scope, b"sec-fetch-mode") == "navigate"
        and _header(scope, b"sec-fetch-dest") in ("document", "")
    )


class SessionCookies:
    """ASGI middleware: hashes the websocket's session cookie, slides it on page loads."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self.app(_with_hashed_session(scope), receive, send)
            return
        if scope["type"] != "http" or not _is_page_load(scope):
            await self.app(scope, receive, send)
            return
        token = auth.session_token_from_cookie_header(_header(scope, b"cookie"))
        if not token:
            await self.app(scope, receive, send)
            return
        expires_at = await run_in_threadpool(auth.refresh_session, token)
        set_cookie = (
            session_cookie(token, expires_at) if expires_at else cleared_session_cookie()
        ).encode("latin-1")

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (b"set-cookie", set_cookie)]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _with_hashed_session(scope: Scope) -> Scope:
    token = auth.session_token_from_cookie_header(_header(scope, b"cookie"))
    headers = [(key, value) for key, value in scope.get("headers", []) if key != b"cookie"]
    token_hash = auth.session_hash(token)
    if token_hash:
        headers.append((b"cookie", f"{auth.SESSION_HASH_COOKIE}={token_hash}".encode()))
    return {**scope, "headers": headers}
