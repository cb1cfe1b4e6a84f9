"""Accounts and sign-in sessions.

A session is a random token the browser keeps in an HttpOnly cookie set by the
server (so `<img>` requests and the websocket carry it too); the database stores
only its SHA-256, and so does everything else on the server: the websocket's
copy of the cookie is replaced by that hash before Reflex sees it
(`session_hash`), so a pickled Reflex state never holds a usable token. Sessions
slide: page loads extend them. Failed sign-ins are throttled per account and
client address, per address, and under a per-account ceiling; sign-ups per client
address (services/signin_throttle.py). Addresses are normalised by services/emails.py.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from studio_app.clock import utcnow
from studio_app.models import ApiToken, AuthSession, Role, ThrottleEvent, User
from studio_app.services import emails, ledger, signin_throttle
from studio_app.services.db import read_session, write_session
from studio_app.services.errors import InvalidInput, StudioError
from studio_app.services.signin_throttle import TooManyAttempts as TooManyAttempts  # re-export
from studio_app.settings import get_settings

SESSION_COOKIE = "studio_session"
# What the websocket's handshake carries instead of the session cookie (api/session_cookie.py).
SESSION_HASH_COOKIE = "studio_session_sha256"
# A sliding session is written back (and its cookie re-issued) at most this often.
SESSION_REFRESH_INTERVAL = timedelta(hours=1)
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
_hasher = PasswordHasher()
# Verified against when the email is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not the password of anyone")


class AuthError(StudioError):
    code = "auth_failed"


@dataclass(frozen=True)
class SignedIn:
    """The result of a sign-up or sign-in: the user and the new session token."""

    user_id: int
    email: str
    token: str
    # When the new session ends (the cookie's lifetime).
    expires_at: datetime


@dataclass(frozen=True)
class CurrentUser:
    """Who a session token belongs to (server-side only: carries the id)."""

    id: int
    email: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value


def normalize_email(email: object) -> str:
    """The stored spelling of a typed address (see services/emails.py)."""
    return emails.normalize_email(email)


def validate_new_password(password: object) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters.", field="password"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"Passwords can be at most {MAX_PASSWORD_LENGTH} characters.", field="password"
        )
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def session_hash(token: object) -> str:
    """What the server keeps of a session token: its SHA-256 ("" for no usable token)."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return ""
    return hashlib.sha256(token.encode()).hexdigest()


def _new_session(db: Session, user_id: int, email: str, now: datetime) -> SignedIn:
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(days=get_settings().session_days)
    db.add(
        AuthSession(
            user_id=user_id,
            token_hash=session_hash(token),
            created_at=now,
            expires_at=expires_at,
        )
    )
    return SignedIn(user_id=user_id, email=email, token=token, expires_at=expires_at)


def sign_up(email: object, password: object, *, client_address: str = "") -> SignedIn:
    """Create an account with the signup grant and sign it in."""
    settings = get_settings()
    normalized = normalize_email(email)
    password = validate_new_password(password)
    password_hash = hash_password(password)  # slow: outside the write lock
    now = utcnow()
    with write_session() as db:
        signin_throttle.check_sign_up(db, client_address, now)
        if db.exec(select(User.id).where(User.email == normalized)).first() is not None:
            raise InvalidInput("An account with this email already exists.", field="email")
        if emails.has_tag_sibling(db, normalized):
            raise InvalidInput(
                "An account already exists for this address with a different +tag. "
                "Sign in with that address instead.",
                field="email",
            )
        user = User(email=normalized, password_hash=password_hash, created_at=now)
        db.add(user)
        db.flush()
        assert user.id is not None
        if settings.signup_grant_credits > 0:
            ledger.grant(
                db,
                user.id,
                settings.signup_grant_credits,
                idempotency_key="signup",
                reference="Welcome credits",
            )
        signin_throttle.record_sign_up(db, client_address, now)
        return _new_session(db, user.id, normalized, now)


def sign_in(email: object, password: object, *, client_address: str = "") -> SignedIn:
    """Check the password and open a session, unless this account and address are throttled.

    Raises TooManyAttempts (with `retry_after` seconds) before the password is checked.
    """
    if not isinstance(password, str) or not password:
        raise InvalidInput("Enter your password.", field="password")
    normalized = normalize_email(email)
    now = utcnow()
    # Counted as a failure from here on, unless forgiven below.
    attempt = signin_throttle.begin_sign_in(normalized, client_address, now=now)
    with read_session() as db:
        user = db.exec(select(User).where(User.email == normalized)).first()
    valid = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    if not valid or user is None or user.id is None or not user.is_active:
        raise AuthError("Wrong email or password.")
    signin_throttle.forgive(attempt)
    with write_session() as db:
        return _new_session(db, user.id, user.email, now)


def cookie_value(header: str, name: str) -> str:
    """One cookie's value from a Cookie header ("" when absent). Parsed by hand: the
    standard library's parser gives up on the whole header at one odd cookie."""
    for part in header.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            return value.strip().strip('"')
    return ""


def session_token_from_cookie_header(header: str) -> str:
    """The session token in an HTTP request's Cookie header ("" when there is none)."""
    return cookie_value(header, SESSION_COOKIE)


def session_hash_from_cookie_header(header: str) -> str:
    """The session hash in a websocket handshake's (rewritten) Cookie header."""
    return cookie_value(header, SESSION_HASH_COOKIE)


def current_user(token: object) -> CurrentUser | None:
    """The active user a session token belongs to, or None (expired, revoked, unknown)."""
    return user_for_session_hash(session_hash(token))


def user_for_session_hash(token_hash: object) -> CurrentUser | None:
    """`current_user` for a token the server knows only by its hash (the websocket)."""
    live = _live_session(token_hash, utcnow())
    if live is None:
        return None
    _session, user = live
    return CurrentUser(id=user.id or 0, email=user.email, role=user.role)


def _live_session(token_hash: object, now: datetime) -> tuple[AuthSession, User] | None:
    """The session with this hash and its user, if it still signs anyone in."""
    if not isinstance(token_hash, str) or len(token_hash) != 64:
        return None
    with read_session() as db:
        row = db.exec(
            select(AuthSession, User)
            .join(User, col(User.id) == AuthSession.user_id)
            .where(AuthSession.token_hash == token_hash)
        ).first()
    if row is None:
        return None
    session, user = row
    if session.revoked_at is not None or session.expires_at <= now or not user.is_active:
        return None
    return session, user


def refresh_session(token: object, *, now: datetime | None = None) -> datetime | None:
    """Slide a live session's expiry to a full `session_days` from now.

    Returns the session's expiry (for the cookie), or None when the token is not a live
    session. Written at most once per `SESSION_REFRESH_INTERVAL`, so a page load is
    usually a read.
    """
    now = now or utcnow()
    live = _live_session(session_hash(token), now)
    if live is None:
        return None
    session, _user = live
    lifetime = timedelta(days=get_settings().session_days)
    if session.expires_at - now > lifetime - SESSION_REFRESH_INTERVAL:
        return session.expires_at
    with write_session() as db:
        db.exec(
            update(AuthSession)
            .where(col(AuthSession.id) == session.id, col(AuthSession.revoked_at).is_(None))
            .values(expires_at=now + lifetime)
        )
    return now + lifetime


def sign_out(token: object) -> None:
    """Revoke this session token (the other sessions of the user stay)."""
    if not isinstance(token, str) or not token:
        return
    with write_session() as db:
        db.exec(
            update(AuthSession)
            .where(
                col(AuthSession.token_hash) == session_hash(token),
                col(AuthSession.revoked_at).is_(None),
            )
            .values(revoked_at=utcnow())
        )


def sign_out_everywhere(user_id: int) -> None:
    """Revoke every session of the user, and every API token (said on the page first)."""
    with write_session() as db:
        revoke_credentials(db, user_id, utcnow())


def revoke_credentials(
    db: Session, user_id: int, now: datetime, *, keep_session_hash: str = ""
) -> None:
    """End the user's sessions (but `keep_session_hash`) and API tokens, in `db`'s
    transaction: after a password change, a sign-out everywhere, a role change or a
    disable, nothing issued before it still works."""
    revoke_sessions(db, user_id, now, keep_session_hash=keep_session_hash)
    db.exec(
        update(ApiToken)
        .where(col(ApiToken.user_id) == user_id, col(ApiToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )


def revoke_sessions(
    db: Session, user_id: int, now: datetime, *, keep_session_hash: str = ""
) -> None:
    """End the user's sign-in sessions (but `keep_session_hash`), in `db`'s transaction."""
    db.exec(
        update(AuthSession)
        .where(
            col(AuthSession.user_id) == user_id,
            col(AuthSession.revoked_at).is_(None),
            col(AuthSession.token_hash) != keep_session_hash,
        )
        .values(revoked_at=now)
    )


def change_password(
    user_id: int,
    current_password: object,
    new_password: object,
    *,
    repeat: object | None = None,
    keep_session_hash: str = "",
) -> None:
    """Set a new password after checking the current one.

    Every other session of the account is signed out and every API token revoked (a
    password is changed when it may have leaked); the session whose hash is
    `keep_session_hash` stays signed in.
    """
    if not isinstance(current_password, str) or not current_password:
        raise InvalidInput("Enter your current password.", field="current_password")
    new_password = validate_new_password(new_password)
    if repeat is not None and repeat != new_password:
        raise InvalidInput("The two new passwords are not the same.", field="repeat")
    if new_password == current_password:
        raise InvalidInput(
            "Choose a new password that differs from the current one.", field="password"
        )
    confirm_password(user_id, current_password, field="current_password")
    new_hash = hash_password(new_password)
    with write_session() as db:
        user = db.get(User, user_id)
        assert user is not None
        user.password_hash = new_hash
        db.add(user)
        revoke_credentials(db, user_id, utcnow(), keep_session_hash=keep_session_hash)


def confirm_password(user_id: int, password: object, *, field: str = "password") -> None:
    """Check a signed-in user's password before a sensitive change (AuthError if wrong).

    Wrong passwords are throttled like failed sign-ins but counted apart from them,
    so guessing here does not pause the account's sign-in.
    """
    if not isinstance(password, str) or not password:
        raise InvalidInput("Enter your current password.", field=field)
    now = utcnow()
    with read_session() as db:
        user = db.get(User, user_id)
    if user is None:
        raise AuthError("Your current password is not right.")
    attempt = signin_throttle.begin_current_password_check(user_id, now=now)
    if not verify_password(user.password_hash, password):
        raise AuthError("Your current password is not right.")
    signin_throttle.forgive(attempt)


def account_by_email(email: object) -> CurrentUser | None:
    """The active account with this address (normalised), or None."""
    try:
        normalized = normalize_email(email)
    except InvalidInput:
        return None
    with read_session() as db:
        user = db.exec(select(User).where(User.email == normalized)).first()
    if user is None or user.id is None or not user.is_active:
        return None
    return CurrentUser(id=user.id, email=user.email, role=user.role)


@dataclass(frozen=True)
class AccountDetails:
    email: str
    created_at: datetime


def account_details(user_id: int) -> AccountDetails:
    with read_session() as db:
        user = db.get(User, user_id)
    if user is None:
        raise InvalidInput("No such account.")
    return AccountDetails(email=user.email, created_at=user.created_at)


def ensure_admin(email: object, password: object) -> bool:
    """Create the admin account, or make an existing account admin with this password.

    Returns True when a new account was created. An account whose role or password
    this changes is signed out everywhere (a role change ends its sessions).
    """
    normalized = normalize_email(email)
    password = validate_new_password(password)
    with read_session() as db:
        existing = db.exec(select(User).where(User.email == normalized)).first()
    keeps_password = existing is not None and verify_password(existing.password_hash, password)
    password_hash = None if keeps_password else hash_password(password)
    with write_session() as db:
        user = db.exec(select(User).where(User.email == normalized)).first()
        created = user is None
        if user is None:
            user = User(email=normalized, password_hash=password_hash or "")
        changed = user.role != Role.ADMIN.value or password_hash is not None
        if password_hash is not None:
            user.password_hash = password_hash
        user.role = Role.ADMIN.value
        user.is_active = True
        db.add(user)
        db.flush()
        if changed and not created and user.id is not None:
            revoke_sessions(db, user.id, utcnow())
        return created


def purge_stale_records(*, now: datetime | None = None) -> None:
    """Drop throttle events and sessions nobody can use any more."""
    now = now or utcnow()
    with write_session() as db:
        db.exec(
            delete(ThrottleEvent).where(col(ThrottleEvent.created_at) < now - timedelta(days=1))
        )
        db.exec(delete(AuthSession).where(col(AuthSession.expires_at) < now - timedelta(days=1)))
