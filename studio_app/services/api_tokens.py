"""Personal API tokens for the REST API (sent as `Authorization: Bearer <token>`).

A token is shown once, when it is made; the database keeps only its SHA-256 and
a short prefix the owner can recognise it by. Revoked tokens and tokens of
disabled accounts identify nobody.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_
from sqlmodel import col, select

from studio_app.models import ApiToken, User
from studio_app.services.auth import CurrentUser
from studio_app.services.clock import utcnow
from studio_app.services.db import read_session, write_session
from studio_app.services.errors import InvalidInput, NotFound
from studio_app.services.validation import clean_text

TOKEN_PREFIX = "stu_"
MAX_ACTIVE_TOKENS = 20
# Recording every use would make each API read a write; once a minute is enough to show.
_LAST_USED_RESOLUTION = timedelta(minutes=1)
# How long a revoked token stays in its owner's list (as "revoked") when asked for.
REVOKED_SHOWN_FOR = timedelta(days=30)


@dataclass(frozen=True)
class TokenView:
    """What the owner may see about a token (never the secret after creation)."""

    id: int
    name: str
    prefix: str
    created_at: str
    last_used_at: str
    # "" while the token works; when it was revoked otherwise.
    revoked_at: str = ""


@dataclass(frozen=True)
class NewToken:
    view: TokenView
    # The whole token: shown to its owner this once, stored nowhere.
    secret: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _when(moment: datetime) -> str:
    return moment.strftime("%d %b %Y, %H:%M UTC")


def _view(token: ApiToken) -> TokenView:
    return TokenView(
        id=token.id or 0,
        name=token.name,
        prefix=token.prefix,
        created_at=_when(token.created_at),
        last_used_at=_when(token.last_used_at) if token.last_used_at else "never",
        revoked_at=_when(token.revoked_at) if token.revoked_at else "",
    )


def create_token(viewer: CurrentUser, name: object) -> NewToken:
    """Make a token for the viewer; its secret is in the result and nowhere else."""
    label = clean_text(name, field="name", label="token name", limit=80, required=True)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with write_session() as db:
        active = db.exec(
            select(func.count())
            .select_from(ApiToken)
            .where(ApiToken.user_id == viewer.id, col(ApiToken.revoked_at).is_(None))
        ).one()
        if active >= MAX_ACTIVE_TOKENS:
            raise InvalidInput(
                f"You can have at most {MAX_ACTIVE_TOKENS} tokens. Revoke one you no longer use.",
                field="name",
            )
        token = ApiToken(
            user_id=viewer.id, name=label, token_hash=_hash(secret), prefix=secret[:12]
        )
        db.add(token)
        db.flush()
        return NewToken(view=_view(token), secret=secret)


def list_tokens(viewer: CurrentUser, *, include_revoked: bool = False) -> list[TokenView]:
    """The viewer's tokens that still work, newest first.

    With `include_revoked`, those revoked in the last `REVOKED_SHOWN_FOR` follow them
    (most recently revoked first), so the owner can see what they turned off.
    """
    still_listed = col(ApiToken.revoked_at).is_(None)
    if include_revoked:
        still_listed = or_(still_listed, col(ApiToken.revoked_at) >= utcnow() - REVOKED_SHOWN_FOR)
    with read_session() as db:
        tokens = db.exec(
            select(ApiToken)
            .where(ApiToken.user_id == viewer.id, still_listed)
            .order_by(col(ApiToken.created_at).desc(), col(ApiToken.id).desc())
        ).all()
    active = [token for token in tokens if token.revoked_at is None]
    revoked = sorted(
        (token for token in tokens if token.revoked_at is not None),
        key=lambda token: (token.revoked_at, token.id or 0),
        reverse=True,
    )
    return [_view(token) for token in [*active, *revoked]]


def revoke_token(viewer: CurrentUser, token_id: object) -> None:
    """Revoke one of the viewer's own tokens (another user's is "not found")."""
    if type(token_id) is not int:
        raise NotFound("No such token.")
    with write_session() as db:
        token = db.get(ApiToken, token_id)
        if token is None or token.user_id != viewer.id or token.revoked_at is not None:
            raise NotFound("No such token.")
        token.revoked_at = utcnow()
        db.add(token)


def user_for_token(secret: object) -> CurrentUser | None:
    """Who a bearer token belongs to, or None (unknown, revoked, account disabled)."""
    if not isinstance(secret, str) or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    with read_session() as db:
        row = db.exec(
            select(ApiToken, User)
            .join(User, col(User.id) == col(ApiToken.user_id))
            .where(ApiToken.token_hash == _hash(secret))
        ).first()
    if row is None:
        return None
    token, user = row
    if token.revoked_at is not None or not user.is_active or user.id is None:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= _LAST_USED_RESOLUTION:
        with write_session() as db:
            stored = db.get(ApiToken, token.id)
            if stored is not None:
                stored.last_used_at = now
                db.add(stored)
    return CurrentUser(id=user.id, email=user.email, role=user.role)
