"""The one rule every admin service starts with: only an admin may act."""

from __future__ import annotations

from studio_app.services.auth import CurrentUser
from studio_app.services.errors import PermissionDenied

ADMINS_ONLY = "Only admins can do that."


def require_admin(actor: object) -> CurrentUser:
    """Return the actor if they are a signed-in admin, else raise PermissionDenied."""
    if not isinstance(actor, CurrentUser) or not actor.is_admin:
        raise PermissionDenied(ADMINS_ONLY)
    return actor
