"""Who is signed in, as the browser may know it: an email, a role flag, credits.

The browser holds its own session token in a cookie; every handler resolves
it to a user on the server (the user's id never leaves the server).
"""

from __future__ import annotations

import reflex as rx

from studio_app.services import auth, ledger
from studio_app.services.auth import CurrentUser
from studio_app.services.db import read_session
from studio_app.settings import get_settings

_SESSION_MAX_AGE = get_settings().session_days * 86400


def safe_next_path(candidate: object) -> str:
    """Only same-site paths are allowed as a place to return to after signing in."""
    if (
        isinstance(candidate, str)
        and candidate.startswith("/")
        and not candidate.startswith("//")
        and "\\" not in candidate
        and not candidate.startswith(("/login", "/signup"))
    ):
        return candidate
    return "/"


class AuthState(rx.State):
    session_token: str = rx.Cookie("", name=auth.SESSION_COOKIE, max_age=_SESSION_MAX_AGE)
    email: str = ""
    is_admin: bool = False
    credits_available: int = 0
    credits_held: int = 0

    def _viewer(self) -> CurrentUser | None:
        return auth.current_user(self.session_token)

    def _forget_user(self) -> None:
        self.email = ""
        self.is_admin = False
        self.credits_available = 0
        self.credits_held = 0

    def _load_user(self, viewer: CurrentUser) -> None:
        self.email = viewer.email
        self.is_admin = viewer.is_admin
        self._refresh_credits(viewer)

    def _refresh_credits(self, viewer: CurrentUser) -> None:
        with read_session() as db:
            summary = ledger.summary(db, viewer.id)
        self.credits_available = summary.available
        self.credits_held = summary.held

    @rx.var
    def signed_in(self) -> bool:
        return self.email != ""

    @rx.event
    def require_user(self) -> rx.event.EventSpec | None:
        """on_load guard of every private page: unknown sessions go to sign-in."""
        viewer = self._viewer()
        if viewer is None:
            return self._send_to_signin()
        self._load_user(viewer)
        return None

    def _send_to_signin(self) -> rx.event.EventSpec:
        self._forget_user()
        target = safe_next_path(self.router.url.path)
        query = "" if target == "/" else f"?next={target}"
        return rx.redirect(f"/login{query}")

    def _admin(self) -> CurrentUser | None:
        """The caller if they are a signed-in admin, else None: every admin handler's guard."""
        viewer = self._viewer()
        return viewer if viewer is not None and viewer.is_admin else None

    @rx.event
    def require_admin(self) -> rx.event.EventSpec | None:
        """on_load guard of the admin tab: others are sent to sign-in or to the studio."""
        viewer = self._viewer()
        if viewer is None:
            return self._send_to_signin()
        self._load_user(viewer)
        if not viewer.is_admin:
            return rx.redirect("/")
        return None

    @rx.event
    def sign_out(self) -> rx.event.EventSpec:
        auth.sign_out(self.session_token)
        self.session_token = ""
        self._forget_user()
        return rx.redirect("/login")
