"""Public catalog routes: categories, templates, tiers and providers.

A token is optional here (the catalog is public, as on the /templates page), but a
token that is sent must be valid.

These routes are `async` and read the database on the event loop: a catalog read is one
indexed SQLite query (~1 ms) that never waits for a lock (WAL: readers do not block on
writers), and FastAPI would otherwise spend more than that handing each request and its
serialisation to worker threads (measured: 3× fewer requests per second; bench/api_reads).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from studio_app.api import schemas, template_list
from studio_app.api.callers import OPTIONAL_TOKEN, optional_caller
from studio_app.api.cursors import MAX_ROW_ID
from studio_app.api.errors import not_found, responses
from studio_app.api.template_list import TemplateListQuery
from studio_app.services import catalog
from studio_app.services.provider_switches import provider_infos
from studio_app.services.views import TemplateView
from studio_app.tiers import tiers

router = APIRouter(prefix="/api", tags=["catalog"], dependencies=[Depends(optional_caller)])


@router.get("/studio/categories", responses=responses(401), openapi_extra=OPTIONAL_TOKEN)
async def list_categories() -> schemas.CategoryList:
    """Categories that have at least one template to choose, in display order."""
    entries = catalog.current_catalog()
    return schemas.CategoryList(
        items=[
            schemas.Category(
                id=entry.category.id or 0,
                slug=entry.category.slug,
                name=entry.category.name,
                description=entry.category.description,
                template_count=len(entry.templates),
            )
            for entry in entries
        ]
    )


@router.get(
    # Named once, in template_list: its cache answers repeat requests before routing.
    template_list.PATH.removeprefix(router.prefix),
    response_model=schemas.TemplatePage,
    responses=responses(401, 422),
    openapi_extra=OPTIONAL_TOKEN,
)
async def list_templates(
    request: Request, query: Annotated[TemplateListQuery, Query()]
) -> Response:
    """Templates users can choose now, in display order; `category_id` narrows to one category.

    (Repeat requests are answered from template_list's page cache while the catalog is
    unchanged.)
    """
    return template_list.render(query, request.scope["query_string"])


@router.get(
    "/studio/templates/{template_id}",
    responses=responses(401, 404, 422),
    openapi_extra=OPTIONAL_TOKEN,
)
async def get_template(template_id: int = Path(ge=1, le=MAX_ROW_ID)) -> schemas.Template:
    template = catalog.find_active_template(template_id)
    if template is None:
        raise not_found("template")
    return template_list.template(TemplateView.of(template))


@router.get("/studio/tiers", responses=responses(401), openapi_extra=OPTIONAL_TOKEN)
async def list_tiers() -> list[schemas.Tier]:
    """Sizes and prices (1 credit = rupees_per_credit ₹)."""
    return [schemas.Tier.model_validate(tier, from_attributes=True) for tier in tiers()]


@router.get("/providers", responses=responses(401), openapi_extra=OPTIONAL_TOKEN)
async def list_providers() -> list[schemas.Provider]:
    """Every provider, whether it is configured and whether it can be used now."""
    return [
        schemas.Provider(
            name=info.name,
            label=info.label,
            model=info.model,
            configured=info.configured,
            available=not info.unavailable_reason,
            unavailable_reason=info.unavailable_reason,
            unavailable_tiers=info.unavailable_tiers,
            supports_negative_prompt=info.supports_negative_prompt,
            supports_seed=info.supports_seed,
        )
        for info in provider_infos()
    ]
