"""Who is signed in, as the browser may know it: an email, a role flag, credits.

The browser holds its session only in an HttpOnly cookie that the server sets
(api/session_routes.py). Each event is authenticated from the cookie of the
websocket it came over (its hash, api/session_cookie.py), never from a value
held in state: a second socket that reuses a tab's id without the cookie is
nobody. The user's id never leaves the server.
"""

from __future__ import annotations

import reflex as rx

from studio_app.routes import LOGIN, STUDIO, safe_next_path
from studio_app.services import auth, ledger
from studio_app.services.auth import CurrentUser


class AuthState(rx.State):
    email: str = ""
    is_admin: bool = False
    credits_available: int = 0
    credits_held: int = 0
    # The session (its hash) this tab's states hold the data of: see session_guard.py.
    _bound_session: str = ""

    def _session_hash(self) -> str:
        """The hash of the session cookie that this event's websocket carried."""
        return auth.session_hash_from_cookie_header(self.router.headers.cookie)

    def _viewer(self) -> CurrentUser | None:
        return auth.user_for_session_hash(self._session_hash())

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
        self._set_credits(ledger.credit_summary(viewer.id))

    def _set_credits(self, summary: ledger.CreditSummary) -> None:
        self.credits_available = summary.available
        self.credits_held = summary.held

    def _still_bound_to(self, session: str) -> bool:
        """For background tasks: this tab still belongs to the session that started them
        (another user signing in on the tab must not receive their results)."""
        return self._bound_session == session and self._session_hash() == session

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

    @rx.event
    def look_up_user(self) -> None:
        """on_load of a public page: whoever is signed in shows as such; nobody is sent away."""
        viewer = self._viewer()
        if viewer is None:
            self._forget_user()
        else:
            self._load_user(viewer)

    def _send_to_signin(self) -> rx.event.EventSpec:
        self._forget_user()
        target = safe_next_path(self.router.url.path)
        # The studio is where a sign-in lands anyway (page loads add a slash: /studio/).
        query = "" if target.rstrip("/") == STUDIO else f"?next={target}"
        return rx.redirect(f"{LOGIN}{query}")

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
            return rx.redirect(STUDIO)
        return None
