"""State of the admin tab's catalog sections (categories, templates) and the audit log."""

from __future__ import annotations

import reflex as rx

from studio_app.states.auth import AuthState


class AdminCatalogState(AuthState):
    loaded: bool = False

    @rx.event
    def load(self) -> None:
        self.loaded = self._admin() is not None
