"""The Account page's API-token handlers, called the way any browser can call them.

A signed-out caller changes nothing; a caller can only ever reach their own tokens
(the browser never sees token ids, and the service checks the owner anyway); the
secret of a new token is public state only until its dialog closes.
"""

from __future__ import annotations

import dataclasses

import pytest
from sqlmodel import select

from studio_app.models import ApiToken
from studio_app.services import api_tokens, auth
from studio_app.services.db import read_session
from studio_app.states.account import AccountState, TokenRow
from tests.factories import make_account
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


def _public_fields(state: AccountState) -> str:
    return str({name: getattr(state, name) for name in state.base_vars if not name.startswith("_")})


def test_create_shows_the_secret_once_and_closing_the_dialog_forgets_it() -> None:
    signed = make_account()
    state = _state(signed.token)
    state.load()
    assert state.tokens == []

    state.create_token({"token_name": "  Laptop script "})
    secret = state.new_token_secret
    assert secret.startswith("stu_") and state.new_token_name == "Laptop script"
    who = api_tokens.user_for_token(secret)
    assert who is not None and who.id == signed.user_id
    [row] = state.tokens
    assert (row.index, row.name, row.revoked, row.last_used) == (0, "Laptop script", "", "never")
    assert secret.startswith(row.prefix) and row.prefix != secret

    # A second submit while the secret is on screen does not replace it.
    state.create_token({"token_name": "double click"})
    assert state.new_token_secret == secret and len(state.tokens) == 1

    state.forget_new_token(True)  # Radix saying "still open" changes nothing
    assert state.new_token_secret == secret
    state.forget_new_token(False)
    assert state.new_token_secret == "" and state.new_token_name == ""
    assert secret not in _public_fields(state)


def test_no_ids_or_secrets_in_the_public_rows() -> None:
    signed = make_account()
    state = _state(signed.token)
    state.load()
    state.create_token({"token_name": "ci"})
    state.forget_new_token()
    assert [f.name for f in dataclasses.fields(TokenRow)] == [
        "index",
        "name",
        "prefix",
        "created",
        "last_used",
        "revoked",
    ]
    assert "user_id" not in _public_fields(state)


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
    state.create_token({"token_name": name})
    assert message in state.token_error
    assert state.new_token_secret == "" and state.tokens == []
    assert _tokens_in_db() == []


def test_signed_out_callers_create_and_revoke_nothing() -> None:
    owner = make_account()
    mine = api_tokens.create_token(auth.current_user(owner.token), "mine")

    visitor = _state("")
    visitor.create_token({"token_name": "sneaky"})
    assert "signed out" in visitor.token_error
    assert visitor.new_token_secret == ""
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
    state.create_token({"token_name": "keep"})
    state.forget_new_token()
    state.create_token({"token_name": "drop"})
    secret = state.new_token_secret
    state.forget_new_token()
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
    theirs = api_tokens.create_token(auth.current_user(owner.token), "theirs")
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
