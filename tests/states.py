"""Reflex states in unit tests: a state as a browser's session would have it."""

from __future__ import annotations

from typing import TypeVar

import reflex as rx

StateT = TypeVar("StateT", bound=rx.State)


def state_for(cls: type[StateT], token: str) -> StateT:
    """A fresh `cls` in its own state tree, signed in with session `token` (if it has one)."""
    root = rx.State(_reflex_internal_init=True)  # type: ignore[call-arg]
    state = root.get_substate(cls.get_full_name().split(".")[1:])
    if "session_token" in state.vars:  # the public catalog page has no session
        state.session_token = token
    return state  # type: ignore[return-value]
