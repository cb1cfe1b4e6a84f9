"""Accounts, sessions, throttling and the admin bootstrap."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from sqlmodel import func, select

from studio_app.models import AuthSession, User
from studio_app.services import auth, ledger
from studio_app.services.db import read_session, write_session
from studio_app.services.errors import InvalidInput
from studio_app.settings import PROJECT_ROOT, Settings, reload_settings
from tests.factories import PASSWORD, make_account

pytestmark = pytest.mark.usefixtures("migrated_db")


def _user_count() -> int:
    with read_session() as db:
        return db.exec(select(func.count()).select_from(User)).one()


def test_passwords_are_stored_as_argon2_hashes() -> None:
    signed = make_account(email="ana@example.com")
    with read_session() as db:
        user = db.get(User, signed.user_id)
    assert user.password_hash.startswith("$argon2")
    assert PASSWORD not in user.password_hash
    assert auth.verify_password(user.password_hash, PASSWORD)
    assert not auth.verify_password(user.password_hash, PASSWORD + "x")


def test_sign_up_grants_the_welcome_credits_once() -> None:
    signed = make_account()
    with read_session() as db:
        assert ledger.balance(db, signed.user_id) == 5
        lines = ledger.statement(db, signed.user_id)
    assert [(line.kind, line.reference) for line in lines] == [("grant", "Welcome credits")]


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("", PASSWORD, "Enter your email"),
        ("not-an-email", PASSWORD, "does not look like an email"),
        ("ok@example.com", "short", "at least 8 characters"),
        ("ok@example.com", "x" * 300, "at most 256"),
    ],
)
def test_bad_sign_up_input_is_refused_and_writes_nothing(
    email: str, password: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        auth.sign_up(email, password, client_address="a")
    assert _user_count() == 0


def test_an_email_can_only_have_one_account() -> None:
    make_account(email="Sam@Example.com")
    with pytest.raises(InvalidInput, match="already exists"):
        auth.sign_up("sam@example.com ", PASSWORD, client_address="b")
    assert _user_count() == 1


def test_wrong_password_is_refused_right_one_opens_a_session() -> None:
    make_account(email="kim@example.com")
    with pytest.raises(auth.AuthError, match="Wrong email or password"):
        auth.sign_in("kim@example.com", "wrong password", client_address="c")
    with pytest.raises(auth.AuthError):
        auth.sign_in("nobody@example.com", PASSWORD, client_address="c")
    signed = auth.sign_in("KIM@example.com", PASSWORD, client_address="c")
    viewer = auth.current_user(signed.token)
    assert viewer is not None
    assert (viewer.email, viewer.is_admin) == ("kim@example.com", False)


def test_tokens_are_stored_hashed() -> None:
    signed = make_account()
    with read_session() as db:
        stored = db.exec(select(AuthSession.token_hash)).all()
    assert signed.token not in stored
    assert len(stored) == 1


def test_failed_sign_ins_from_one_address_are_throttled_across_accounts() -> None:
    emails = [make_account().email for _ in range(5)]
    for email in emails:
        for attempt in range(4):
            with pytest.raises(auth.AuthError):
                auth.sign_in(email, f"guess {attempt}", client_address="one-address")
    victim = make_account(email="victim@example.com")
    with pytest.raises(auth.TooManyAttempts):
        auth.sign_in(victim.email, PASSWORD, client_address="one-address")
    assert auth.sign_in(victim.email, PASSWORD, client_address="other-address").token


def test_sign_ups_are_throttled_per_address() -> None:
    for _ in range(5):
        make_account(address="busy-address")
    with pytest.raises(auth.TooManyAttempts):
        make_account(address="busy-address")
    assert _user_count() == 5
    make_account(address="another-address")
    assert _user_count() == 6


def test_expired_sessions_are_refused() -> None:
    signed = make_account()
    with write_session() as db:
        session = db.exec(select(AuthSession)).one()
        session.expires_at = session.created_at - timedelta(seconds=1)
        db.add(session)
    assert auth.current_user(signed.token) is None


def test_sessions_last_the_configured_number_of_days(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_SESSION_DAYS", "2")
    reload_settings()
    make_account()
    with read_session() as db:
        session = db.exec(select(AuthSession)).one()
    assert session.expires_at - session.created_at == timedelta(days=2)


def test_sign_out_revokes_only_that_session() -> None:
    first = make_account(email="max@example.com")
    second = auth.sign_in("max@example.com", PASSWORD, client_address="d")
    auth.sign_out(first.token)
    assert auth.current_user(first.token) is None
    assert auth.current_user(second.token) is not None
    auth.sign_out_everywhere(second.user_id)
    assert auth.current_user(second.token) is None


def test_deactivated_users_lose_their_sessions_and_cannot_sign_in() -> None:
    signed = make_account(email="gone@example.com")
    with write_session() as db:
        user = db.get(User, signed.user_id)
        user.is_active = False
        db.add(user)
    assert auth.current_user(signed.token) is None
    with pytest.raises(auth.AuthError):
        auth.sign_in("gone@example.com", PASSWORD, client_address="e")


@pytest.mark.parametrize("token", ["", "nope", None, 12, "x" * 5000])
def test_garbage_tokens_identify_nobody(token: object) -> None:
    make_account()
    assert auth.current_user(token) is None


def test_change_password_needs_the_current_one() -> None:
    signed = make_account(email="pat@example.com")
    with pytest.raises(auth.AuthError):
        auth.change_password(signed.user_id, "not it", "a new password")
    auth.change_password(signed.user_id, PASSWORD, "a new password")
    with pytest.raises(auth.AuthError):
        auth.sign_in("pat@example.com", PASSWORD, client_address="f")
    assert auth.sign_in("pat@example.com", "a new password", client_address="f").token


def test_admin_bootstrap_from_the_environment(migrated_db: Settings) -> None:
    env = {
        "STUDIO_DATABASE_URL": migrated_db.database_url,
        "STUDIO_IMAGES_DIR": str(migrated_db.images_dir),
        "STUDIO_ADMIN_EMAIL": "boss@example.com",
        "STUDIO_ADMIN_PASSWORD": "admin password 1",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-m", "studio_app.cli", "setup"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Admin account boss@example.com created" in done.stdout
    signed = auth.sign_in("boss@example.com", "admin password 1", client_address="g")
    viewer = auth.current_user(signed.token)
    assert viewer is not None and viewer.is_admin
    again = subprocess.run(
        [sys.executable, "-m", "studio_app.cli", "setup"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "boss@example.com updated" in again.stdout
    assert _user_count() == 1


def test_an_existing_account_can_be_promoted_to_admin_and_is_signed_out_by_it() -> None:
    signed = make_account(email="promote@example.com")
    assert auth.ensure_admin("promote@example.com", "new admin password") is False
    assert auth.current_user(signed.token) is None  # a role change ends the old sessions
    again = auth.sign_in("promote@example.com", "new admin password")
    viewer = auth.current_user(again.token)
    assert viewer is not None and viewer.is_admin


def test_ensure_admin_again_with_the_same_password_keeps_the_admin_signed_in() -> None:
    auth.ensure_admin("steady@example.com", "the admin password")
    session = auth.sign_in("steady@example.com", "the admin password")
    assert auth.ensure_admin("steady@example.com", "the admin password") is False
    assert auth.current_user(session.token) is not None  # `make run` again changes nothing
    auth.ensure_admin("steady@example.com", "a new admin password")
    assert auth.current_user(session.token) is None
