"""State of the Account page: who you are, your password, your sessions, your API tokens.

API tokens reach the browser without their database ids: each row carries its
position in `_token_ids`, which stays on the server. A new token's secret is never
state (public or backend, both are pickled): it goes to the browser once, as an
`rx.set_value` event into the dialog's read-only field, and is gone when the dialog
closes. Signing out everywhere is an HTTP call (assets/studio_session.js), so that
the server can clear the cookie.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import reflex as rx

from studio_app.routes import LOGIN
from studio_app.services import api_tokens, auth, profiles
from studio_app.services.auth import CurrentUser
from studio_app.services.errors import StudioError
from studio_app.services.statement import format_when
from studio_app.states.auth import AuthState

_PASSWORD_FIELDS = ("current_password", "new_password", "repeat_password")
TOKEN_NAME_FIELD = "token_name"
TOKEN_EXPIRY_FIELD = "token_expires"
TOKEN_PASSWORD_FIELD = "token_password"
# The read-only field the new secret is written into (never a state var).
NEW_TOKEN_SECRET_FIELD = "new_token_secret"
TOKEN_NAME_LIMIT = 80
# The "Expires" choices as (form value, label).
TOKEN_LIFETIMES = [
    (api_tokens.lifetime_name(days), f"{days} days" if days else "Never")
    for days in api_tokens.LIFETIME_CHOICES
]
DEFAULT_TOKEN_LIFETIME = api_tokens.lifetime_name(api_tokens.DEFAULT_LIFETIME_DAYS)
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
    expires: str = ""


class AccountState(AuthState):
    member_since: str = ""
    # The public name (services/profiles.py): "" until chosen.
    display_name: str = ""
    name_error: str = ""
    saving_name: bool = False
    password_error: str = ""
    changing_password: bool = False
    loaded: bool = False
    # API tokens
    tokens: rx.Field[list[TokenRow]] = rx.field(default_factory=list)
    _token_ids: list[int] = []
    token_error: str = ""
    # The "Create token" dialog: open, and (once made) the new token's name.
    token_dialog_open: bool = False
    creating_token: bool = False
    new_token_name: str = ""

    @rx.event
    def load(self) -> None:
        viewer = self._viewer()
        if viewer is None:
            return
        self.member_since = format_when(auth.account_details(viewer.id).created_at)
        self.display_name = profiles.profile_of(viewer.id).display_name
        self.name_error = ""
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
                expires=view.expires,
            )
            for index, view in enumerate(views)
        ]

    def _clear_new_token(self) -> None:
        self.token_dialog_open = False
        self.creating_token = False
        self.new_token_name = ""
        self.token_error = ""

    @rx.var
    def active_token_count(self) -> int:
        return sum(1 for row in self.tokens if row.revoked == "")

    @rx.event
    def open_token_dialog(self) -> None:
        self._clear_new_token()
        self.token_dialog_open = True

    @rx.event
    def token_dialog_changed(self, still_open: bool = False) -> None:
        """The dialog closed (or the page went away): its field, and the secret, go too."""
        if still_open is not True:
            self._clear_new_token()

    @rx.event
    async def create_token(
        self, form_data: dict
    ) -> AsyncIterator[rx.event.EventSpec | list[rx.event.EventSpec] | None]:
        viewer = self._viewer()
        if viewer is None:
            self.token_error = _SIGNED_OUT
            return
        if self.new_token_name or self.creating_token:
            # A second submit while the new token is on screen (a double click): its
            # secret would replace the first one before anyone could copy it.
            return
        self.token_error = ""
        self.creating_token = True
        yield
        try:
            lifetime = api_tokens.parse_lifetime(form_data.get(TOKEN_EXPIRY_FIELD))
            # The password check is slow (argon2): off the event loop.
            made = await asyncio.to_thread(
                api_tokens.create_token,
                viewer,
                form_data.get(TOKEN_NAME_FIELD),
                password=form_data.get(TOKEN_PASSWORD_FIELD),
                lifetime_days=lifetime,
            )
        except StudioError as error:
            self.creating_token = False
            self.token_error = error.message
            yield rx.set_value(TOKEN_PASSWORD_FIELD, "")
            return
        self.creating_token = False
        self._reload_tokens(viewer)
        self.new_token_name = made.view.name
        yield [
            rx.set_value(TOKEN_PASSWORD_FIELD, ""),
            rx.set_value(NEW_TOKEN_SECRET_FIELD, made.secret),
        ]

    @rx.event
    def revoke_token(self, index: int) -> rx.event.EventSpec:
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
    async def save_display_name(self, form_data: dict) -> AsyncIterator[rx.event.EventSpec | None]:
        viewer = self._viewer()
        if viewer is None:
            yield rx.redirect(LOGIN)
            return
        self.saving_name = True
        self.name_error = ""
        yield
        try:
            profile = await asyncio.to_thread(
                profiles.set_display_name, viewer, form_data.get("display_name")
            )
        except StudioError as error:
            self.saving_name = False
            self.name_error = error.message
            return
        self.saving_name = False
        self.display_name = profile.display_name
        yield rx.toast.success(f"You appear as “{profile.display_name}” on what you publish.")

    @rx.event
    async def change_password(
        self, form_data: dict
    ) -> AsyncIterator[rx.event.EventSpec | list[rx.event.EventSpec] | None]:
        viewer = self._viewer()
        if viewer is None:
            yield rx.redirect(LOGIN)
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
                keep_session_hash=self._session_hash(),
            )
        except StudioError as error:
            self.changing_password = False
            self.password_error = error.message
            return
        self.changing_password = False
        yield [rx.set_value(name, "") for name in _PASSWORD_FIELDS]
        self._reload_tokens(viewer)
        yield rx.toast.success(
            "Password changed. Your other sessions were signed out and your API tokens "
            "revoked; this session stays signed in."
        )
