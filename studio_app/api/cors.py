"""Cross-origin rules: our own origin for cookies, anyone for the bearer-token API.

Cookie-authenticated routes (pages, the websocket, /images, uploads, /auth) answer
cross-origin requests only for `STUDIO_PUBLIC_URL`'s origin: Reflex's CORS middleware
and its socket server are configured with just that origin (rxconfig.py). The REST API
under /api authenticates with bearer tokens, which a browser never attaches by itself,
so any origin may call it, but never with credentials: this middleware sits in front of
Reflex's (see `StudioApp` in studio_app.py), answers the API's preflights itself and
replaces whatever CORS headers the layers below added to API responses.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_PREFIX = "/api/"
_ALLOWED_HEADERS = b"Authorization, Content-Type, Idempotency-Key"
_EXPOSED_HEADERS = b"Retry-After, Location, Idempotent-Replayed, WWW-Authenticate"
_ALLOWED_METHODS = b"GET, POST, PUT, DELETE, OPTIONS"
_PREFLIGHT_MAX_AGE = b"600"


def _api_cors_headers() -> list[tuple[bytes, bytes]]:
    return [
        (b"access-control-allow-origin", b"*"),
        (b"access-control-expose-headers", _EXPOSED_HEADERS),
    ]


def _is_preflight(scope: Scope) -> bool:
    if scope["method"] != "OPTIONS":
        return False
    return any(key == b"access-control-request-method" for key, _ in scope.get("headers", []))


class ApiCors:
    """ASGI middleware: `/api/` answers every origin, without credentials."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        has_origin = any(key == b"origin" for key, _ in scope.get("headers", []))
        if has_origin and _is_preflight(scope):
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [
                        *_api_cors_headers(),
                        (b"access-control-allow-methods", _ALLOWED_METHODS),
                        (b"access-control-allow-headers", _ALLOWED_HEADERS),
                        (b"access-control-max-age", _PREFLIGHT_MAX_AGE),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_without_credentials(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (key, value)
                    for key, value in message.get("headers", [])
                    if not key.lower().startswith(b"access-control-")
                ]
                if has_origin:
                    headers.extend(_api_cors_headers())
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_without_credentials)
