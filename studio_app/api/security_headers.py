"""Security headers on every HTTP response the app serves: pages, assets, API, images.

`SecurityHeaders` is the outermost of our ASGI layers (api/app.py `api_transformers`),
so Reflex's own routes (pages, `/_upload`, `/ping`) get the headers too. It owns these
headers: any value an inner app set for one of them is replaced, so each is defined
once, here.

The Content-Security-Policy was measured against Reflex 0.10's production build in
Chromium (tests/e2e record every `securitypolicyviolation` of every page they open):

- Scripts: the build's own files, and the inline scripts of the page being served,
  allowed one by one by their sha256 hashes. Every page carries a few (the theme
  switch, React Router's context and module imports, React's streaming helpers), and
  they differ per page, so the hashes are taken from the HTML as it is sent. No
  `'unsafe-inline'`, so a script injected into a page does not run.
- `'unsafe-eval'`, measured as needed: Reflex 0.10 runs every script that an event
  handler sends to the browser with `eval()` (`rx.toast.*`, `rx.scroll_to`,
  `rx.clear_selected_files` yielded by our handlers all arrive as script text), so without
  it no toast, scroll or upload reset works. The text evaluated comes from our server's
  event handlers, over our websocket; an injected `<script>` still does not run.
- Styles: `'unsafe-inline'`, because Emotion (Reflex's CSS-in-JS) writes `<style>`
  elements at run time and React sets `style` attributes; injected CSS cannot run code.
- Images: our own routes, plus `data:` for the icons Swagger UI (/api/docs) inlines; the
  app's pages need no more (measured), and no `blob:`. A data: image cannot run code.
- Connections: `'self'`, which CSP 3 browsers also match to the websocket of our own
  origin (ws: for http, wss: for https); the public URL's websocket origin is named as
  well, for the browsers that do not.
- `frame-ancestors 'none'` (and X-Frame-Options for older browsers): no other site can
  frame a page of ours to trick a signed-in user into clicking in it.

STUDIO_CSP_SCRIPT_SRC, STUDIO_CSP_CONNECT_SRC, STUDIO_CSP_FRAME_SRC and STUDIO_CSP_IMG_SRC
add sources for later needs (a payment checkout, analytics).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import re
import zlib
from collections.abc import Iterable

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from studio_app.settings import Settings, get_settings

log = logging.getLogger(__name__)

CSP = b"content-security-policy"
_OWNED = frozenset(
    {
        CSP,
        b"x-frame-options",
        b"referrer-policy",
        b"x-content-type-options",
        b"strict-transport-security",
    }
)
# Inline scripts: a <script> element without a src attribute.
_SCRIPT = re.compile(rb"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_SRC_ATTRIBUTE = re.compile(rb"\bsrc\s*=", re.IGNORECASE)
# A year; not `includeSubDomains`, which would bind other sites of the same domain.
HSTS = b"max-age=31536000"


def websocket_origin(public_url: str) -> str:
    """The origin of the app's own websocket: ws://host for http, wss://host for https."""
    return "ws" + public_url.removeprefix("http")


def content_security_policy(settings: Settings, script_hashes: Iterable[str] = ()) -> str:
    """The policy for a response; `script_hashes` allow the page's own inline scripts."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'unsafe-eval'", *script_hashes, *settings.csp_script_src],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", *settings.csp_img_src],
        "connect-src": [
            "'self'",
            websocket_origin(settings.public_url),
            *settings.csp_connect_src,
        ],
        "frame-src": list(settings.csp_frame_src) or ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


@functools.cache
def _fixed_headers(settings: Settings) -> tuple[tuple[bytes, bytes], ...]:
    headers = [
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
        (b"x-content-type-options", b"nosniff"),
    ]
    if settings.public_is_https:
        headers.append((b"strict-transport-security", HSTS))
    return tuple(headers)


@functools.lru_cache(maxsize=256)
def _policy_header(settings: Settings, script_hashes: tuple[str, ...] = ()) -> bytes:
    return content_security_policy(settings, script_hashes).encode()


def inline_script_hashes(html: bytes) -> tuple[str, ...]:
    """CSP hash sources ('sha256-…') of the inline scripts of an HTML document."""
    hashes = {
        "'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode() + "'"
        for attributes, body in _SCRIPT.findall(html)
        if not _SRC_ATTRIBUTE.search(attributes)
    }
    return tuple(sorted(hashes))


def _decoded(body: bytes, content_encoding: bytes) -> bytes | None:
    """The document's bytes, or None for an encoding we cannot read."""
    encoding = content_encoding.strip().lower()
    if encoding in (b"", b"identity"):
        return body
    if encoding in (b"gzip", b"x-gzip", b"deflate"):
        # wbits 47: gzip or zlib, told apart by the header.
        return zlib.decompress(body, wbits=47)
    return None


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes:
    return next((value for key, value in headers if key.lower() == name), b"")


def _is_html(headers: list[tuple[bytes, bytes]]) -> bool:
    return _header(headers, b"content-type").lower().startswith(b"text/html")


class SecurityHeaders:
    """Adds the security headers to every HTTP response of the app it wraps."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = get_settings()
        held_start: Message | None = None  # an HTML response's start, sent with its body
        body = bytearray()

        async def send_start(start: Message, hashes: tuple[str, ...] = ()) -> None:
            headers = [*start["headers"], *_fixed_headers(settings)]
            # A 304 tells the browser to use its cached copy, whose stored policy was made
            # for that very page; a policy here would replace it (and its script hashes).
            if start["status"] != 304:
                headers.append((CSP, _policy_header(settings, hashes)))
            await send({**start, "headers": headers})

        async def send_with_headers(message: Message) -> None:
            nonlocal held_start
            kind = message["type"]
            if kind == "http.response.start":
                start = {
                    **message,
                    "headers": [
                        (name, value)
                        for name, value in message.get("headers", [])
                        if name.lower() not in _OWNED
                    ],
                }
                if _is_html(start["headers"]) and scope["method"] != "HEAD":
                    held_start = start  # its policy needs the page's inline scripts
                else:
                    await send_start(start)
                return
            if held_start is None:
                await send(message)
                return
            if kind == "http.response.body":
                body.extend(message.get("body", b""))
                if message.get("more_body"):
                    return
                document = bytes(body)
                message = {"type": kind, "body": document}
            elif kind == "http.response.pathsend":  # a file the server sends by itself
                document = await anyio.Path(message["path"]).read_bytes()
            else:
                document = b""
            start, held_start = held_start, None
            await send_start(start, self._hashes(start, document))
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    def _hashes(start: Message, document: bytes) -> tuple[str, ...]:
        encoding = _header(start["headers"], b"content-encoding")
        try:
            html = _decoded(document, encoding)
        except zlib.error:
            html = None
        if html is None:
            log.warning(
                "cannot read an HTML page sent as %r: its inline scripts are blocked", encoding
            )
            return ()
        return inline_script_hashes(html)
