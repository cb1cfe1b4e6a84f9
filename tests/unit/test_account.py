"""Account rules: changing the password, what it does to other sessions, account details."""

from __future__ import annotations

import pytest

from studio_app.services import auth
from studio_app.services.errors import InvalidInput
from tests.factories import PASSWORD, make_account

pytestmark = pytest.mark.usefixtures("migrated_db")
NEW = "a brand new password"


def test_change_password_keeps_this_session_and_signs_out_the_others() -> None:
    here = make_account(email="kim@example.com")
    elsewhere = auth.sign_in("kim@example.com", PASSWORD, client_address="phone")

    auth.change_password(
        here.user_id, PASSWORD, NEW, repeat=NEW, keep_session_hash=auth.session_hash(here.token)
    )

    assert auth.current_user(here.token) is not None
    assert auth.current_user(elsewhere.token) is None
    with pytest.raises(auth.AuthError):
        auth.sign_in("kim@example.com", PASSWORD, client_address="x")
    assert auth.sign_in("kim@example.com", NEW, client_address="x").token


@pytest.mark.parametrize(
    ("current", "new", "repeat", "message"),
    [
        ("", NEW, NEW, "Enter your current password."),
        (None, NEW, NEW, "Enter your current password."),
        (PASSWORD, "short", "short", "at least 8 characters"),
        (PASSWORD, NEW, NEW + "x", "The two new passwords are not the same."),
        (PASSWORD, PASSWORD, PASSWORD, "differs from the current one"),
    ],
)
def test_bad_password_changes_explain_and_change_nothing(
    current: object, new: object, repeat: object, message: str
) -> None:
    signed = make_account(email="lee@example.com")
    with pytest.raises(InvalidInput, match=message):
        auth.change_password(
            signed.user_id,
            current,
            new,
            repeat=repeat,
            keep_session_hash=auth.session_hash(signed.token),
        )
    assert auth.sign_in("lee@example.com", PASSWORD, client_address="y").token


def test_a_wrong_current_password_changes_nothing_and_signs_nobody_out() -> None:
    signed = make_account(email="sam@example.com")
    with pytest.raises(auth.AuthError, match="current password is not right"):
        auth.change_password(signed.user_id, "not my password", NEW, repeat=NEW)
    assert auth.current_user(signed.token) is not None
    assert auth.sign_in("sam@example.com", PASSWORD, client_address="z").token


def test_sign_out_everywhere_ends_every_session_of_that_user_only() -> None:
    mine = make_account(email="jo@example.com")
    my_phone = auth.sign_in("jo@example.com", PASSWORD, client_address="p")
    theirs = make_account(email="other@example.com")
    auth.sign_out_everywhere(mine.user_id)
    assert auth.current_user(mine.token) is None
    assert auth.current_user(my_phone.token) is None
    assert auth.current_user(theirs.token) is not None


def test_account_details_show_email_and_creation_time() -> None:
    signed = make_account(email="val@example.com")
    details = auth.account_details(signed.user_id)
    assert details.email == "val@example.com"
    assert details.created_at.tzinfo is not None
    with pytest.raises(InvalidInput):
        auth.account_details(999_999)
