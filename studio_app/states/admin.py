"""State of the Admin page."""

from __future__ import annotations

import reflex as rx

from studio_app.states.auth import AuthState


class AdminState(AuthState):
    loaded: bool = False

    @rx.event
    def load(self) -> None:
        self.loaded = self._viewer() is not None
