"""Admin routes: usage figures and the catalog. An admin's API token is required;
the services check the caller again (`require_admin`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from studio_app.api import schemas
from studio_app.api.callers import AdminCaller
from studio_app.api.cursors import MAX_ROW_ID
from studio_app.api.errors import not_found, responses
from studio_app.services import admin_stats, catalog_admin
from studio_app.services.auth import CurrentUser
from studio_app.services.catalog_admin import AdminCategoryView, AdminTemplateView, TemplateFields

router = APIRouter(prefix="/api/admin/studio", tags=["admin"])

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
_WRITE_ERRORS = responses(401, 403, 404, 422)


@router.get("/stats", responses=responses(401, 403))
def stats(admin: AdminCaller) -> schemas.Stats:
    """Users, generations, success rates per provider, credits sold and spent, last 14 days."""
    overview = admin_stats.overview(admin)
    return schemas.Stats(
        users=overview.users,
        generations_today=overview.generations_today,
        generations_7_days=overview.generations_7_days,
        generations_all=overview.generations_all,
        succeeded=overview.succeeded,
        failed=overview.failed,
        success_rate=overview.success_rate,
        credits_sold=overview.credits_sold,
        credits_spent=overview.credits_spent,
        providers=[schemas.ProviderStats(**vars(p)) for p in overview.providers],
        daily=[
            schemas.DayCounts(
                day=d.day.isoformat(), succeeded=d.succeeded, failed=d.failed, pending=d.pending
            )
            for d in admin_stats.daily_counts(admin)
        ],
    )


# ---------------------------------------------------------------- categories


def _category(view: AdminCategoryView) -> schemas.AdminCategory:
    return schemas.AdminCategory.model_validate(view, from_attributes=True)


def _category_by_id(admin: CurrentUser, category_id: int) -> schemas.AdminCategory:
    view = next((c for c in catalog_admin.list_categories(admin) if c.id == category_id), None)
    if view is None:
        raise not_found("category")
    return _category(view)


@router.get("/categories", responses=responses(401, 403))
def list_categories(admin: AdminCaller) -> schemas.AdminCategoryList:
    """Every category, deactivated ones included."""
    return schemas.AdminCategoryList(
        items=[_category(view) for view in catalog_admin.list_categories(admin)]
    )


@router.post("/categories", status_code=201, responses=_WRITE_ERRORS)
def create_category(admin: AdminCaller, body: schemas.CategoryInput) -> schemas.AdminCategory:
    category_id = catalog_admin.create_category(admin, body.name, body.description)
    if body.is_active is False:
        catalog_admin.set_category_active(admin, category_id, False)
    return _category_by_id(admin, category_id)


@router.put("/categories/{category_id}", responses=_WRITE_ERRORS)
def update_category(
    admin: AdminCaller, body: schemas.CategoryInput, category_id: RowId
) -> schemas.AdminCategory:
    catalog_admin.update_category(admin, category_id, body.name, body.description)
    if body.is_active is not None:
        catalog_admin.set_category_active(admin, category_id, body.is_active)
    return _category_by_id(admin, category_id)


@router.delete("/categories/{category_id}", responses=_WRITE_ERRORS)
def deactivate_category(admin: AdminCaller, category_id: RowId) -> schemas.AdminCategory:
    """Deactivate: the category and its templates leave the studio; nothing is erased."""
    catalog_admin.set_category_active(admin, category_id, False)
    return _category_by_id(admin, category_id)


# ---------------------------------------------------------------- templates


def _template(view: AdminTemplateView) -> schemas.AdminTemplate:
    return schemas.AdminTemplate.model_validate(view, from_attributes=True)


def _template_by_id(admin: CurrentUser, template_id: int) -> schemas.AdminTemplate:
    view = next((t for t in catalog_admin.list_templates(admin) if t.id == template_id), None)
    if view is None:
        raise not_found("template")
    return _template(view)


def _fields(body: schemas.TemplateInput) -> TemplateFields:
    return TemplateFields(
        category_id=body.category_id,
        name=body.name,
        description=body.description,
        prompt=body.prompt,
        default_tier=body.default_tier,
    )


@router.get("/templates", responses=responses(401, 403))
def list_templates(admin: AdminCaller) -> schemas.AdminTemplateList:
    """Every template, deactivated ones included."""
    return schemas.AdminTemplateList(
        items=[_template(view) for view in catalog_admin.list_templates(admin)]
    )


@router.post("/templates", status_code=201, responses=_WRITE_ERRORS)
def create_template(admin: AdminCaller, body: schemas.TemplateInput) -> schemas.AdminTemplate:
    template_id = catalog_admin.create_template(admin, _fields(body))
    if body.is_active is False:
        catalog_admin.set_template_active(admin, template_id, False)
    return _template_by_id(admin, template_id)


@router.put("/templates/{template_id}", responses=_WRITE_ERRORS)
def update_template(
    admin: AdminCaller, body: schemas.TemplateInput, template_id: RowId
) -> schemas.AdminTemplate:
    catalog_admin.update_template(admin, template_id, _fields(body))
    if body.is_active is not None:
        catalog_admin.set_template_active(admin, template_id, body.is_active)
    return _template_by_id(admin, template_id)


@router.delete("/templates/{template_id}", responses=_WRITE_ERRORS)
def deactivate_template(admin: AdminCaller, template_id: RowId) -> schemas.AdminTemplate:
    """Deactivate: users no longer see it; existing creations keep its name."""
    catalog_admin.set_template_active(admin, template_id, False)
    return _template_by_id(admin, template_id)
