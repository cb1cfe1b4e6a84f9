"""A real Redis server for the scaled tests (and `make cluster`), from Debian's `redis-server`.

For the tests: a temporary folder, no persistence. `make cluster` passes a folder that
outlives it and turns the append-only file on.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.app_server import free_port
from tests.servers.process import end


class RedisServer:
    def __init__(
        self, data_dir: Path | None = None, port: int | None = None, *, durable: bool = False
    ) -> None:
        self.port = port or free_port()
        self._owns_dir = data_dir is None
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="studio-redis-"))
        self.durable = durable
        self._process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.data_dir),
                "--save",
                "",
                "--appendonly",
                "yes" if self.durable else "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in `make cluster` reaches the cluster, not Redis
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as probe:
                    probe.sendall(b"PING\r\n")
                    if probe.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not answer on port {self.port}")
            time.sleep(0.1)

    def _end_process(self) -> None:
        if self._process is not None:
            end(self._process, grace_s=10)
            self._process = None

    def restart(self, down_s: float = 0) -> RedisServer:
        """Stop, stay down `down_s`, start again on the same port: without persistence,
        everything it held is gone."""
        self._end_process()
        time.sleep(down_s)
        return self.start()

    def stop(self) -> None:
        self._end_process()
        if self._owns_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
