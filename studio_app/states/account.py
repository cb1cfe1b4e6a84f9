"""State of the Account page: who you are, your password, your sessions."""

from __future__ import annotations

import asyncio

import reflex as rx

from studio_app.services import auth
from studio_app.services.errors import StudioError
from studio_app.services.statement import format_when
from studio_app.states.auth import AuthState

_PASSWORD_FIELDS = ("current_password", "new_password", "repeat_password")


class AccountState(AuthState):
    member_since: str = ""
    password_error: str = ""
    changing_password: bool = False
    loaded: bool = False

    @rx.event
    def load(self) -> None:
        viewer = self._viewer()
        if viewer is None:
            return
        self.member_since = format_when(auth.account_details(viewer.id).created_at)
        self.password_error = ""
        self.changing_password = False
        self.loaded = True

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
