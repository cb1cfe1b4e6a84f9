"""Personal API tokens: shown once, stored hashed, owner-only, revocable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from studio_app.clock import utcnow
from studio_app.models import ApiToken, User
from studio_app.services import api_tokens, auth
from studio_app.services.db import read_session, write_session
from studio_app.services.errors import InvalidInput, NotFound
from tests.factories import PASSWORD, make_account

pytestmark = pytest.mark.usefixtures("migrated_db")


def _viewer(email: str | None = None) -> auth.CurrentUser:
    signed = make_account(email=email)
    viewer = auth.current_user(signed.token)
    assert viewer is not None
    return viewer


def test_a_new_token_identifies_its_owner_and_is_stored_only_hashed() -> None:
    owner = _viewer("owner@example.com")
    made = api_tokens.create_token(owner, "  Deploy script ", password=PASSWORD)
    assert made.secret.startswith("stu_") and len(made.secret) > 40
    assert made.view.name == "Deploy script"
    assert made.secret.startswith(made.view.prefix)
    assert made.view.last_used_at == "never"

    who = api_tokens.user_for_token(made.secret)
    assert who is not None and (who.id, who.email) == (owner.id, "owner@example.com")
    with read_session() as db:
        stored = db.exec(select(ApiToken)).one()
    assert made.secret not in (stored.token_hash, stored.prefix)
    assert stored.last_used_at is not None
    assert [t.name for t in api_tokens.list_tokens(owner)] == ["Deploy script"]


def test_revoked_tokens_identify_nobody_and_leave_the_list() -> None:
    owner = _viewer()
    keep = api_tokens.create_token(owner, "keep", password=PASSWORD)
    drop = api_tokens.create_token(owner, "drop", password=PASSWORD)
    api_tokens.revoke_token(owner, drop.view.id)
    assert api_tokens.user_for_token(drop.secret) is None
    assert api_tokens.user_for_token(keep.secret) is not None
    assert [t.name for t in api_tokens.list_tokens(owner)] == ["keep"]
    with pytest.raises(NotFound):
        api_tokens.revoke_token(owner, drop.view.id)


def test_nobody_can_see_or_revoke_another_users_token() -> None:
    owner, stranger = _viewer(), _viewer()
    made = api_tokens.create_token(owner, "mine", password=PASSWORD)
    assert api_tokens.list_tokens(stranger) == []
    with pytest.raises(NotFound):
        api_tokens.revoke_token(stranger, made.view.id)
    assert api_tokens.user_for_token(made.secret) is not None


def test_a_disabled_account_s_tokens_stop_working() -> None:
    owner = _viewer()
    made = api_tokens.create_token(owner, "ci", password=PASSWORD)
    with write_session() as db:
        user = db.get(User, owner.id)
        user.is_active = False
        db.add(user)
    assert api_tokens.user_for_token(made.secret) is None


@pytest.mark.parametrize(
    "secret", [None, "", "stu_", "stu_not-a-real-token", "Bearer stu_x", 42, "stu_" + "x" * 500]
)
def test_garbage_identifies_nobody(secret: object) -> None:
    api_tokens.create_token(_viewer(), "real", password=PASSWORD)
    assert api_tokens.user_for_token(secret) is None


@pytest.mark.parametrize("name", ["", "   ", "x" * 81, "bell\x07", None, 7])
def test_bad_names_are_refused_and_nothing_is_written(name: object) -> None:
    owner = _viewer()
    with pytest.raises(InvalidInput):
        api_tokens.create_token(owner, name, password=PASSWORD)
    assert api_tokens.list_tokens(owner) == []


def test_at_most_twenty_active_tokens() -> None:
    owner = _viewer()
    made = [api_tokens.create_token(owner, f"t{i}", password=PASSWORD) for i in range(20)]
    with pytest.raises(InvalidInput, match="at most 20"):
        api_tokens.create_token(owner, "one more", password=PASSWORD)
    api_tokens.revoke_token(owner, made[0].view.id)
    assert api_tokens.create_token(owner, "one more", password=PASSWORD).secret


def test_the_owner_s_full_list_shows_revoked_tokens_after_the_working_ones() -> None:
    owner = _viewer()
    old = api_tokens.create_token(owner, "old", password=PASSWORD)
    api_tokens.create_token(owner, "current", password=PASSWORD)
    api_tokens.revoke_token(owner, old.view.id)

    listed = api_tokens.list_tokens(owner, include_revoked=True)
    assert [(t.name, t.revoked_at != "") for t in listed] == [("current", False), ("old", True)]
    assert [t.name for t in api_tokens.list_tokens(owner)] == ["current"]
    assert api_tokens.list_tokens(_viewer(), include_revoked=True) == []


def test_long_revoked_tokens_leave_the_full_list() -> None:
    owner = _viewer()
    made = api_tokens.create_token(owner, "ancient", password=PASSWORD)
    with write_session() as db:
        token = db.get(ApiToken, made.view.id)
        token.revoked_at = utcnow() - api_tokens.REVOKED_SHOWN_FOR - timedelta(minutes=1)
        db.add(token)
    assert api_tokens.list_tokens(owner, include_revoked=True) == []


def test_a_password_change_revokes_every_token_and_keeps_this_session() -> None:
    signed = make_account()
    owner = auth.current_user(signed.token)
    assert owner is not None
    made = api_tokens.create_token(owner, "laptop", password=PASSWORD)
    auth.change_password(
        owner.id,
        PASSWORD,
        "a brand new password",
        keep_session_hash=auth.session_hash(signed.token),
    )
    assert api_tokens.user_for_token(made.secret) is None
    assert auth.current_user(signed.token) is not None
    [row] = api_tokens.list_tokens(owner, include_revoked=True)
    assert row.revoked_at != ""


def test_disabling_an_account_revokes_its_tokens_for_good() -> None:
    from studio_app.services import admin_users

    auth.ensure_admin("root@example.com", PASSWORD)
    admin = auth.current_user(auth.sign_in("root@example.com", PASSWORD).token)
    signed = make_account()
    owner = auth.current_user(signed.token)
    made = api_tokens.create_token(owner, "ci", password=PASSWORD)
    admin_users.set_active(admin, owner.id, False)
    admin_users.set_active(admin, owner.id, True)
    assert api_tokens.user_for_token(made.secret) is None
    assert auth.current_user(signed.token) is None


def test_tokens_expire_after_the_lifetime_chosen() -> None:
    owner = _viewer()
    short = api_tokens.create_token(owner, "month", password=PASSWORD, lifetime_days=30)
    forever = api_tokens.create_token(owner, "forever", password=PASSWORD, lifetime_days=None)
    with write_session() as db:
        row = db.exec(select(ApiToken).where(ApiToken.name == "month")).one()
        assert row.expires_at is not None
        assert timedelta(days=29) < row.expires_at - utcnow() <= timedelta(days=30)
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.add(row)
    assert api_tokens.user_for_token(short.secret) is None
    assert api_tokens.user_for_token(forever.secret) is not None
    expiries = {view.name: view.expires for view in api_tokens.list_tokens(owner)}
    assert expiries["forever"] == "never" and expiries["month"].startswith("expired ")


def test_making_a_token_asks_for_the_password_and_a_known_lifetime() -> None:
    owner = _viewer()
    with pytest.raises(auth.AuthError):
        api_tokens.create_token(owner, "x", password="not the password")
    with pytest.raises(InvalidInput):
        api_tokens.create_token(owner, "x", password=PASSWORD, lifetime_days=7)
    assert api_tokens.parse_lifetime("never") is None
    assert api_tokens.parse_lifetime(" 365 ") == 365
    for bad in ("7", "", None, 30, "forever"):
        with pytest.raises(InvalidInput):
            api_tokens.parse_lifetime(bad)
    assert api_tokens.list_tokens(owner) == []
