"""A raw Reflex websocket client, as an attacker would write one (no browser).

It speaks Engine.IO 4 / Socket.IO 5 over `websockets`: open the socket with any tab id,
headers and origin, send Reflex events by name, and collect every frame the server
sends back.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

import websockets
from websockets.asyncio.client import connect

from tests import aio

NAMESPACE = "/_event"


@dataclass
class SocketSession:
    """What one raw connection saw: whether it was let in, and every frame received."""

    accepted: bool = False
    frames: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.frames)


def event(name: str, payload: dict | None = None, path: str = "/") -> dict:
    return {
        "name": name,
        "payload": payload or {},
        "router_data": {"pathname": path, "asPath": path},
    }


def hydrate(path: str = "/") -> dict:
    return event("reflex___state____state.hydrate_and_load", {}, path)


async def _session(
    base_url: str,
    tab_id: str,
    events: list[dict],
    *,
    origin: str,
    cookie: str | None,
    listen_s: float,
) -> SocketSession:
    uri = (
        base_url.replace("http://", "ws://")
        + f"{NAMESPACE}/?EIO=4&transport=websocket&token={tab_id}"
    )
    headers = {"Cookie": cookie} if cookie else {}
    seen = SocketSession()
    try:
        async with connect(uri, origin=origin, additional_headers=headers) as socket:  # type: ignore[arg-type]
            seen.frames.append(str(await socket.recv()))  # Engine.IO "open"
            boot, *rest = events
            await socket.send(f"40{NAMESPACE},{json.dumps({'event': boot})}")
            loop = asyncio.get_running_loop()
            deadline = loop.time() + listen_s
            sent_rest = False
            while (remaining := deadline - loop.time()) > 0:
                try:
                    frame = str(await asyncio.wait_for(socket.recv(), remaining))
                except TimeoutError:
                    break
                seen.frames.append(frame)
                if frame == "2":  # Engine.IO ping
                    await socket.send("3")
                if frame.startswith(f"40{NAMESPACE},"):
                    seen.accepted = True
                    if not sent_rest:
                        sent_rest = True
                        for item in rest:
                            await socket.send(f"42{NAMESPACE},{json.dumps(['event', item])}")
    except (websockets.exceptions.InvalidStatus, websockets.exceptions.ConnectionClosed):
        pass
    return seen


def open_socket(
    base_url: str,
    tab_id: str,
    events: list[dict],
    *,
    origin: str | None = None,
    cookie: str | None = None,
    listen_s: float = 4.0,
) -> SocketSession:
    """Connect as tab `tab_id`, send `events` (the first one as the boot event), listen."""
    return aio.run(
        _session(
            base_url, tab_id, events, origin=origin or base_url, cookie=cookie, listen_s=listen_s
        )
    )
