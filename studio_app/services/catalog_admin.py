"""Admin changes to the catalog: categories and templates, with the audit trail.

Every function takes the acting user and refuses anyone who is not an admin, so
the admin tab, a future REST API and the CLI share one rule. Nothing is ever
hard-deleted: deactivating hides a row from the studio (services/catalog.py
reads `is_active` on every request, nothing caches it) while creations that
point at it keep their history. Each change writes one audit entry, in the
same transaction, with only the fields that changed before and after.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from studio_app.clock import utcnow
from studio_app.models import ImageCategory, ImageTemplate
from studio_app.services import audit
from studio_app.services.auth import CurrentUser
from studio_app.services.db import read_session, write_session
from studio_app.services.errors import InvalidInput, NotFound, PermissionDenied
from studio_app.services.tiers import get_tier
from studio_app.services.validation import MAX_PROMPT_CHARS, clean_text

CATEGORY_NAME_MAX = 80
TEMPLATE_NAME_MAX = 120
DESCRIPTION_MAX = 500
NAME_MIN = 2
_SLUG_MAX = 60
_ORDER_STEP = 10
PREVIEW_ROUTE = "/template-previews"


# ---------------------------------------------------------------- views


@dataclass
class AdminCategoryView:
    """A category as the admin tab lists it (public catalog data)."""

    id: int = 0
    name: str = ""
    slug: str = ""
    description: str = ""
    is_active: bool = True
    position: int = 0
    template_count: int = 0
    is_first: bool = False
    is_last: bool = False


@dataclass
class AdminTemplateView:
    id: int = 0
    category_id: int = 0
    category_name: str = ""
    category_active: bool = True
    name: str = ""
    description: str = ""
    prompt: str = ""
    default_tier: str = "standard"
    is_active: bool = True
    preview_url: str = ""
    is_first: bool = False
    is_last: bool = False


def preview_url(key: str | None) -> str:
    """Where the browser fetches a template's preview ("" when it has none)."""
    return f"{PREVIEW_ROUTE}/{key}" if key else ""


# ---------------------------------------------------------------- guards and checks


def require_admin(actor: CurrentUser | None) -> CurrentUser:
    """The actor if they are an admin; PermissionDenied otherwise (nothing is read or written)."""
    if actor is None or not isinstance(actor, CurrentUser) or not actor.is_admin:
        raise PermissionDenied("Only admins can change the catalog.")
    return actor


def _clean_name(value: object, *, label: str, limit: int) -> str:
    name = clean_text(value, field="name", label=label, limit=limit, required=True)
    name = " ".join(name.split())  # one line, single spaces
    if len(name) < NAME_MIN:
        raise InvalidInput(f"The {label} needs at least {NAME_MIN} characters.", field="name")
    return name


def _clean_description(value: object) -> str:
    return clean_text(
        value, field="description", label="description", limit=DESCRIPTION_MAX, required=False
    )


def _clean_prompt(value: object) -> str:
    return clean_text(value, field="prompt", label="prompt", limit=MAX_PROMPT_CHARS, required=True)


def _clean_tier(value: object) -> str:
    return get_tier(value, field="default_tier").id


def _clean_id(value: object, what: str) -> int:
    if type(value) is not int or value <= 0:
        raise NotFound(f"That {what} does not exist.")
    return value


def slugify(name: str, fallback: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:_SLUG_MAX].strip("-")
    return slug or fallback


def _unique_slug(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _get_category(db: Session, category_id: object) -> ImageCategory:
    category = db.get(ImageCategory, _clean_id(category_id, "category"))
    if category is None:
        raise NotFound("That category does not exist.")
    return category


def _get_template(db: Session, template_id: object) -> ImageTemplate:
    template = db.get(ImageTemplate, _clean_id(template_id, "template"))
    if template is None:
        raise NotFound("That template does not exist.")
    return template


def _ensure_category_name_free(db: Session, name: str, *, except_id: int | None = None) -> None:
    wanted = name.casefold()
    for other in db.exec(select(ImageCategory)).all():
        if other.id != except_id and other.name.casefold() == wanted:
            state = "" if other.is_active else " (deactivated)"
            raise InvalidInput(
                f"A category called “{other.name}”{state} already exists.", field="name"
            )


def _ensure_template_name_free(
    db: Session, category_id: int, name: str, *, except_id: int | None = None
) -> None:
    wanted = name.casefold()
    siblings = db.exec(select(ImageTemplate).where(ImageTemplate.category_id == category_id)).all()
    for other in siblings:
        if other.id != except_id and other.name.casefold() == wanted:
            state = "" if other.is_active else " (deactivated)"
            raise InvalidInput(
                f"This category already has a template called “{other.name}”{state}.",
                field="name",
            )


def _changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    changed = [key for key in after if before.get(key) != after[key]]
    return {k: before.get(k) for k in changed}, {k: after[k] for k in changed}


def _category_target(category: ImageCategory) -> str:
    return f"Category “{category.name}”"


def _template_target(template: ImageTemplate) -> str:
    return f"Template “{template.name}”"


def _commit_guard(exc: IntegrityError) -> InvalidInput:
    # Only reachable when two admins race on the same name; the checks above catch the rest.
    return InvalidInput("That name was just taken by another change; try another.", field="name")


# ---------------------------------------------------------------- listing


def _ordered_categories(db: Session) -> list[ImageCategory]:
    return list(
        db.exec(
            select(ImageCategory).order_by(col(ImageCategory.sort_order), col(ImageCategory.id))
        ).all()
    )


def _ordered_templates(db: Session, category_id: int) -> list[ImageTemplate]:
    return list(
        db.exec(
            select(ImageTemplate)
            .where(ImageTemplate.category_id == category_id)
            .order_by(col(ImageTemplate.sort_order), col(ImageTemplate.id))
        ).all()
    )


def list_categories(actor: CurrentUser | None) -> list[AdminCategoryView]:
    """Every category, active or not, in display order."""
    require_admin(actor)
    with read_session() as db:
        categories = _ordered_categories(db)
        counts: dict[int, int] = {}
        for category_id in db.exec(select(ImageTemplate.category_id)).all():
            counts[category_id] = counts.get(category_id, 0) + 1
    last = len(categories) - 1
    return [
        AdminCategoryView(
            id=c.id or 0,
            name=c.name,
            slug=c.slug,
            description=c.description,
            is_active=c.is_active,
            position=i + 1,
            template_count=counts.get(c.id or 0, 0),
            is_first=i == 0,
            is_last=i == last,
        )
        for i, c in enumerate(categories)
    ]


def list_templates(actor: CurrentUser | None) -> list[AdminTemplateView]:
    """Every template, active or not, grouped by category in display order."""
    require_admin(actor)
    views: list[AdminTemplateView] = []
    with read_session() as db:
        for category in _ordered_categories(db):
            templates = _ordered_templates(db, category.id or 0)
            last = len(templates) - 1
            views.extend(
                AdminTemplateView(
                    id=t.id or 0,
                    category_id=t.category_id,
                    category_name=category.name,
                    category_active=category.is_active,
                    name=t.name,
                    description=t.description,
                    prompt=t.prompt,
                    default_tier=t.default_tier,
                    is_active=t.is_active,
                    preview_url=preview_url(t.preview_image_key),
                    is_first=i == 0,
                    is_last=i == last,
                )
                for i, t in enumerate(templates)
            )
    return views


# ---------------------------------------------------------------- categories


def create_category(actor: CurrentUser | None, name: object, description: object = "") -> int:
    """A new active category at the end of the list; returns its id."""
    admin = require_admin(actor)
    clean_name = _clean_name(name, label="category name", limit=CATEGORY_NAME_MAX)
    clean_description = _clean_description(description)
    try:
        with write_session() as db:
            _ensure_category_name_free(db, clean_name)
            existing = _ordered_categories(db)
            category = ImageCategory(
                name=clean_name,
                slug=_unique_slug(slugify(clean_name, "category"), {c.slug for c in existing}),
                description=clean_description,
                sort_order=(max((c.sort_order for c in existing), default=0) + _ORDER_STEP),
            )
            db.add(category)
            db.flush()
            audit.record(
                db,
                admin.id,
                "category.create",
                _category_target(category),
                after={"name": clean_name, "description": clean_description},
            )
            return category.id or 0
    except IntegrityError as exc:
        raise _commit_guard(exc) from exc


def update_category(
    actor: CurrentUser | None, category_id: object, name: object, description: object = ""
) -> None:
    """Rename or re-describe a category (its slug never changes)."""
    admin = require_admin(actor)
    clean_name = _clean_name(name, label="category name", limit=CATEGORY_NAME_MAX)
    clean_description = _clean_description(description)
    try:
        with write_session() as db:
            category = _get_category(db, category_id)
            _ensure_category_name_free(db, clean_name, except_id=category.id)
            before, after = _changes(
                {"name": category.name, "description": category.description},
                {"name": clean_name, "description": clean_description},
            )
            if not after:
                return
            target = _category_target(category)
            category.name = clean_name
            category.description = clean_description
            category.updated_at = utcnow()
            db.add(category)
            audit.record(db, admin.id, "category.update", target, before=before, after=after)
    except IntegrityError as exc:
        raise _commit_guard(exc) from exc


def _renumber(rows: list[Any]) -> None:
    for index, row in enumerate(rows):
        row.sort_order = (index + 1) * _ORDER_STEP


def _move(rows: list[Any], row_id: int, direction: object) -> tuple[int, int] | None:
    """Move one row up or down in `rows` (in place); (old, new) 1-based positions or None."""
    if direction not in ("up", "down"):
        raise InvalidInput("Move a row up or down.", field="direction")
    index = next(i for i, row in enumerate(rows) if row.id == row_id)
    new_index = index - 1 if direction == "up" else index + 1
    if not 0 <= new_index < len(rows):
        return None
    rows[index], rows[new_index] = rows[new_index], rows[index]
    return index + 1, new_index + 1


def _move_row(actor: CurrentUser | None, kind: str, row_id: object, direction: object) -> None:
    """Swap a category or template with its neighbour (a template: within its category),
    audited with the old and new positions; a move past either end does nothing."""
    admin = require_admin(actor)
    row: ImageCategory | ImageTemplate
    siblings: list[Any]
    with write_session() as db:
        if kind == "category":
            row = _get_category(db, row_id)
            siblings = _ordered_categories(db)
            target = _category_target(row)
        else:
            row = _get_template(db, row_id)
            siblings = _ordered_templates(db, row.category_id)
            target = _template_target(row)
        moved = _move(siblings, row.id or 0, direction)
        if moved is None:
            return
        _renumber(siblings)
        db.add_all(siblings)
        audit.record(
            db,
            admin.id,
            f"{kind}.move",
            target,
            before={"position": moved[0]},
            after={"position": moved[1]},
        )


def move_category(actor: CurrentUser | None, category_id: object, direction: object) -> None:
    """Swap a category with its neighbour above ("up") or below ("down")."""
    _move_row(actor, "category", category_id, direction)


def set_category_active(actor: CurrentUser | None, category_id: object, active: object) -> None:
    """Deactivate (hide from the studio, with its templates) or reactivate a category."""
    _set_active(actor, "category", category_id, active)


# ---------------------------------------------------------------- templates


@dataclass(frozen=True)
class TemplateFields:
    """What an admin types for a template, still unchecked."""

    category_id: object
    name: object
    description: object
    prompt: object
    default_tier: object


def _clean_template(fields: TemplateFields) -> dict[str, Any]:
    return {
        "name": _clean_name(fields.name, label="template name", limit=TEMPLATE_NAME_MAX),
        "description": _clean_description(fields.description),
        "prompt": _clean_prompt(fields.prompt),
        "default_tier": _clean_tier(fields.default_tier),
    }


def _template_slugs(db: Session) -> set[str]:
    return set(db.exec(select(ImageTemplate.slug)).all())


def create_template(actor: CurrentUser | None, fields: TemplateFields) -> int:
    """A new active template at the end of its category; returns its id."""
    admin = require_admin(actor)
    values = _clean_template(fields)
    try:
        with write_session() as db:
            category = _get_category(db, fields.category_id)
            _ensure_template_name_free(db, category.id or 0, values["name"])
            siblings = _ordered_templates(db, category.id or 0)
            template = ImageTemplate(
                category_id=category.id or 0,
                # Unique across categories, so moving a template never collides.
                slug=_unique_slug(slugify(values["name"], "template"), _template_slugs(db)),
                sort_order=max((t.sort_order for t in siblings), default=0) + _ORDER_STEP,
                **values,
            )
            db.add(template)
            db.flush()
            audit.record(
                db,
                admin.id,
                "template.create",
                _template_target(template),
                after={"category": category.name, **values},
            )
            return template.id or 0
    except IntegrityError as exc:
        raise _commit_guard(exc) from exc


def update_template(actor: CurrentUser | None, template_id: object, fields: TemplateFields) -> None:
    """Change a template's category, name, description, prompt or default tier."""
    admin = require_admin(actor)
    values = _clean_template(fields)
    try:
        with write_session() as db:
            template = _get_template(db, template_id)
            old_category = _get_category(db, template.category_id)
            new_category = _get_category(db, fields.category_id)
            _ensure_template_name_free(
                db, new_category.id or 0, values["name"], except_id=template.id
            )
            before, after = _changes(
                {
                    "category": old_category.name,
                    "name": template.name,
                    "description": template.description,
                    "prompt": template.prompt,
                    "default_tier": template.default_tier,
                },
                {"category": new_category.name, **values},
            )
            if not after:
                return
            target = _template_target(template)
            if new_category.id != old_category.id:
                siblings = _ordered_templates(db, new_category.id or 0)
                if template.slug in {t.slug for t in siblings}:  # only seed rows can collide
                    template.slug = _unique_slug(template.slug, _template_slugs(db))
                template.category_id = new_category.id or 0
                template.sort_order = max((t.sort_order for t in siblings), default=0) + _ORDER_STEP
            for key, value in values.items():
                setattr(template, key, value)
            template.updated_at = utcnow()
            db.add(template)
            audit.record(db, admin.id, "template.update", target, before=before, after=after)
    except IntegrityError as exc:
        raise _commit_guard(exc) from exc


def move_template(actor: CurrentUser | None, template_id: object, direction: object) -> None:
    """Swap a template with its neighbour in the same category."""
    _move_row(actor, "template", template_id, direction)


def set_template_active(actor: CurrentUser | None, template_id: object, active: object) -> None:
    """Deactivate (hide from the studio) or reactivate a template."""
    _set_active(actor, "template", template_id, active)


def _set_active(actor: CurrentUser | None, kind: str, row_id: object, active: object) -> None:
    """Soft delete or restore a category or template, audited; nothing is ever hard-deleted."""
    admin = require_admin(actor)
    if not isinstance(active, bool):
        raise InvalidInput("Choose to activate or deactivate.", field="active")
    with write_session() as db:
        if kind == "category":
            row = _get_category(db, row_id)
            target = _category_target(row)
        else:
            row = _get_template(db, row_id)
            target = _template_target(row)
        if row.is_active == active:
            return
        row.is_active = active
        row.updated_at = utcnow()
        db.add(row)
        audit.record(
            db,
            admin.id,
            f"{kind}.reactivate" if active else f"{kind}.deactivate",
            target,
            before={"active": not active},
            after={"active": active},
        )
