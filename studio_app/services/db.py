"""Database engines and transactions for the services (no Reflex here).

SQLite (the embedded default) runs in WAL mode with a busy timeout. Writes go
through `write_session()`, which on SQLite starts with `BEGIN IMMEDIATE`: the
write lock is taken up front, so two writers queue on the busy timeout instead
of failing with "database is locked" when a read transaction tries to upgrade.
Reads use `read_session()` and never block writers.

PostgreSQL (`postgresql+psycopg://…`) keeps the same rule: a write transaction first
takes one transaction-scoped advisory lock, so writers — in every process — run one
at a time, exactly as on SQLite. Every check-then-write the services do (limits,
idempotency keys, the ledger's available balance) therefore holds on both engines
without a second set of rules; the transactions are short (milliseconds), and reads,
which are most of the traffic, never wait for it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session, create_engine

from studio_app.settings import get_settings

_engines: dict[tuple[str, bool], Engine] = {}
_engines_lock = threading.Lock()
# PostgreSQL's advisory lock key for "one writer at a time" (any constant shared by all).
WRITE_LOCK_KEY = 0x5354_5544_494F  # "STUDIO"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _configure_sqlite(engine: Engine, *, immediate: bool, busy_timeout_s: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy's "begin" event below decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_s * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    begin_sql = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql(begin_sql)


def _configure_postgres_writes(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")


def get_engine(*, for_writes: bool = False, url: str | None = None) -> Engine:
    """The engine for `url` (default: the configured database)."""
    settings = get_settings()
    url = url or settings.database_url
    sqlite = is_sqlite(url)
    key = (url, for_writes)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            if sqlite:
                engine = create_engine(
                    url,
                    connect_args={
                        "check_same_thread": False,
                        "timeout": settings.sqlite_busy_timeout_seconds,
                    },
                    pool_size=10,
                    max_overflow=30,
                )
                _configure_sqlite(
                    engine,
                    immediate=for_writes,
                    busy_timeout_s=settings.sqlite_busy_timeout_seconds,
                )
            else:
                engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=20)
                if for_writes:
                    _configure_postgres_writes(engine)
            _engines[key] = engine
    return engine


def dispose_engines() -> None:
    """Close every pooled connection (tests switching databases, shutdown)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        for connection in _scalar_connections:
            connection.close()
        _scalar_connections.clear()
        global _scalar_generation
        _scalar_generation += 1


# One plain sqlite3 connection per thread for `read_scalar`: in autocommit every query
# sees the latest commit (WAL), without the pool's checkout and reset (~50 µs).
_per_thread = threading.local()
_scalar_connections: list[sqlite3.Connection] = []
# Bumped by dispose_engines: every thread's cached connection is then stale.
_scalar_generation = 0


def read_scalar(sql: str) -> Any:
    """The first column of the first row of a tiny read that runs on every request."""
    url = get_settings().database_url
    if not is_sqlite(url):
        with get_engine().connect() as connection:
            return connection.exec_driver_sql(sql).scalar()
    cached = getattr(_per_thread, "connections", {}).get(url)
    if cached is not None and cached[0] == _scalar_generation:
        connection = cached[1]
    else:
        database = get_engine().url.database or ""
        connection = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
        with _engines_lock:
            _scalar_connections.append(connection)
        _per_thread.__dict__.setdefault("connections", {})[url] = (_scalar_generation, connection)
    row = connection.execute(sql).fetchone()
    return None if row is None else row[0]


@contextmanager
def write_session() -> Iterator[Session]:
    """A transaction that holds the write lock from its start; commits on success."""
    with (
        Session(get_engine(for_writes=True), expire_on_commit=False) as session,
        session.begin(),
    ):
        yield session


@contextmanager
def read_session() -> Iterator[Session]:
    """A view of the database that never commits.

    Closing (not rolling back) keeps the loaded rows readable after the block.
    """
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session
