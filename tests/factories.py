"""Small helpers that put rows in the test database."""

from __future__ import annotations

import itertools

from studio_app.models import User
from studio_app.services import ledger
from studio_app.services.db import write_session

_counter = itertools.count(1)


def make_user(*, credits: int = 0, email: str | None = None, role: str = "user") -> int:
    """Insert a user (optionally granted `credits`) and return its id."""
    with write_session() as db:
        user = User(
            email=email or f"user{next(_counter)}@example.com",
            password_hash="not-a-real-hash",
            role=role,
        )
        db.add(user)
        db.flush()
        assert user.id is not None
        if credits:
            ledger.grant(db, user.id, credits, idempotency_key=f"test-grant-{user.id}")
        return user.id
