"""The Account page's API-token handlers, called the way any browser can call them.

A signed-out caller changes nothing; a caller can only ever reach their own tokens
(the browser never sees token ids, and the service checks the owner anyway); making
one needs the password; the secret of a new token is never state (public or backend:
both are pickled) but one `set_value` event into the dialog's field.
"""

from __future__ import annotations

import dataclasses

import pytest
from sqlmodel import select

from studio_app.models import ApiToken
from studio_app.services import api_tokens, auth
from studio_app.services.db import read_session
from studio_app.states.account import NEW_TOKEN_SECRET_FIELD, AccountState, TokenRow
from tests import aio
from tests.factories import PASSWORD, make_account
from tests.states import state_for

pytestmark = pytest.mark.usefixtures("migrated_db")


def _state(token: str) -> AccountState:
    return state_for(AccountState, token)


def _tokens_in_db() -> list[tuple[str, bool]]:
    with read_session() as db:
        rows = db.exec(select(ApiToken).order_by(ApiToken.id)).all()
    return [(row.name, row.revoked_at is not None) for row in rows]


def _toast_text(spec: object) -> str:
    return str(spec)


def _pickled(state: AccountState) -> bytes:
    """The state as Reflex stores it (disk or Redis), backend vars included."""
    return state._serialize()


def _create(state: AccountState, name: object, *, password: object = PASSWORD, expires="90"):
    """Submit the dialog's form; returns the events the handler sent to the browser."""
    form = {"token_name": name, "token_password": password, "token_expires": expires}

    async def run() -> list:
        sent: list = []
        async for item in state.create_token(form):
            sent.extend(item if isinstance(item, list) else [item])
        return sent

    return aio.run(run())


def _secret_sent(events: list) -> str:
    """The value a `set_value` event writes into the new token's field ("" for none)."""
    for spec in events:
        text = str(spec)
        if "_set_value" in text and NEW_TOKEN_SECRET_FIELD in text and "stu_" in text:
            return "stu_" + text.split("stu_", 1)[1].split('"', 1)[0].split("'", 1)[0]
    return ""


def test_create_sends_the_secret_once_and_keeps_it_nowhere() -> None:
    signed = make_account()
    state = _state(signed.token)
    state.load()
    assert state.tokens == []

    state.open_token_dialog()
    secret = _secret_sent(_create(state, "  Laptop script "))
    assert secret.startswith("stu_") and state.new_token_name == "Laptop script"
    who = api_tokens.user_for_token(secret)
    assert who is not None and who.id == signed.user_id
    [row] = state.tokens
    assert (row.index, row.name, row.revoked, row.last_used) == (0, "Laptop script", "", "never")
    assert secret.startswith(row.prefix) and row.prefix != secret
    assert secret.encode() not in _pickled(state)

    # A second submit while the secret is on screen makes no second token.
    assert _secret_sent(_create(state, "double click")) == ""
    assert len(state.tokens) == 1 and _tokens_in_db() == [("Laptop script", False)]

    state.token_dialog_changed(True)  # Radix saying "still open" changes nothing
    assert state.new_token_name == "Laptop script"
    state.token_dialog_changed(False)
    assert state.new_token_name == "" and not state.token_dialog_open


def test_a_token_needs_the_password_and_a_lifetime() -> None:
    signed = make_account()
    state = _state(signed.token)
    state.load()
    assert _secret_sent(_create(state, "ci", password="not my password")) == ""
    assert "password is not right" in state.token_error
    assert _secret_sent(_create(state, "ci", password="")) == ""
    assert "Enter your current password" in state.token_error
    assert _secret_sent(_create(state, "ci", expires="forever")) == ""
    assert "30, 90 or 365 days, or never" in state.token_error
    assert _tokens_in_db() == []

    assert _secret_sent(_create(state, "ci", expires="never"))
    assert state.tokens[0].expires == "never"


def test_no_ids_or_secrets_in_the_public_rows() -> None:
    signed = make_account()
    state = _state(signed.token)
    state.load()
    _create(state, "ci")
    state.token_dialog_changed()
    assert [f.name for f in dataclasses.fields(TokenRow)] == [
        "index",
        "name",
        "prefix",
        "created",
        "last_used",
        "revoked",
        "expires",
    ]
    assert "user_id" not in str({name: getattr(state, name) for name in state.base_vars})


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Write a token name first."),
        ("   ", "Write a token name first."),
        ("x" * 81, "at most 80 characters"),
        (None, "Write a token name first."),
    ],
)
def test_bad_names_are_explained_inline_and_make_nothing(name: object, message: str) -> None:
    state = _state(make_account().token)
    state.load()
    assert _secret_sent(_create(state, name)) == ""
    assert message in state.token_error
    assert state.tokens == []
    assert _tokens_in_db() == []


def test_signed_out_callers_create_and_revoke_nothing() -> None:
    owner = make_account()
    mine = api_tokens.create_token(auth.current_user(owner.token), "mine", password=PASSWORD)

    visitor = _state("")
    assert _secret_sent(_create(visitor, "sneaky")) == ""
    assert "signed out" in visitor.token_error
    # Even with a (forged) server-side list pointing at the owner's token.
    visitor._token_ids = [mine.view.id]
    visitor.revoke_token(0)
    expired = _state("not-a-real-session-token")
    expired._token_ids = [mine.view.id]
    expired.revoke_token(0)

    assert _tokens_in_db() == [("mine", False)]
    assert api_tokens.user_for_token(mine.secret) is not None


def test_revoke_by_row_then_the_row_says_revoked() -> None:
    signed = make_account()
    state = _state(signed.token)
    state.load()
    _create(state, "keep")
    state.token_dialog_changed()
    secret = _secret_sent(_create(state, "drop"))
    state.token_dialog_changed()
    assert [row.name for row in state.tokens] == ["drop", "keep"]

    spec = state.revoke_token(0)
    assert "is revoked" in _toast_text(spec)
    assert [(row.name, row.revoked != "") for row in state.tokens] == [
        ("keep", False),
        ("drop", True),
    ]
    assert state.active_token_count == 1
    assert api_tokens.user_for_token(secret) is None


def test_nobody_reaches_another_user_s_token() -> None:
    owner, stranger = make_account(), make_account()
    theirs = api_tokens.create_token(auth.current_user(owner.token), "theirs", password=PASSWORD)
    state = _state(stranger.token)
    state.load()
    assert state.tokens == []

    # Row numbers the stranger's page never showed are refused, and say so.
    for forged in (0, 5, -1, theirs.view.id):
        assert "No such token" in _toast_text(state.revoke_token(forged))
    # Were a real id of someone else's token ever to reach the handler, the service refuses it.
    state._token_ids = [theirs.view.id]
    assert "No such token" in _toast_text(state.revoke_token(0))

    assert _tokens_in_db() == [("theirs", False)]
    assert api_tokens.user_for_token(theirs.secret) is not None
