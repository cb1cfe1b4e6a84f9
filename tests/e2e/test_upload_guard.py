"""Reflex's upload endpoint against the running server, written as the attacker.

Each upload comes from a script: a live tab of the attacker's own (a websocket with a
made-up tab id) where one is needed, then raw HTTP to `/_upload`. The admin's real
upload in the browser is tests/e2e/test_admin_catalog.py.
"""

from __future__ import annotations

import select
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from reflex.utils.format import format_event_handler

from studio_app.services import auth
from studio_app.settings import PROJECT_ROOT
from studio_app.states.admin_catalog import AdminCatalogState
from tests import app_server
from tests.e2e.conftest import RunningApp, app_env
from tests.e2e.helpers import PASSWORD, new_email
from tests.e2e.raw_socket import hydrate, root_state_file, tab_socket

UPLOAD_HANDLER = format_event_handler(AdminCatalogState.upload_preview)
NOT_AN_UPLOAD_HANDLER = format_event_handler(AdminCatalogState.load)
MB = 1024 * 1024
CHUNK = 64 * 1024
BOUNDARY = "attacker-boundary"
FILE_PART_HEAD = (
    f"--{BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="files"; filename="big.png"\r\n'
    "Content-Type: image/png\r\n\r\n"
).encode()


def _states_dir(app: RunningApp) -> Path:
    return app.database_path.parent / ".states"  # REFLEX_STATES_WORKDIR (tests/app_server.py)


def _signed_up_cookie(app: RunningApp) -> str:
    """A new account's session, as the Cookie header its browser would send."""
    answer = httpx.post(
        f"{app.url}/auth/signup",
        json={"email": new_email(), "password": PASSWORD, "password_confirm": PASSWORD},
        headers={"Origin": app.url},
    )
    assert answer.status_code == 200, answer.text
    return f"{auth.SESSION_COOKIE}={answer.cookies[auth.SESSION_COOKIE]}"


@pytest.fixture
def live_tab(running_app: RunningApp) -> Iterator[tuple[str, str]]:
    """A tab with a live websocket of a signed-in user: (tab id, the user's Cookie header)."""
    token, cookie = str(uuid.uuid4()), _signed_up_cookie(running_app)
    with tab_socket(running_app.url, token, boot=hydrate(), cookie=cookie):
        yield token, cookie


def _request_head(url: str, tab: tuple[str, str], framing: str) -> bytes:
    parts = urlsplit(url)
    token, cookie = tab
    return (
        f"POST /_upload HTTP/1.1\r\nHost: {parts.netloc}\r\nCookie: {cookie}\r\n"
        f"Reflex-Client-Token: {token}\r\nReflex-Event-Handler: {UPLOAD_HANDLER}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n{framing}\r\n\r\n"
    ).encode()


def _connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=30)


def _status_of(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer.split(b" ", 2)[1])


def test_a_50_mb_upload_is_refused_before_the_server_reads_it(
    running_app: RunningApp, live_tab: tuple[str, str]
) -> None:
    with _connect(running_app.url) as raw:
        raw.sendall(_request_head(running_app.url, live_tab, f"Content-Length: {50 * MB}"))
        raw.sendall(FILE_PART_HEAD + b"\0" * CHUNK)  # and not one byte more
        answer = raw.recv(65536)  # answered while 50 MB - 64 KB are still unsent
    assert _status_of(answer) == 413
    assert b"connection: close" in answer.lower()


def test_a_chunked_body_is_cut_off_once_it_passes_10_mb(
    running_app: RunningApp, live_tab: tuple[str, str]
) -> None:
    sent = 0
    answer = b""
    with _connect(running_app.url) as raw:
        raw.sendall(_request_head(running_app.url, live_tab, "Transfer-Encoding: chunked"))
        raw.sendall(b"%x\r\n%s\r\n" % (len(FILE_PART_HEAD), FILE_PART_HEAD))
        chunk = b"%x\r\n%s\r\n" % (CHUNK, b"\0" * CHUNK)
        try:
            while sent < 50 * MB:
                readable, _, _ = select.select([raw], [], [], 0)
                if readable:
                    break
                raw.sendall(chunk)
                sent += CHUNK
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed the connection on the rest of the body
        answer = raw.recv(65536)
    assert _status_of(answer) == 413
    assert 10 * MB <= sent < 50 * MB  # refused on the way, not after reading it all


def test_a_handler_that_takes_no_files_gets_400_not_500(
    running_app: RunningApp, live_tab: tuple[str, str]
) -> None:
    answer = httpx.post(
        f"{running_app.url}/_upload",
        headers={
            "Reflex-Client-Token": live_tab[0],
            "Reflex-Event-Handler": NOT_AN_UPLOAD_HANDLER,
            "Cookie": live_tab[1],
        },
        files={"files": ("a.png", b"\x89PNG", "image/png")},
    )
    assert answer.status_code == 400
    assert answer.json() == {"detail": "This is not an upload handler."}


def _wait_until_exists(path: Path) -> bool:
    deadline = time.monotonic() + 30
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    return path.exists()


def test_an_unknown_tab_is_refused_and_gets_no_server_state(running_app: RunningApp) -> None:
    made_up = str(uuid.uuid4())
    answer = httpx.post(
        f"{running_app.url}/_upload",
        headers={"Reflex-Client-Token": made_up, "Reflex-Event-Handler": UPLOAD_HANDLER},
        files={"files": ("a.png", b"\x89PNG", "image/png")},
    )
    assert answer.status_code == 403
    assert "delta" not in answer.text  # before the guard: the new state, sent back
    # A witness tab connected afterwards: once its state is on disk, a state made for the
    # refused tab (earlier, so written no later) would be there too.
    witness = str(uuid.uuid4())
    with tab_socket(running_app.url, witness):
        assert _wait_until_exists(root_state_file(_states_dir(running_app), witness))
    assert not root_state_file(_states_dir(running_app), made_up).exists()


def test_a_tab_id_is_no_login_for_uploads_either(
    running_app: RunningApp, live_tab: tuple[str, str]
) -> None:
    """Someone who knows a signed-in tab's id, without its cookie or with their own."""
    token, _ = live_tab
    for cookie in ("", _signed_up_cookie(running_app)):
        answer = httpx.post(
            f"{running_app.url}/_upload",
            headers={
                "Reflex-Client-Token": token,
                "Reflex-Event-Handler": UPLOAD_HANDLER,
                "Cookie": cookie,
            },
            files={"files": ("a.png", b"\x89PNG", "image/png")},
        )
        assert answer.status_code == 403
        assert "not from this tab's session" in answer.json()["detail"]


def test_made_up_tabs_cannot_grow_the_state_folder_beyond_its_bound(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Its own server (backend only, quick to start) with a small bound and its own
    state folder: websockets with made-up tab ids, each loading a page's states."""
    workdir = tmp_path_factory.mktemp("bounded-states")
    states_dir = workdir / "states"
    bound = 12
    env = {
        **app_env(workdir),
        "STUDIO_MAX_STATE_FILES": str(bound),
        "STUDIO_STATE_SWEEP_SECONDS": "1",
        "REFLEX_STATES_WORKDIR": str(states_dir),
    }
    app_server.run_cli(PROJECT_ROOT, env, "setup")
    log_path = workdir / "server.log"
    port = app_server.free_port()
    process = app_server.start(PROJECT_ROOT, env, port, log_path, backend_only=True)
    url = f"http://127.0.0.1:{port}"
    try:
        app_server.wait_until_serving(url, process, log_path, page=False)
        tokens = [str(uuid.uuid4()) for _ in range(8)]  # ~6 state files each
        for token in tokens:
            with tab_socket(url, token, boot=hydrate()) as tab:
                tab.recv(timeout=20)  # the page's states arrived: they exist on the server
        # The newest tab's files are written (after Reflex's write delay) and kept…
        assert _wait_until_exists(root_state_file(states_dir, tokens[-1]))
        deadline = time.monotonic() + 30
        while len(list(states_dir.glob("*.pkl"))) > bound and time.monotonic() < deadline:
            time.sleep(0.2)
        # …and the folder holds no more than the bound.
        state_files = list(states_dir.glob("*.pkl"))
        assert 0 < len(state_files) <= bound, log_path.read_text()[-3000:]
        assert not root_state_file(states_dir, tokens[0]).exists()  # the oldest went
    finally:
        app_server.stop(process)
