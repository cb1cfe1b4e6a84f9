"""A guard in front of Reflex's upload endpoint, `POST /_upload`.

Reflex's own route reads the whole multipart body (no size limit) before it looks at
who sent it, answers 500 when the `Reflex-Event-Handler` header names a handler that
takes no files, and runs the handler for any `Reflex-Client-Token`: a made-up tab id
gets a fresh server state (and state files on disk) and the state's delta in return.
Measured against Reflex 0.10.1 before this guard: a 50 MB body was read and answered
200, a non-upload handler 500, a random tab id 200 with new `.states` files.

Here, before any of the body is read:
- a declared `Content-Length` over `MAX_UPLOAD_BODY_BYTES` → 413;
- a handler that is not an upload handler → 400. The upload handlers are computed from
  the app's registered states (a parameter `list[rx.UploadFile]`, or a background
  handler taking `rx.UploadChunkIterator`, as Reflex itself decides), so a new one is
  covered without editing a list;
- a tab id without a live websocket → 403, and no state is created for it. Reflex's
  token manager knows the connected tabs; with Redis it asks Redis, so this holds with
  several backend workers too;
- an upload whose own session cookie is not the session the tab belongs to → 403: the
  handler acts as the tab's user, so knowing a tab id must not be enough to upload as
  its user (the tab id is no login, here either).
Then the body is counted as it is read: a chunked or under-declared body is cut off
once it passes the cap, and answered 413.

The handler still checks who the user is (it reads the tab's session, server-side).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable, Mapping

from reflex_base import constants
from reflex_base.config import get_config
from reflex_base.event import resolve_upload_chunk_handler_param, resolve_upload_handler_param
from reflex_base.registry import RegisteredEventHandler, RegistrationContext
from reflex_base.utils.exceptions import UploadTypeError, UploadValueError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from studio_app.services import auth, uploads

log = logging.getLogger(__name__)

# The largest file any handler accepts (a picture to edit: 10 MB) plus the multipart
# framing; a larger body is refused before it is read.
MAX_UPLOAD_BODY_BYTES = uploads.MAX_UPLOAD_BYTES + 64 * 1024
TOO_LARGE = f"An upload may be at most {uploads.MAX_UPLOAD_BYTES // (1024 * 1024)} MB."
TOKEN_HEADER = "reflex-client-token"
HANDLER_HEADER = "reflex-event-handler"


def upload_handler_names(event_handlers: Mapping[str, RegisteredEventHandler]) -> frozenset[str]:
    """The full names of the handlers that Reflex's upload route can run."""
    names = set()
    for name, registered in event_handlers.items():
        handler = registered.handler
        resolve = (
            resolve_upload_chunk_handler_param
            if handler.is_background
            else resolve_upload_handler_param
        )
        try:
            resolve(handler)
        except (UploadTypeError, UploadValueError):
            continue
        names.add(name)
    return frozenset(names)


@functools.lru_cache(maxsize=4)
def _upload_handlers_of(registry: RegistrationContext) -> frozenset[str]:
    return upload_handler_names(registry.event_handlers)


def registered_upload_handlers() -> frozenset[str]:
    """The upload handlers of the running app (its states are all registered by now)."""
    return _upload_handlers_of(RegistrationContext.get())


async def tab_is_connected(token: str) -> bool:
    """Whether a browser tab with this Reflex token has a live websocket (any worker)."""
    namespace = RegistrationContext.get().app.event_namespace
    if namespace is None:
        return False
    # Reflex keeps its token manager private; this is the check its own shared-state
    # code makes (reflex/istate/shared.py).
    return await namespace._token_manager.is_token_connected(token)


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"detail": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                # The rest of the body is not read: the connection cannot be reused.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class UploadGuard:
    """Checks size, handler and tab of an upload before Reflex reads its body."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        upload_handlers: Callable[[], frozenset[str]] = registered_upload_handlers,
        is_connected: Callable[[str], Awaitable[bool]] = tab_is_connected,
        session_of_tab: Callable[[str], Awaitable[str]],
        max_body_bytes: int = MAX_UPLOAD_BODY_BYTES,
    ) -> None:
        self.app = app
        self.session_of_tab = session_of_tab
        self.path = get_config().prepend_backend_path(str(constants.Endpoint.UPLOAD))
        self.upload_handlers = upload_handlers
        self.is_connected = is_connected
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is not None and not declared.isdigit():
            await _refuse(send, 400, "Content-Length must be a number of bytes.")
            return
        if declared is not None and int(declared) > self.max_body_bytes:
            await _refuse(send, 413, TOO_LARGE)
            return
        if headers.get(HANDLER_HEADER, "") not in self.upload_handlers():
            await _refuse(send, 400, "This is not an upload handler.")
            return
        token = headers.get(TOKEN_HEADER, "")
        if not token or not await self.is_connected(token):
            await _refuse(send, 403, "This tab is not connected. Reload the page and try again.")
            return
        sender = auth.session_hash(auth.session_token_from_cookie_header(headers.get("cookie", "")))
        if not sender or sender != await self.session_of_tab(token):
            await _refuse(send, 403, "This upload is not from this tab's session. Sign in again.")
            return
        await self._counted(scope, receive, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = 0
        too_large = False
        answered = False

        async def counting_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    # To Reflex the sender has gone: it stops reading, runs no buffered
                    # handler and cancels a streaming one it had started.
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal answered
            if too_large and not answered:
                return  # the 413 below replaces what Reflex answers a vanished sender
            answered = True
            await send(message)

        await self.app(scope, counting_receive, guarded_send)
        if too_large and not answered:
            log.warning(
                "upload cut off after %d bytes (the limit is %d)", received, self.max_body_bytes
            )
            await _refuse(send, 413, TOO_LARGE)
