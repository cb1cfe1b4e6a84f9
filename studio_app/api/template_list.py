"""`GET /api/studio/templates`, the API's busiest read, on a lean path.

FastAPI solves each route's dependencies and parameters per request, which costs about
0.3 ms here — several times what answering from the page cache costs, so it capped this
route at a fraction of a bare endpoint's throughput (bench/api_reads). The operation is
declared once as a FastAPI route (catalog_routes.py: the spec, the docs) and served by a
plain Starlette route mounted in front of it; both validate with `TemplateListQuery` and
answer with `render`, so there is one definition of what the route accepts and returns.

Pages are cached with the catalog revision they were read at (services/catalog.py) and
served only while it is unchanged: a template an admin deactivates is gone from the very
next answer, in every server process (the revision lives in the database).
"""

from __future__ import annotations

from fastapi import Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request

from studio_app.api import schemas
from studio_app.api.callers import optional_caller
from studio_app.api.cursors import ID_CURSOR_PATTERN, id_cursor, parse_id_cursor
from studio_app.services import catalog
from studio_app.services.db import read_session
from studio_app.services.views import TemplateView

PATH = "/api/studio/templates"
PAGE_MAX = 100
_PAGES_CACHED = 512
_pages: dict[tuple, tuple[int, bytes]] = {}


class TemplateListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    category_id: schemas.RowId | None = Field(default=None, description="Only this category")
    limit: int = Field(default=50, ge=1, le=PAGE_MAX)
    cursor: str | None = Field(
        default=None, pattern=ID_CURSOR_PATTERN, description="next_cursor of the page before"
    )


def template(view: TemplateView) -> schemas.Template:
    return schemas.Template(
        id=view.id,
        category_id=view.category_id,
        name=view.name,
        description=view.description,
        prompt=view.prompt,
        default_tier=view.default_tier,
        preview_url=view.preview_url or None,
    )


def _page_json(query: TemplateListQuery) -> bytes:
    with read_session() as db:
        page = catalog.template_page(
            db,
            category_id=query.category_id,
            after_id=parse_id_cursor(query.cursor),
            limit=query.limit,
        )
    return (
        schemas.TemplatePage(
            items=[template(TemplateView.of(t)) for t in page.templates],
            next_cursor=id_cursor(page.next_after_id),
        )
        .model_dump_json()
        .encode()
    )


def render(query: TemplateListQuery) -> Response:
    key = (query.category_id, query.limit, query.cursor)
    # Read before the page: if an admin's change lands in between, the page is stored
    # under the older revision and the next request rebuilds it.
    revision = catalog.catalog_revision()
    cached = _pages.get(key)
    if cached is None or cached[0] != revision:
        cached = (revision, _page_json(query))
        if len(_pages) >= _PAGES_CACHED:
            _pages.clear()
        _pages[key] = cached
    return Response(cached[1], media_type="application/json")


async def endpoint(request: Request) -> Response:
    """The Starlette route: the same checks FastAPI would make, without its machinery."""
    await optional_caller(request)
    try:
        query = TemplateListQuery.model_validate(dict(request.query_params))
    except ValidationError as error:
        raise RequestValidationError(
            [{**problem, "loc": ("query", *problem["loc"])} for problem in error.errors()]
        ) from None
    return render(query)
