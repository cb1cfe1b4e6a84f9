"""Small helpers that put rows in the test database."""

from __future__ import annotations

import itertools

from studio_app.models import User
from studio_app.services import auth, ledger
from studio_app.services.db import write_session

_counter = itertools.count(1)
PASSWORD = "correct horse battery"


def make_user(*, credits: int = 0, email: str | None = None, role: str = "user") -> int:
    """Insert a user directly (optionally granted `credits`) and return its id."""
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
