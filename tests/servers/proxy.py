"""A load balancer in front of several web processes, as a deployment would have.

Pages, sign-in and the REST API go to the process that serves the pages; websockets
(`/_event`) go to the first of the socket processes that accepts a connection, so when one
dies its browsers reconnect to the next. Plain TCP after the first request's head.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

from tests.app_server import free_port

EVENT_PATH = b"/_event"


class FailoverProxy:
    def __init__(self, pages_port: int, socket_ports: list[int]) -> None:
        self.port = free_port()
        self.pages_port = pages_port
        self.socket_ports = socket_ports
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FailoverProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port)
        )
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()

    async def _handle(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter):
        try:
            head = await client_in.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            client_out.close()
            return
        path = head.split(b" ", 2)[1] if head.count(b" ") >= 2 else b"/"
        ports = [*self.socket_ports, self.pages_port] if path.startswith(EVENT_PATH) else []
        upstream = await self._connect(ports or [self.pages_port])
        if upstream is None:
            client_out.close()
            return
        server_in, server_out = upstream
        server_out.write(head)
        await asyncio.gather(self._pipe(client_in, server_out), self._pipe(server_in, client_out))

    @staticmethod
    async def _connect(ports: list[int]):
        for port in ports:
            with contextlib.suppress(OSError):
                return await asyncio.open_connection("127.0.0.1", port)
        return None

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while chunk := await source.read(65536):
                sink.write(chunk)
                await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                sink.close()
