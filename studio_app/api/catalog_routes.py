"""Public catalog routes: categories, templates, tiers and providers.

A token is optional here (the catalog is public, as on the /templates page), but a
token that is sent must be valid.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query

from studio_app.api import schemas
from studio_app.api.callers import OPTIONAL_TOKEN, optional_caller
from studio_app.api.cursors import ID_CURSOR_PATTERN, MAX_ROW_ID, id_cursor, parse_id_cursor
from studio_app.api.errors import not_found, responses
from studio_app.providers.registry import provider_infos
from studio_app.services import catalog
from studio_app.services.db import read_session
from studio_app.services.tiers import TIERS
from studio_app.services.views import TemplateView

router = APIRouter(tags=["catalog"], dependencies=[Depends(optional_caller)])

_TEMPLATE_PAGE_MAX = 100


def _template(view: TemplateView) -> schemas.Template:
    return schemas.Template(
        id=view.id,
        category_id=view.category_id,
        name=view.name,
        description=view.description,
        prompt=view.prompt,
        default_tier=view.default_tier,
        preview_url=view.preview_url or None,
    )


@router.get("/api/studio/categories", responses=responses(401), openapi_extra=OPTIONAL_TOKEN)
def list_categories() -> schemas.CategoryList:
    """Categories that have at least one template to choose, in display order."""
    with read_session() as db:
        entries = catalog.catalog(db)
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


@router.get("/api/studio/templates", responses=responses(401, 422), openapi_extra=OPTIONAL_TOKEN)
def list_templates(
    category_id: int | None = Query(default=None, ge=1, le=MAX_ROW_ID),
    limit: int = Query(default=50, ge=1, le=_TEMPLATE_PAGE_MAX),
    cursor: str | None = Query(default=None, pattern=ID_CURSOR_PATTERN),
) -> schemas.TemplatePage:
    """Templates users can choose now, in display order; `category_id` narrows to one category."""
    with read_session() as db:
        page = catalog.template_page(
            db, category_id=category_id, after_id=parse_id_cursor(cursor), limit=limit
        )
    return schemas.TemplatePage(
        items=[_template(TemplateView.of(t)) for t in page.templates],
        next_cursor=id_cursor(page.next_after_id),
    )


@router.get(
    "/api/studio/templates/{template_id}",
    responses=responses(401, 404, 422),
    openapi_extra=OPTIONAL_TOKEN,
)
def get_template(template_id: int = Path(ge=1, le=MAX_ROW_ID)) -> schemas.Template:
    with read_session() as db:
        template = catalog.active_template(db, template_id)
        if template is None:
            raise not_found("template")
        return _template(TemplateView.of(template))


@router.get("/api/studio/tiers", responses=responses(401), openapi_extra=OPTIONAL_TOKEN)
def list_tiers() -> list[schemas.Tier]:
    """Sizes and prices (1 credit = rupees_per_credit ₹)."""
    return [
        schemas.Tier(
            id=t.id,
            label=t.label,
            aspect_ratio=t.aspect_ratio,
            width=t.width,
            height=t.height,
            credits=t.credits,
            rupees=t.rupees,
        )
        for t in TIERS
    ]


@router.get("/api/providers", responses=responses(401), openapi_extra=OPTIONAL_TOKEN)
def list_providers() -> list[schemas.Provider]:
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
