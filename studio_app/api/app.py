"""The FastAPI app that Reflex mounts its own routes under (`api_transformer`).

`/api/...` is the REST API (docs at /api/docs, spec at /api/openapi.json); the
cookie-authenticated image routes of the web pages and the pages' redirects
(page_redirects.py) live here too.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from starlette.types import ASGIApp

from studio_app.api import (
    admin_routes,
    catalog_routes,
    community_routes,
    credits_routes,
    errors,
    generate_routes,
    images,
    openai_images,
    page_redirects,
    previews,
    profile_routes,
    session_routes,
    share_pages,
    template_list,
    upload_routes,
)
from studio_app.api.security_headers import SecurityHeaders
from studio_app.api.session_cookie import SessionCookies
from studio_app.api.static_cache import ImmutableAssets
from studio_app.api.upload_guard import UploadGuard

DESCRIPTION = """
The Studio's REST API: the same rules as the web studio (same credits, limits and checks).

**Authentication**: create a personal API token on the Account page and send it as
`Authorization: Bearer stu_…`. The catalog routes work without one; admin routes need
an admin's token.

**Errors** are JSON `{"code", "message", "field"?}` with a stable `code`.
**Lists** take `limit` and `cursor` (pass back `next_cursor`).
**Generating** answers `202` at once; poll `status_url`. Send an `Idempotency-Key`
header to make retries safe.
"""


def build_api() -> FastAPI:
    api = FastAPIOffline(
        title="Studio API",
        version="1.0",
        description=DESCRIPTION,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        # Swagger UI's assets are served from here, not from a CDN.
        static_url="/api/docs-static",
        swagger_ui_oauth2_redirect_url="/api/docs/oauth2-redirect",
    )
    errors.install(api)
    # Reflex mounts its whole app (pages, assets, websocket) under this one.
    api.add_middleware(ImmutableAssets)
    for router in (
        catalog_routes.router,
        community_routes.router,
        generate_routes.router,
        upload_routes.router,
        credits_routes.router,
        profile_routes.router,
        admin_routes.router,
    ):
        api.include_router(router)
    api.include_router(images.router, include_in_schema=False)
    api.include_router(community_routes.pictures, include_in_schema=False)
    api.include_router(share_pages.router, include_in_schema=False)
    api.include_router(previews.router, include_in_schema=False)
    api.include_router(session_routes.router)
    api.include_router(page_redirects.router)
    # OpenAI's Images API shapes, errors included: an app of its own under /v1.
    api.mount("/v1", openai_images.v1)
    return api


def api_transformers(session_of_tab: Callable[[str], Awaitable[str]]) -> list:
    """What `rx.App(api_transformer=...)` gets: Reflex mounts its app under the API app,
    then wraps the two in the template-list cache, which answers its hits before any
    framework machinery runs (template_list.py), that in the session cookie's handling
    (the websocket sees only the session's hash; page loads slide it), and checks uploads
    before Reflex reads them (upload_guard.py). The security headers come last, the
    outermost layer, so every response gets them (security_headers.py).

    `session_of_tab(tab id)` tells the upload guard which session a tab belongs to
    (states/session_guard.py: the API layer does not reach into Reflex states itself)."""
    return [
        build_api(),
        template_list.CachedTemplatePages,
        SessionCookies,
        functools.partial(UploadGuard, session_of_tab=session_of_tab),
        SecurityHeaders,
    ]


def build_served_api(reflex: ASGIApp | None = None) -> ASGIApp:
    """The API as the server stacks it, for tests and benchmarks: without Reflex, or with
    `reflex` (a stand-in) mounted under it as Reflex mounts its own app."""
    api = build_api()
    if reflex is not None:
        api.mount("", reflex)
    return SecurityHeaders(template_list.CachedTemplatePages(api))
