"""Small helpers that put rows in the test database."""

from __future__ import annotations

import functools
import itertools
import os
import secrets
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text
from sqlmodel import Session

from studio_app.clock import utcnow
from studio_app.models import GeneratedImage, User
from studio_app.services import auth, ledger
from studio_app.services.db import write_session
from studio_app.storage import image_store, keys
from studio_app.storage.local import LocalDiskStore

_counter = itertools.count(1)
PASSWORD = "correct horse battery"


@functools.cache
def _password_hash() -> str:
    """PASSWORD's hash, made once (argon2 is slow on purpose)."""
    return auth.hash_password(PASSWORD)


def make_user(*, credits: int = 0, email: str | None = None, role: str = "user") -> int:
    """Insert a user directly (optionally granted `credits`) and return its id."""
    with write_session() as db:
        user = User(
            email=email or f"user{next(_counter)}@example.com",
            password_hash=_password_hash(),
            role=role,
        )
        db.add(user)
        db.flush()
        assert user.id is not None
        if credits:
            ledger.grant(db, user.id, credits, idempotency_key=f"test-grant-{user.id}")
        return user.id


def make_account(*, email: str | None = None, address: str = "") -> auth.SignedIn:
    """Sign up through the real service (signup grant included)."""
    return auth.sign_up(
        email or f"person{next(_counter)}@example.com",
        PASSWORD,
        client_address=address or f"test-client-{next(_counter)}",
    )


def add_credits(user_id: int, credits: int) -> None:
    with write_session() as db:
        ledger.grant(db, user_id, credits, idempotency_key=f"extra-{next(_counter)}")


def crashed_generation(user_id: int, *, age: timedelta, price: int = 2) -> GeneratedImage:
    """What a crash between 'hold placed' and 'captured' leaves: a pending row, an open hold."""
    created = utcnow() - age
    with write_session() as db:
        row = GeneratedImage(
            public_id=secrets.token_hex(12),
            user_id=user_id,
            prompt="interrupted",
            provider="offline",
            tier="premium",
            cost_credits=price,
            created_at=created,
        )
        db.add(row)
        db.flush()
        ledger.place_hold(db, user_id, price, generation_id=row.id, now=created)
        return row


def stray_file(*, age_seconds: float) -> str:
    """An image file no row points to, last written `age_seconds` ago."""
    key, _ = keys.new_image_keys("png")
    image_store().put(key, b"left behind by a crash", "image/png")
    past = time.time() - age_seconds
    os.utime(disk_path(key), (past, past))
    return key


def disk_path(key: str) -> Path:
    """Where the local image store keeps `key`: for tests that play a crash on the disk."""
    store = image_store()
    assert isinstance(store, LocalDiskStore)
    return store.path_for(key)


def insert_user_as_before(db: Session, email: str) -> int:
    """A user row written in SQL with only the columns every revision has: for tests that
    fill a database migrated to an old revision (today's model has columns it lacks)."""
    return db.execute(
        text(
            'INSERT INTO "user" (email, password_hash, role, is_active, created_at) '
            "VALUES (:email, 'not-a-real-hash', 'user', :active, :now) RETURNING id"
        ),
        {"email": email, "active": True, "now": utcnow()},
    ).scalar_one()
