"""The sign-in and sign-up forms."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import reflex as rx

from studio_app.services import auth
from studio_app.services.errors import StudioError
from studio_app.states.auth import AuthState, safe_next_path


class SigninState(AuthState):
    form_error: str = ""
    error_field: str = ""
    working: bool = False

    def _client_address(self) -> str:
        return self.router.session.client_ip or "unknown"

    def _after_signin(self, result: auth.SignedIn) -> rx.event.EventSpec:
        self.session_token = result.token
        self.form_error = ""
        self.error_field = ""
        return rx.redirect(safe_next_path(self.router.url.query_parameters.get("next")))

    def _show(self, error: StudioError) -> None:
        self.form_error = error.message
        self.error_field = getattr(error, "field", None) or ""

    @rx.event
    def open_form(self) -> rx.event.EventSpec | None:
        """on_load of /login and /signup: a signed-in visitor goes straight in."""
        self.form_error = ""
        self.error_field = ""
        if self._viewer() is not None:
            return rx.redirect(safe_next_path(self.router.url.query_parameters.get("next")))
        return None

    async def _enter(
        self, action: Callable[..., auth.SignedIn], form_data: dict
    ) -> rx.event.EventSpec | None:
        """Run sign-in or sign-up off the event loop (password hashing is slow)."""
        try:
            result = await asyncio.to_thread(
                action,
                form_data.get("email"),
                form_data.get("password"),
                client_address=self._client_address(),
            )
        except StudioError as error:
            self._show(error)
            return None
        return self._after_signin(result)

    @rx.event
    async def sign_in(self, form_data: dict) -> rx.event.EventSpec | None:
        return await self._enter(auth.sign_in, form_data)

    @rx.event
    async def sign_up(self, form_data: dict) -> rx.event.EventSpec | None:
        if form_data.get("password") != form_data.get("password_confirm"):
            self.form_error = "The two passwords are not the same."
            self.error_field = "password_confirm"
            return None
        return await self._enter(auth.sign_up, form_data)
