"""A browser tab's Reflex websocket, spoken by hand, as an attacker's script would.

Engine.IO 4 / Socket.IO 5 over a plain websocket: the tab id travels in the URL, and
Reflex's events go to the `/_event` namespace. Any tab id, cookie and origin (none by
default: a script, not a browser).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import websockets
from websockets.sync.client import ClientConnection, connect

from studio_app.routes import STUDIO

NAMESPACE = "/_event"
ROOT_STATE = "reflex___state____state"
# The path a browser on the studio page reports (page loads end in a slash).
STUDIO_PAGE = f"{STUDIO}/"


def event(name: str, payload: dict | None = None, path: str = STUDIO_PAGE) -> dict:
    return {
        "name": name,
        "payload": payload or {},
        "router_data": {"pathname": path, "query": {}, "asPath": path},
    }


def hydrate(path: str = STUDIO_PAGE) -> dict:
    """What a page's first event does: load every state the page shows."""
    return event(f"{ROOT_STATE}.hydrate_and_load", {}, path)


@contextmanager
def tab_socket(
    base_url: str,
    token: str,
    *,
    boot: dict | None = None,
    origin: str | None = None,
    cookie: str | None = None,
) -> Iterator[ClientConnection]:
    """A connected websocket for tab id `token`, `boot` sent as its first event."""
    url = (
        base_url.replace("http", "ws", 1) + f"{NAMESPACE}/?EIO=4&transport=websocket&token={token}"
    )
    headers = {"Cookie": cookie} if cookie else None
    with connect(url, open_timeout=20, origin=origin, additional_headers=headers) as socket:  # type: ignore[arg-type]
        opened = socket.recv(timeout=20)
        assert str(opened).startswith("0{"), opened  # Engine.IO's handshake
        auth = json.dumps({"event": boot}) if boot else ""
        socket.send(f"40{NAMESPACE},{auth}")
        joined = socket.recv(timeout=20)
        assert str(joined).startswith(f"40{NAMESPACE},"), joined
        yield socket


@dataclass
class SocketSession:
    """What one raw connection saw: whether it was let in, and every frame received."""

    accepted: bool = False
    frames: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.frames)


def open_socket(
    base_url: str,
    token: str,
    events: list[dict],
    *,
    origin: str | None = None,
    cookie: str | None = None,
    listen_s: float = 4.0,
) -> SocketSession:
    """Connect as tab `token`, send `events` (the first as the boot event), listen."""
    seen = SocketSession()
    boot, *rest = events
    try:
        with tab_socket(base_url, token, boot=boot, origin=origin, cookie=cookie) as socket:
            seen.accepted = True
            for item in rest:
                socket.send(f"42{NAMESPACE},{json.dumps(['event', item])}")
            deadline = time.monotonic() + listen_s
            while (remaining := deadline - time.monotonic()) > 0:
                try:
                    frame = str(socket.recv(timeout=remaining))
                except TimeoutError:
                    break
                seen.frames.append(frame)
                if frame == "2":  # Engine.IO ping
                    socket.send("3")
    except (websockets.exceptions.InvalidStatus, websockets.exceptions.ConnectionClosed):
        pass
    return seen


def root_state_file(states_dir: Path, token: str) -> Path:
    """Where Reflex's disk state manager keeps a tab's root state (reflex/istate/manager)."""
    name = hashlib.md5(f"{token}_{ROOT_STATE}".encode()).hexdigest()
    return states_dir / f"{name}.pkl"
