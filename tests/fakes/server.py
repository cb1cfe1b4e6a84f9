"""A small local HTTP server that plays a provider's API from a script.

Each fake registers routes (method + path regex) with responses that are
served in order (the last one repeats). Every request is recorded, so tests
can count what the SDK really sent — which proves retry policies.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class FakeResponse:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Close the connection without answering (a dropped connection).
    drop: bool = False
    # Send the status, the headers (with the full Content-Length) and only this many bytes
    # of the body, then close the socket: a connection dropped mid-response.
    cut_after: int | None = None

    @classmethod
    def json(cls, payload: Any, status: int = 200, **headers: str) -> FakeResponse:
        return cls(
            status=status,
            body=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json", **headers},
        )


Responder = FakeResponse | Callable[[RecordedRequest], FakeResponse]


@dataclass
class _Route:
    method: str
    pattern: re.Pattern[str]
    responses: list[Responder]
    served: int = 0

    def next_responder(self) -> Responder:
        responder = self.responses[min(self.served, len(self.responses) - 1)]
        self.served += 1
        return responder


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # fifty concurrent generations must not be refused


class FakeServer:
    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._routes: list[_Route] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def on(self, method: str, path_regex: str, *responses: Responder) -> None:
        """Answer requests matching `method` and `path_regex` (searched) with `responses`."""
        with self._lock:
            self._routes.insert(0, _Route(method.upper(), re.compile(path_regex), list(responses)))

    def requests_to(self, path_regex: str) -> list[RecordedRequest]:
        pattern = re.compile(path_regex)
        return [r for r in self.requests if pattern.search(r.path)]

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _respond(self, request: RecordedRequest) -> FakeResponse:
        responder: Responder | None = None
        with self._lock:
            self.requests.append(request)
            for route in self._routes:
                if route.method == request.method and route.pattern.search(request.path):
                    responder = route.next_responder()
                    break
        if responder is None:
            return FakeResponse.json({"error": f"no fake route for {request.path}"}, status=404)
        # Outside the lock: a slow responder must not hold up concurrent requests.
        return responder(request) if callable(responder) else responder

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = RecordedRequest(
                    method=self.command,
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                response = fake._respond(request)
                if response.drop:
                    self.close_connection = True
                    self.connection.close()
                    return
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                if response.cut_after is not None:
                    self.wfile.write(response.body[: response.cut_after])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(response.body)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        return Handler
