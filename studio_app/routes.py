"""The app's page routes, named once: pages, states and HTTP routes import them."""

from __future__ import annotations

STUDIO = "/studio"
LOGIN = "/login"
SIGNUP = "/signup"
TEMPLATES = "/templates"
MY_CREATIONS = "/my-creations"
BUY_CREDITS = "/buy-credits"
ACCOUNT = "/account"
ADMIN = "/admin"
COMMUNITY = "/community"
# A post's share page: /community/<post id>.
COMMUNITY_POST = "/community/[post_id]"

# Served as HTTP 302s (api/page_redirects.py). `/` goes to the studio until visitors get
# a landing page there; the others are the reference report's paths for our pages.
REDIRECTS = {
    "/": STUDIO,
    "/studio/my-creations": MY_CREATIONS,
    "/studio/buy-credits": BUY_CREDITS,
    "/admin/studio": ADMIN,
}


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
