"""The sign-in and sign-up pages' state.

The forms themselves post to /auth/signin and /auth/signup (api/session_routes.py),
so that the server sets the HttpOnly session cookie; nothing of them passes here.
"""

from __future__ import annotations

import reflex as rx

from studio_app.routes import safe_next_path
from studio_app.states.auth import AuthState


class SigninState(AuthState):
    @rx.event
    def open_form(self) -> rx.event.EventSpec | None:
        """on_load of /login and /signup: a signed-in visitor goes straight in."""
        if self._viewer() is not None:
            return rx.redirect(safe_next_path(self.router.url.query_parameters.get("next")))
        return None
