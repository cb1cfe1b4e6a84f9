"""A real PostgreSQL 15 server for the scaled tests (and `make cluster`), from Debian's package.

`initdb` refuses to run as root, so as root the server runs as the unprivileged user
`make test` creates (`SERVER_USER`); its data lives in a folder that user owns. For the
tests: a temporary folder, durability off (fsync, synchronous_commit), thrown away after
the run. `make cluster` passes a folder that outlives it and keeps durability on.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from tests.app_server import free_port

BIN_DIRS = (Path("/usr/lib/postgresql/15/bin"), Path("/usr/lib/postgresql/16/bin"))
SERVER_USER = "studio-test"
SUPERUSER = "postgres"


def _bin_dir() -> Path:
    for candidate in BIN_DIRS:
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise RuntimeError("PostgreSQL is not installed here (apt-get install postgresql-15)")


class PostgresServer:
    def __init__(
        self, data_dir: Path | None = None, port: int | None = None, *, durable: bool = False
    ) -> None:
        self.port = port or free_port()
        self._owns_dir = data_dir is None
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="studio-pg-"))
        self.durable = durable
        self._bin = _bin_dir()
        self._as_user: list[str] = []

    @property
    def admin_url(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of `database` on this server."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        subprocess.run(
            [*self._as_user, *args], check=True, capture_output=True, text=True, timeout=120
        )

    def start(self) -> PostgresServer:
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam(SERVER_USER)
            except KeyError as exc:
                raise RuntimeError(
                    f"no user {SERVER_USER!r} to run PostgreSQL as: `make test` creates it "
                    f"(useradd --system {SERVER_USER})"
                ) from exc
            self.data_dir.mkdir(parents=True, exist_ok=True)
            os.chown(self.data_dir, account.pw_uid, account.pw_gid)
            self._as_user = ["runuser", "-u", SERVER_USER, "--"]
        cluster = self.data_dir / "cluster"
        if not (cluster / "PG_VERSION").exists():
            self._initdb(cluster)
        options = f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1 "
        if not self.durable:
            options += "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
        options += "-c max_connections=400 -c shared_buffers=64MB"
        self._run(
            str(self._bin / "pg_ctl"),
            "-D",
            str(cluster),
            "-l",
            str(self.data_dir / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        self._wait_ready()
        return self

    def _initdb(self, cluster: Path) -> None:
        self._run(
            str(self._bin / "initdb"),
            "-D",
            str(cluster),
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            *([] if self.durable else ["--no-sync"]),
        )

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self.admin_url, connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def has_database(self, name: str) -> bool:
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            return found.fetchone() is not None

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """A new database (a copy of `template` when given); returns its URL."""
        copy_of = f' TEMPLATE "{template}"' if template else ""
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"{copy_of}')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(
                str(self._bin / "pg_ctl"),
                "-D",
                str(self.data_dir / "cluster"),
                "-m",
                "fast" if self.durable else "immediate",
                "stop",
            )
        if self._owns_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
