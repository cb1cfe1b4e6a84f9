"""HTTP 302 redirects for page paths we do not serve as pages (routes.REDIRECTS).

They are FastAPI routes, so they answer before Reflex's app, which is mounted under the
API app and serves the prerendered pages. A query string is carried over: `/?use=x` → `/studio?use=x`.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from studio_app.routes import REDIRECTS

router = APIRouter(include_in_schema=False)


def _redirect_to(target: str) -> Callable[[Request], RedirectResponse]:
    def redirect(request: Request) -> RedirectResponse:
        query = request.url.query
        return RedirectResponse(f"{target}?{query}" if query else target, status_code=302)

    return redirect


for _path, _target in REDIRECTS.items():
    router.add_api_route(_path, _redirect_to(_target), methods=["GET", "HEAD"])
