"""State of the Account page: who you are, your password, your sessions, your API tokens.

API tokens reach the browser without their database ids: each row carries its
position in `_token_ids`, which stays on the server. A new token's secret is
public state only while its dialog is open, and is cleared when it closes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import reflex as rx

from studio_app.services import api_tokens, auth
from studio_app.services.auth import CurrentUser
from studio_app.services.errors import StudioError
from studio_app.services.statement import format_when
from studio_app.states.auth import AuthState

_PASSWORD_FIELDS = ("current_password", "new_password", "repeat_password")
TOKEN_NAME_FIELD = "token_name"
TOKEN_NAME_LIMIT = 80
_SIGNED_OUT = "You are signed out. Sign in again to manage your API tokens."


@dataclass
class TokenRow:
    """One API token as its owner sees it (no id, no secret)."""

    index: int = 0
    name: str = ""
    prefix: str = ""
    created: str = ""
    last_used: str = ""
    revoked: str = ""


class AccountState(AuthState):
    member_since: str = ""
    password_error: str = ""
    changing_password: bool = False
    loaded: bool = False
    # API tokens
    tokens: list[TokenRow] = []
    _token_ids: list[int] = []
    token_error: str = ""
    # The new token, shown once: set by create_token, cleared by forget_new_token.
    new_token_name: str = ""
    new_token_secret: str = ""

    @rx.event
    def load(self) -> None:
        viewer = self._viewer()
        if viewer is None:
            return
        self.member_since = format_when(auth.account_details(viewer.id).created_at)
        self.password_error = ""
        self.changing_password = False
        self.token_error = ""
        self._clear_new_token()
        self._reload_tokens(viewer)
        self.loaded = True

    def _reload_tokens(self, viewer: CurrentUser) -> None:
        views = api_tokens.list_tokens(viewer, include_revoked=True)
        self._token_ids = [view.id for view in views]
        self.tokens = [
            TokenRow(
                index=index,
                name=view.name,
                prefix=view.prefix,
                created=view.created_at,
                last_used=view.last_used_at,
                revoked=view.revoked_at,
            )
            for index, view in enumerate(views)
        ]

    def _clear_new_token(self) -> None:
        self.new_token_secret = ""
        self.new_token_name = ""

    @rx.var
    def active_token_count(self) -> int:
        return sum(1 for row in self.tokens if row.revoked == "")

    @rx.event
    def create_token(self, form_data: dict):  # type: ignore[no-untyped-def]
        viewer = self._viewer()
        if viewer is None:
            self.token_error = _SIGNED_OUT
            return
        if self.new_token_secret:
            # A second submit while the new token is on screen (a double click): its
            # secret would replace the first one before anyone could copy it.
            return
        self.token_error = ""
        try:
            made = api_tokens.create_token(viewer, form_data.get(TOKEN_NAME_FIELD))
        except StudioError as error:
            self.token_error = error.message
            return
        self._reload_tokens(viewer)
        self.new_token_name = made.view.name
        self.new_token_secret = made.secret
        return rx.set_value(TOKEN_NAME_FIELD, "")

    @rx.event
    def forget_new_token(self, still_open: bool = False) -> None:
        """The secret's dialog closed (or the page went away): the browser forgets it."""
        if still_open is not True:
            self._clear_new_token()

    @rx.event
    def revoke_token(self, index: int):  # type: ignore[no-untyped-def]
        viewer = self._viewer()
        if viewer is None:
            return rx.toast.error(_SIGNED_OUT)
        ids = self._token_ids
        if type(index) is not int or not 0 <= index < len(ids):
            return rx.toast.error("No such token. Reload the page and try again.")
        name = self.tokens[index].name if index < len(self.tokens) else "The token"
        try:
            api_tokens.revoke_token(viewer, ids[index])
        except StudioError as error:
            self._reload_tokens(viewer)
            return rx.toast.error(error.message)
        self._reload_tokens(viewer)
        return rx.toast.success(f"“{name}” is revoked: requests that use it are refused now.")

    @rx.event
    async def change_password(self, form_data: dict):  # type: ignore[no-untyped-def]
        viewer = self._viewer()
        if viewer is None:
            yield rx.redirect("/login")
            return
        self.changing_password = True
        self.password_error = ""
        yield
        try:
            # Password hashing is slow: keep the event loop free for others.
            await asyncio.to_thread(
                auth.change_password,
                viewer.id,
                form_data.get("current_password"),
                form_data.get("new_password"),
                repeat=form_data.get("repeat_password"),
                keep_token=self.session_token,
            )
        except StudioError as error:
            self.changing_password = False
            self.password_error = error.message
            return
        self.changing_password = False
        yield [rx.set_value(name, "") for name in _PASSWORD_FIELDS]
        yield rx.toast.success(
            "Password changed. Your other sessions were signed out; this one stays signed in."
        )

    @rx.event
    def sign_out_everywhere(self) -> rx.event.EventSpec:
        viewer = self._viewer()
        if viewer is not None:
            auth.sign_out_everywhere(viewer.id)
        self.session_token = ""
        self._forget_user()
        return rx.redirect("/login")
