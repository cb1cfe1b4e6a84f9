"""Personal API tokens for the REST API (sent as `Authorization: Bearer <token>`).

A token is shown once, when it is made; the database keeps only its SHA-256 and
a short prefix the owner can recognise it by. Making one asks for the account's
password; each has a lifetime its owner chose (30, 90 or 365 days, or none).
Revoked and expired tokens and tokens of disabled accounts identify nobody; a
password change or "sign out of all sessions" revokes them all (services/auth.py).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_
from sqlmodel import col, select

from studio_app.clock import utcnow
from studio_app.models import ApiToken, User
from studio_app.services import auth
from studio_app.services.auth import CurrentUser
from studio_app.services.db import read_session, write_session
from studio_app.services.errors import InvalidInput, NotFound
from studio_app.services.validation import clean_text

TOKEN_PREFIX = "stu_"
MAX_ACTIVE_TOKENS = 20
# Recording every use would make each API read a write; once a minute is enough to show.
_LAST_USED_RESOLUTION = timedelta(minutes=1)
# How long a revoked token stays in its owner's list (as "revoked") when asked for.
REVOKED_SHOWN_FOR = timedelta(days=30)
# The lifetimes a token may be given, in days; None: it never expires.
LIFETIME_CHOICES: tuple[int | None, ...] = (30, 90, 365, None)
DEFAULT_LIFETIME_DAYS = 90


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
    # When it stops working: a date, "never", or "expired <date>".
    expires: str = "never"


@dataclass(frozen=True)
class NewToken:
    view: TokenView
    # The whole token: shown to its owner this once, stored nowhere.
    secret: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _when(moment: datetime) -> str:
    return moment.strftime("%d %b %Y, %H:%M UTC")


def _expires(token: ApiToken, now: datetime) -> str:
    if token.expires_at is None:
        return "never"
    if token.expires_at <= now:
        return f"expired {_when(token.expires_at)}"
    return _when(token.expires_at)


def _view(token: ApiToken, now: datetime | None = None) -> TokenView:
    return TokenView(
        id=token.id or 0,
        name=token.name,
        prefix=token.prefix,
        created_at=_when(token.created_at),
        last_used_at=_when(token.last_used_at) if token.last_used_at else "never",
        revoked_at=_when(token.revoked_at) if token.revoked_at else "",
        expires=_expires(token, now or utcnow()),
    )


def lifetime_name(days: int | None) -> str:
    """How a lifetime is named in forms: "30", "90", "365" or "never"."""
    return str(days) if days else "never"


def parse_lifetime(choice: object) -> int | None:
    """A lifetime as a form sends it (see `lifetime_name`) → days, or None for never."""
    names = {lifetime_name(days): days for days in LIFETIME_CHOICES}
    if isinstance(choice, str) and choice.strip().lower() in names:
        return names[choice.strip().lower()]
    raise InvalidInput(
        "Choose how long the token works: 30, 90 or 365 days, or never.", field="expires"
    )


def create_token(
    viewer: CurrentUser,
    name: object,
    *,
    password: object,
    lifetime_days: int | None = DEFAULT_LIFETIME_DAYS,
) -> NewToken:
    """Make a token for the viewer after checking their password.

    The secret is in the result and nowhere else.
    """
    label = clean_text(name, field="name", label="token name", limit=80, required=True)
    if lifetime_days not in LIFETIME_CHOICES:
        raise InvalidInput("Choose how long the token works.", field="expires")
    auth.confirm_password(viewer.id, password)
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
        now = utcnow()
        token = ApiToken(
            user_id=viewer.id,
            name=label,
            token_hash=_hash(secret),
            prefix=secret[:12],
            created_at=now,
            expires_at=now + timedelta(days=lifetime_days) if lifetime_days else None,
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
    now = utcnow()
    active = [token for token in tokens if token.revoked_at is None]
    revoked = sorted(
        (token for token in tokens if token.revoked_at is not None),
        key=lambda token: (token.revoked_at, token.id or 0),
        reverse=True,
    )
    return [_view(token, now) for token in [*active, *revoked]]


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
    now = utcnow()
    if token.revoked_at is not None or not user.is_active or user.id is None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if token.last_used_at is None or now - token.last_used_at >= _LAST_USED_RESOLUTION:
        with write_session() as db:
            stored = db.get(ApiToken, token.id)
            if stored is not None:
                stored.last_used_at = now
                db.add(stored)
    return CurrentUser(id=user.id, email=user.email, role=user.role)
