"""A browser tab's Reflex websocket, spoken by hand, as an attacker's script would.

Engine.IO 4 / Socket.IO 5 over a plain websocket: the tab id travels in the URL, and
Reflex's events go to the `/_event` namespace. No Origin header and no cookie: a script,
not a browser.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from websockets.sync.client import ClientConnection, connect

NAMESPACE = "/_event"
ROOT_STATE = "reflex___state____state"
# What a page's first event does: load every state the page shows.
_HYDRATE = {
    "name": f"{ROOT_STATE}.hydrate_and_load",
    "payload": {},
    "router_data": {"pathname": "/", "query": {}, "asPath": "/"},
}


@contextmanager
def tab_socket(base_url: str, token: str, *, hydrate: bool = False) -> Iterator[ClientConnection]:
    """A connected websocket for tab id `token` (sending the page's first event if asked)."""
    url = (
        base_url.replace("http", "ws", 1) + f"{NAMESPACE}/?EIO=4&transport=websocket&token={token}"
    )
    with connect(url, open_timeout=20) as socket:
        opened = socket.recv(timeout=20)
        assert opened.startswith("0{"), opened  # Engine.IO's handshake
        auth = json.dumps({"event": _HYDRATE}) if hydrate else ""
        socket.send(f"40{NAMESPACE},{auth}")
        joined = socket.recv(timeout=20)
        assert joined.startswith(f"40{NAMESPACE},"), joined
        yield socket


def root_state_file(states_dir: Path, token: str) -> Path:
    """Where Reflex's disk state manager keeps a tab's root state (reflex/istate/manager)."""
    name = hashlib.md5(f"{token}_{ROOT_STATE}".encode()).hexdigest()
    return states_dir / f"{name}.pkl"
