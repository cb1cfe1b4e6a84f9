"""The app's page routes, named once: pages, states and HTTP routes import them."""

from __future__ import annotations

STUDIO = "/"
LOGIN = "/login"
SIGNUP = "/signup"
TEMPLATES = "/templates"
MY_CREATIONS = "/my-creations"
BUY_CREDITS = "/buy-credits"
ACCOUNT = "/account"
ADMIN = "/admin"


def safe_next_path(candidate: object) -> str:
    """Only same-site paths are allowed as a place to return to after signing in."""
    if (
        isinstance(candidate, str)
        and candidate.startswith("/")
        and not candidate.startswith("//")
        and "\\" not in candidate
        # Browsers drop tabs and newlines from URLs: "/\t/evil.example" is "//evil…".
        and candidate.isprintable()
        and " " not in candidate
        and not candidate.startswith((LOGIN, SIGNUP))
    ):
        return candidate
    return STUDIO
