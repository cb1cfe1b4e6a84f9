"""The guard in front of Reflex's `/_upload`, in-process, as an attacker would use it.

Against the real server (a 50 MB body on a socket, a random tab, the state folder) see
tests/e2e/test_upload_guard.py.
"""

from __future__ import annotations

import reflex as rx
from reflex.utils.format import format_event_handler
from reflex_base.registry import RegistrationContext
from starlette.types import Message, Receive, Scope, Send

from studio_app.api.upload_guard import (
    MAX_UPLOAD_BODY_BYTES,
    UploadGuard,
    registered_upload_handlers,
    upload_handler_names,
)
from studio_app.services import auth
from studio_app.states.admin_catalog import AdminCatalogState
from tests import aio

UPLOAD_HANDLER = AdminCatalogState.upload_preview
LIVE_TAB = "live-tab"
LIVE_SESSION = "the-tab-owner-s-session-token"
CHUNK = 64 * 1024


class _Reflex:
    """Stands in for Reflex's upload route: reads the whole body, then answers 200."""

    def __init__(self) -> None:
        self.called = False
        self.read = 0
        self.saw_disconnect = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.called = True
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.saw_disconnect = True
                break
            self.read += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


def _post(
    *,
    body_size: int,
    declared: int | None = None,
    handler: str | None = None,
    token: str = LIVE_TAB,
    session_token: str = LIVE_SESSION,
) -> tuple[_Reflex, list[Message], int]:
    """POST /_upload through the guard; the inner app, what was sent back, bytes pulled."""
    reflex = _Reflex()
    guard = UploadGuard(
        reflex,
        upload_handlers=lambda: frozenset({format_event_handler(UPLOAD_HANDLER)}),
        is_connected=lambda tab: _async_value(tab == LIVE_TAB),
        session_of_tab=lambda tab: _async_text(auth.session_hash(LIVE_SESSION)),
    )
    headers = [
        (b"reflex-client-token", token.encode()),
        (b"reflex-event-handler", (handler or format_event_handler(UPLOAD_HANDLER)).encode()),
        (b"content-type", b"multipart/form-data; boundary=x"),
        (b"cookie", f"{auth.SESSION_COOKIE}={session_token}".encode()),
    ]
    if declared is not None:
        headers.append((b"content-length", str(declared).encode()))
    scope = {"type": "http", "method": "POST", "path": "/_upload", "headers": headers}
    remaining = body_size
    pulled = 0

    async def receive() -> Message:
        nonlocal remaining, pulled
        size = min(CHUNK, remaining)
        remaining -= size
        pulled += size
        return {"type": "http.request", "body": b"\0" * size, "more_body": remaining > 0}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    aio.run(guard(scope, receive, send))
    return reflex, sent, pulled


async def _async_value(value: bool) -> bool:
    return value


async def _async_text(value: str) -> str:
    return value


def _status(sent: list[Message]) -> int:
    starts = [message for message in sent if message["type"] == "http.response.start"]
    assert len(starts) == 1, sent
    return starts[0]["status"]


def test_a_declared_50_mb_body_is_refused_before_a_byte_is_read() -> None:
    size = 50 * 1024 * 1024
    reflex, sent, pulled = _post(body_size=size, declared=size)
    assert _status(sent) == 413
    assert pulled == 0
    assert not reflex.called


def test_a_body_without_a_length_is_cut_off_once_it_passes_the_cap() -> None:
    reflex, sent, pulled = _post(body_size=50 * 1024 * 1024)  # chunked: no Content-Length
    assert _status(sent) == 413  # Reflex's own answer to the "vanished" sender is dropped
    assert reflex.saw_disconnect
    assert MAX_UPLOAD_BODY_BYTES < pulled <= MAX_UPLOAD_BODY_BYTES + CHUNK


def test_a_body_that_declares_less_than_it_sends_is_cut_off_too() -> None:
    reflex, sent, pulled = _post(body_size=20 * 1024 * 1024, declared=1000)
    assert _status(sent) == 413
    assert reflex.saw_disconnect
    assert pulled <= MAX_UPLOAD_BODY_BYTES + CHUNK


def test_a_handler_that_takes_no_files_is_refused_with_400() -> None:
    reflex, sent, pulled = _post(
        body_size=100, handler=format_event_handler(AdminCatalogState.load)
    )
    assert _status(sent) == 400
    assert (pulled, reflex.called) == (0, False)


def test_a_tab_without_a_live_socket_is_refused_before_reflex_sees_it() -> None:
    for token in ("made-up-tab", ""):
        reflex, sent, pulled = _post(body_size=100, token=token)
        assert _status(sent) == 403
        assert (pulled, reflex.called) == (0, False)


def test_a_fair_upload_reaches_reflex_whole() -> None:
    size = 3 * 1024 * 1024
    reflex, sent, _ = _post(body_size=size, declared=size)
    assert _status(sent) == 200
    assert reflex.read == size


def test_the_upload_handlers_are_read_from_the_apps_states() -> None:
    names = registered_upload_handlers()
    assert format_event_handler(UPLOAD_HANDLER) in names
    assert format_event_handler(AdminCatalogState.load) not in names
    assert all(name.startswith("reflex___state____state.") for name in names)


def test_an_upload_handler_added_later_is_covered_without_editing_a_list() -> None:
    with RegistrationContext.ensure_context().fork() as registry:

        class LaterUploads(rx.State):
            @rx.event
            async def take_files(self, files: list[rx.UploadFile]) -> None:
                pass

            @rx.event(background=True)
            async def take_chunks(self, chunks: rx.UploadChunkIterator) -> None:
                pass

            @rx.event
            def rename(self, name: str) -> None:
                pass

        names = upload_handler_names(registry.event_handlers)
    assert format_event_handler(LaterUploads.take_files) in names
    assert format_event_handler(LaterUploads.take_chunks) in names
    assert format_event_handler(LaterUploads.rename) not in names


def test_an_upload_from_another_session_than_the_tab_s_is_refused() -> None:
    for sender in ("someone-else-s-session-token", ""):
        reflex, sent, pulled = _post(body_size=1000, declared=1000, session_token=sender)
        assert _status(sent) == 403
        assert not reflex.called and pulled == 0
    reflex, sent, _ = _post(body_size=1000, declared=1000)
    assert _status(sent) == 200 and reflex.called
