"""Reflex states in unit tests: a state as a browser's session would have it."""

from __future__ import annotations

from typing import TypeVar

import reflex as rx
from reflex.istate.data import HeaderData

from studio_app.services import auth

StateT = TypeVar("StateT", bound=rx.State)


def websocket_cookie(token: str) -> str:
    """The Cookie header a websocket of session `token` reaches Reflex with
    (api/session_cookie.py puts the session's hash there)."""
    token_hash = auth.session_hash(token)
    return f"{auth.SESSION_HASH_COOKIE}={token_hash}" if token_hash else ""


def connect_as(state: rx.State, token: str) -> None:
    """Make `state`'s events arrive over a websocket of session `token` ("" for none)."""
    root = state._get_root_state()
    root.rx_router_headers = HeaderData(cookie=websocket_cookie(token))


def state_for(cls: type[StateT], token: str) -> StateT:
    """A fresh `cls` in its own state tree, its events sent with session `token`."""
    root = rx.State(_reflex_internal_init=True)  # type: ignore[call-arg]
    state = root.get_substate(cls.get_full_name().split(".")[1:])
    connect_as(state, token)
    if hasattr(state, "_bound_session"):  # the public catalog page has no session
        state._bound_session = auth.session_hash(token)
    return state  # type: ignore[return-value]
