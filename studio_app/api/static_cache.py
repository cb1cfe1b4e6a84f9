"""Long-lived caching for the frontend's build assets.

Files under /assets/ carry a hash of their content in their name (the production build
names them so), so a browser may keep them for a year without asking again. Without
this header every warm page load revalidated each bundle with the server (304s) or
guessed a cache lifetime from Last-Modified, which each `reflex run` build resets
(measured by bench/first_load).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ASSETS_PREFIX = "/assets/"
IMMUTABLE = b"public, max-age=31536000, immutable"


class ImmutableAssets:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(ASSETS_PREFIX):
            await self.app(scope, receive, send)
            return

        async def send_with_cache_header(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (200, 304):
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() != b"cache-control"
                ]
                message = {**message, "headers": [*headers, (b"cache-control", IMMUTABLE)]}
            await send(message)

        await self.app(scope, receive, send_with_cache_header)
