"""Categories and templates: what users choose from, and the seed catalog."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import event, tuple_, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from studio_app.models import CatalogRevision, ImageCategory, ImageTemplate
from studio_app.services.db import read_scalar, read_session, write_session
from studio_app.services.errors import InvalidInput
from studio_app.services.seed_data import SEED_CATEGORIES


@event.listens_for(OrmSession, "before_flush")
def _bump_catalog_revision(session: OrmSession, _context: object, _instances: object) -> None:
    """Any change to a category or template, by any code, bumps the catalog revision in
    the same transaction: a reader holding an older revision knows its copy is stale."""
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(row, ImageCategory | ImageTemplate) for row in changed):
        session.execute(
            update(CatalogRevision)
            .where(col(CatalogRevision.id) == 1)
            .values(revision=col(CatalogRevision.revision) + 1)
        )


def catalog_revision() -> int:
    """The current catalog revision (asked on every catalog request: one indexed read)."""
    return int(read_scalar("SELECT revision FROM catalog_revision WHERE id = 1"))


@dataclass(frozen=True)
class CategoryWithTemplates:
    category: ImageCategory
    templates: list[ImageTemplate]


def list_categories(db: Session, *, include_inactive: bool = False) -> list[ImageCategory]:
    query = select(ImageCategory).order_by(col(ImageCategory.sort_order), col(ImageCategory.id))
    if not include_inactive:
        query = query.where(ImageCategory.is_active == True)  # noqa: E712
    return list(db.exec(query).all())


def list_templates(
    db: Session, *, category_id: int | None = None, include_inactive: bool = False
) -> list[ImageTemplate]:
    """Templates in display order. Without include_inactive, templates of
    inactive categories are hidden too."""
    query = (
        select(ImageTemplate)
        .join(ImageCategory, col(ImageCategory.id) == col(ImageTemplate.category_id))
        .order_by(
            col(ImageCategory.sort_order),
            col(ImageTemplate.sort_order),
            col(ImageTemplate.id),
        )
    )
    if category_id is not None:
        query = query.where(ImageTemplate.category_id == category_id)
    if not include_inactive:
        query = query.where(
            ImageTemplate.is_active == True,  # noqa: E712
            ImageCategory.is_active == True,  # noqa: E712
        )
    return list(db.exec(query).all())


_DISPLAY_ORDER = (
    col(ImageCategory.sort_order),
    col(ImageCategory.id),
    col(ImageTemplate.sort_order),
    col(ImageTemplate.id),
)


@dataclass(frozen=True)
class TemplatePage:
    templates: list[ImageTemplate]
    # The last template's id when more follow: pass it as `after_id` for the next page.
    next_after_id: int | None


def active_template_page(
    *, category_id: int | None = None, after_id: int | None = None, limit: int = 50
) -> TemplatePage:
    """`template_page` in a session of its own (for routes and states)."""
    with read_session() as db:
        return template_page(db, category_id=category_id, after_id=after_id, limit=limit)


def template_page(
    db: Session, *, category_id: int | None = None, after_id: int | None = None, limit: int = 50
) -> TemplatePage:
    """Active templates of active categories in display order, keyset-paged.

    A page starts after the template `after_id` (in display order), wherever that
    template is now, so a template deactivated between two pages skips nothing.
    """
    query = (
        select(ImageTemplate)
        .join(ImageCategory, col(ImageCategory.id) == col(ImageTemplate.category_id))
        .where(
            ImageTemplate.is_active == True,  # noqa: E712
            ImageCategory.is_active == True,  # noqa: E712
        )
        .order_by(*_DISPLAY_ORDER)
    )
    if category_id is not None:
        query = query.where(ImageTemplate.category_id == category_id)
    if after_id is not None:
        anchor = db.exec(
            select(*_DISPLAY_ORDER)
            .join(ImageCategory, col(ImageCategory.id) == col(ImageTemplate.category_id))
            .where(ImageTemplate.id == after_id)
        ).first()
        if anchor is None:
            raise InvalidInput("That page of templates is not available.", field="cursor")
        query = query.where(tuple_(*_DISPLAY_ORDER) > tuple_(*anchor))
    rows = list(db.exec(query.limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return TemplatePage(rows, rows[-1].id if more and rows else None)


def find_active_template(template_id: int) -> ImageTemplate | None:
    """`active_template` in a session of its own (for routes and states)."""
    with read_session() as db:
        return active_template(db, template_id)


def active_template(db: Session, template_id: int) -> ImageTemplate | None:
    """The template if users can pick it now (it and its category are active)."""
    return db.exec(
        select(ImageTemplate)
        .join(ImageCategory, col(ImageCategory.id) == col(ImageTemplate.category_id))
        .where(
            ImageTemplate.id == template_id,
            ImageTemplate.is_active == True,  # noqa: E712
            ImageCategory.is_active == True,  # noqa: E712
        )
    ).first()


def current_catalog() -> list[CategoryWithTemplates]:
    """`catalog` in a session of its own (for routes and states)."""
    with read_session() as db:
        return catalog(db)


def catalog(db: Session) -> list[CategoryWithTemplates]:
    """Active categories that have active templates, each with those templates.

    A category with nothing to choose from would only be an empty heading or chip.
    """
    templates = list_templates(db)
    by_category: dict[int, list[ImageTemplate]] = {}
    for template in templates:
        by_category.setdefault(template.category_id, []).append(template)
    return [
        CategoryWithTemplates(category=category, templates=by_category[category.id])
        for category in list_categories(db)
        if category.id in by_category
    ]


@dataclass(frozen=True)
class SeedResult:
    categories_added: int
    templates_added: int


def seed() -> SeedResult:
    """`seed_catalog` in a transaction of its own (the CLI's `seed`)."""
    with write_session() as db:
        return seed_catalog(db)


def seed_catalog(db: Session) -> SeedResult:
    """Insert the seed categories and templates that are missing, by slug.

    Existing rows are left exactly as they are, so an admin's edits (names,
    prompts, deactivation) are never overwritten by a re-seed.
    """
    categories_added = templates_added = 0
    existing_categories = {c.slug: c for c in db.exec(select(ImageCategory)).all()}
    for position, seed in enumerate(SEED_CATEGORIES):
        category = existing_categories.get(seed["slug"])
        if category is None:
            category = ImageCategory(
                slug=seed["slug"],
                name=seed["name"],
                description=seed["description"],
                sort_order=position * 10,
            )
            db.add(category)
            db.flush()
            categories_added += 1
        existing_templates = {
            t.slug
            for t in db.exec(
                select(ImageTemplate).where(ImageTemplate.category_id == category.id)
            ).all()
        }
        for t_position, template in enumerate(seed["templates"]):
            if template["slug"] in existing_templates:
                continue
            db.add(
                ImageTemplate(
                    category_id=category.id or 0,
                    slug=template["slug"],
                    name=template["name"],
                    description=template["description"],
                    prompt=template["prompt"],
                    default_tier=template["default_tier"],
                    sort_order=t_position * 10,
                )
            )
            templates_added += 1
    db.flush()
    return SeedResult(categories_added=categories_added, templates_added=templates_added)
