"""Admins shape the catalog: validation, order, soft delete, refusals and the audit trail."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from studio_app.models import AuditEntry, GeneratedImage, ImageCategory, ImageTemplate
from studio_app.services import audit, catalog, catalog_admin
from studio_app.services.auth import CurrentUser
from studio_app.services.catalog_admin import TemplateFields
from studio_app.services.db import read_session, write_session
from studio_app.services.errors import InvalidInput, NotFound, PermissionDenied
from tests.factories import make_user

pytestmark = pytest.mark.usefixtures("migrated_db")


@pytest.fixture
def admin() -> CurrentUser:
    return CurrentUser(id=make_user(role="admin", email="boss@example.com"), email="", role="admin")


@pytest.fixture
def member() -> CurrentUser:
    return CurrentUser(id=make_user(), email="", role="user")


def _audit() -> list[AuditEntry]:
    with read_session() as db:
        return list(db.exec(select(AuditEntry).order_by(AuditEntry.id)).all())


def _category(category_id: int) -> ImageCategory:
    with read_session() as db:
        row = db.get(ImageCategory, category_id)
        assert row is not None
        return row


def _template(template_id: int) -> ImageTemplate:
    with read_session() as db:
        row = db.get(ImageTemplate, template_id)
        assert row is not None
        return row


def _studio_names() -> tuple[list[str], list[str]]:
    with read_session() as db:
        entries = catalog.catalog(db)
    return (
        [e.category.name for e in entries],
        [t.name for e in entries for t in e.templates],
    )


def _fields(category_id: int, name: str = "Poster", **overrides: object) -> TemplateFields:
    values: dict = {
        "category_id": category_id,
        "name": name,
        "description": "A poster",
        "prompt": "A bold poster of [subject]",
        "default_tier": "premium",
    }
    values.update(overrides)
    return TemplateFields(**values)


# ---------------------------------------------------------------- categories


def test_create_category_slugs_once_orders_last_and_audits(admin: CurrentUser) -> None:
    first = catalog_admin.create_category(admin, "  Travel   & Food ", "Trips")
    second = catalog_admin.create_category(admin, "Travel - Food", "")
    assert _category(first).name == "Travel & Food"
    assert _category(first).slug == "travel-food"
    assert _category(second).slug == "travel-food-2"
    assert [c.name for c in catalog_admin.list_categories(admin)] == [
        "Travel & Food",
        "Travel - Food",
    ]

    catalog_admin.update_category(admin, first, "Holidays", "Trips")
    assert _category(first).slug == "travel-food"  # never changes after creation

    entries = _audit()
    assert [e.action for e in entries] == ["category.create", "category.create", "category.update"]
    assert entries[0].actor_id == admin.id
    assert json.loads(entries[0].after) == {"name": "Travel & Food", "description": "Trips"}
    assert json.loads(entries[2].before) == {"name": "Travel & Food"}
    assert json.loads(entries[2].after) == {"name": "Holidays"}


@pytest.mark.parametrize(
    ("name", "description", "message"),
    [
        ("", "", "Write a category name first."),
        ("   ", "", "Write a category name first."),
        ("A", "", "at least 2 characters"),
        ("x" * 81, "", "at most 80 characters"),
        (42, "", "must be text"),
        ("Fine", "d" * 501, "at most 500 characters"),
        ("Bad\x00name", "", "control characters"),
    ],
)
def test_create_category_refuses_bad_input(
    admin: CurrentUser, name: object, description: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        catalog_admin.create_category(admin, name, description)
    assert catalog_admin.list_categories(admin) == []
    assert _audit() == []


def test_category_names_are_unique_ignoring_case_even_when_deactivated(
    admin: CurrentUser,
) -> None:
    travel = catalog_admin.create_category(admin, "Travel")
    other = catalog_admin.create_category(admin, "Food")
    catalog_admin.set_category_active(admin, travel, False)
    with pytest.raises(InvalidInput, match="“Travel” \\(deactivated\\) already exists"):
        catalog_admin.create_category(admin, "tRAVEL")
    with pytest.raises(InvalidInput, match="already exists"):
        catalog_admin.update_category(admin, other, "TRAVEL")
    # Renaming a category to a new spelling of its own name is fine.
    catalog_admin.update_category(admin, travel, "TRAVEL")
    assert _category(travel).name == "TRAVEL"


def test_update_unknown_category_is_not_found(admin: CurrentUser) -> None:
    for bad in (999, 0, -1, "1", None, 1.0):
        with pytest.raises(NotFound):
            catalog_admin.update_category(admin, bad, "Name")


def test_update_without_changes_writes_no_audit(admin: CurrentUser) -> None:
    travel = catalog_admin.create_category(admin, "Travel", "Trips")
    catalog_admin.update_category(admin, travel, "Travel", " Trips ")
    assert len(_audit()) == 1


def test_move_categories(admin: CurrentUser) -> None:
    a = catalog_admin.create_category(admin, "Alpha")
    b = catalog_admin.create_category(admin, "Beta")
    c = catalog_admin.create_category(admin, "Gamma")

    for category in (a, b, c):
        catalog_admin.create_template(admin, _fields(category, f"T{category}"))

    catalog_admin.move_category(admin, c, "up")
    assert [x.name for x in catalog_admin.list_categories(admin)] == ["Alpha", "Gamma", "Beta"]
    assert _studio_names()[0] == ["Alpha", "Gamma", "Beta"]
    move = _audit()[-1]
    assert (move.action, json.loads(move.before), json.loads(move.after)) == (
        "category.move",
        {"position": 3},
        {"position": 2},
    )

    # Moving the first one up is a no-op, not an error, and leaves no audit entry.
    count = len(_audit())
    catalog_admin.move_category(admin, a, "up")
    assert len(_audit()) == count
    with pytest.raises(InvalidInput):
        catalog_admin.move_category(admin, a, "sideways")

    catalog_admin.move_category(admin, a, "down")
    views = catalog_admin.list_categories(admin)
    assert [x.name for x in views] == ["Gamma", "Alpha", "Beta"]
    assert [(x.is_first, x.is_last) for x in views] == [
        (True, False),
        (False, False),
        (False, True),
    ]
    assert _studio_names()[0] == ["Gamma", "Alpha", "Beta"]
    catalog_admin.move_category(admin, b, "down")  # the last one: nothing to do
    assert len(_audit()) == count + 1


def test_deactivated_category_leaves_the_studio_at_once_and_comes_back(
    admin: CurrentUser,
) -> None:
    travel = catalog_admin.create_category(admin, "Travel")
    catalog_admin.create_template(admin, _fields(travel, "Beach"))
    assert _studio_names() == (["Travel"], ["Beach"])

    catalog_admin.set_category_active(admin, travel, False)
    assert _studio_names() == ([], [])
    assert catalog_admin.list_categories(admin)[0].is_active is False
    assert catalog_admin.list_templates(admin)[0].category_active is False

    catalog_admin.set_category_active(admin, travel, True)
    assert _studio_names() == (["Travel"], ["Beach"])
    actions = [(e.action, json.loads(e.before), json.loads(e.after)) for e in _audit()[-2:]]
    assert actions == [
        ("category.deactivate", {"active": True}, {"active": False}),
        ("category.reactivate", {"active": False}, {"active": True}),
    ]
    with pytest.raises(InvalidInput):
        catalog_admin.set_category_active(admin, travel, "no")


# ---------------------------------------------------------------- templates


def test_create_and_edit_template(admin: CurrentUser) -> None:
    travel = catalog_admin.create_category(admin, "Travel")
    food = catalog_admin.create_category(admin, "Food")
    poster = catalog_admin.create_template(admin, _fields(travel))
    row = _template(poster)
    assert (row.category_id, row.name, row.default_tier, row.slug) == (
        travel,
        "Poster",
        "premium",
        "poster",
    )
    created = _audit()[-1]
    assert created.action == "template.create"
    assert json.loads(created.after)["prompt"] == "A bold poster of [subject]"

    catalog_admin.update_template(
        admin, poster, _fields(food, "Menu poster", default_tier="premium-wide")
    )
    row = _template(poster)
    assert (row.category_id, row.name, row.default_tier) == (food, "Menu poster", "premium-wide")
    edited = _audit()[-1]
    assert json.loads(edited.before) == {
        "category": "Travel",
        "name": "Poster",
        "default_tier": "premium",
    }
    assert json.loads(edited.after) == {
        "category": "Food",
        "name": "Menu poster",
        "default_tier": "premium-wide",
    }


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        ({"name": ""}, InvalidInput, "Write a template name first."),
        ({"prompt": "  "}, InvalidInput, "Write a prompt first."),
        ({"prompt": "p" * 2001}, InvalidInput, "at most 2000 characters"),
        ({"default_tier": "gigantic"}, InvalidInput, "Unknown size tier"),
        ({"default_tier": None}, InvalidInput, "Unknown size tier"),
        ({"category_id": 999}, NotFound, "category does not exist"),
        ({"category_id": "1"}, NotFound, "category does not exist"),
    ],
)
def test_create_template_refuses_bad_input(
    admin: CurrentUser, overrides: dict, error: type[Exception], message: str
) -> None:
    travel = catalog_admin.create_category(admin, "Travel")
    values = {**_fields(travel).__dict__, **overrides}
    fields = TemplateFields(**values)
    with pytest.raises(error, match=message):
        catalog_admin.create_template(admin, fields)
    assert catalog_admin.list_templates(admin) == []
    assert [e.action for e in _audit()] == ["category.create"]


def test_template_names_are_unique_within_a_category(admin: CurrentUser) -> None:
    travel = catalog_admin.create_category(admin, "Travel")
    food = catalog_admin.create_category(admin, "Food")
    catalog_admin.create_template(admin, _fields(travel, "Poster"))
    with pytest.raises(InvalidInput, match="already has a template called “Poster”"):
        catalog_admin.create_template(admin, _fields(travel, "POSTER"))
    # Another category may use the name; its slug stays unique across the catalog.
    other = catalog_admin.create_template(admin, _fields(food, "Poster"))
    assert _template(other).slug == "poster-2"
    with pytest.raises(InvalidInput, match="already has a template"):
        catalog_admin.update_template(admin, other, _fields(travel, "Poster"))


def test_move_templates_within_their_category(admin: CurrentUser) -> None:
    travel = catalog_admin.create_category(admin, "Travel")
    food = catalog_admin.create_category(admin, "Food")
    a = catalog_admin.create_template(admin, _fields(travel, "Alpha"))
    b = catalog_admin.create_template(admin, _fields(travel, "Beta"))
    menu = catalog_admin.create_template(admin, _fields(food, "Menu"))

    catalog_admin.move_template(admin, b, "up")
    assert _studio_names()[1] == ["Beta", "Alpha", "Menu"]
    count = len(_audit())
    catalog_admin.move_template(admin, menu, "down")  # alone in its category: nothing to do
    assert len(_audit()) == count

    catalog_admin.move_template(admin, a, "up")
    assert _studio_names()[1] == ["Alpha", "Beta", "Menu"]
    move = _audit()[-1]
    assert (move.action, json.loads(move.before), json.loads(move.after)) == (
        "template.move",
        {"position": 2},
        {"position": 1},
    )
    with pytest.raises(InvalidInput):
        catalog_admin.move_template(admin, a, 1)


def test_deactivated_template_leaves_the_studio_but_creations_keep_it(
    admin: CurrentUser, member: CurrentUser
) -> None:
    travel = catalog_admin.create_category(admin, "Travel")
    beach = catalog_admin.create_template(admin, _fields(travel, "Beach"))
    with write_session() as db:
        db.add(
            GeneratedImage(
                public_id="p" * 24,
                user_id=member.id,
                template_id=beach,
                prompt="beach",
                provider="offline",
                tier="standard",
            )
        )

    catalog_admin.set_template_active(admin, beach, False)
    # Its category has nothing left to choose from, so it leaves the studio too.
    assert _studio_names() == ([], [])
    assert catalog_admin.list_templates(admin)[0].is_active is False
    with read_session() as db:
        creation = db.exec(select(GeneratedImage)).one()
        assert creation.template_id == beach
        assert db.get(ImageTemplate, beach) is not None  # never hard-deleted

    catalog_admin.set_template_active(admin, beach, True)
    assert _studio_names() == (["Travel"], ["Beach"])
    assert [e.action for e in _audit()[-2:]] == ["template.deactivate", "template.reactivate"]


# ---------------------------------------------------------------- refusals


def test_non_admins_are_refused_and_nothing_is_written(
    admin: CurrentUser, member: CurrentUser
) -> None:
    travel = catalog_admin.create_category(admin, "Travel")
    beach = catalog_admin.create_template(admin, _fields(travel, "Beach"))
    before = _audit()
    forged = CurrentUser(id=member.id, email="", role="superuser")
    calls = [
        lambda who: catalog_admin.list_categories(who),
        lambda who: catalog_admin.list_templates(who),
        lambda who: audit.read_log(who),
        lambda who: catalog_admin.create_category(who, "Sneaky"),
        lambda who: catalog_admin.update_category(who, travel, "Sneaky"),
        lambda who: catalog_admin.move_category(who, travel, "down"),
        lambda who: catalog_admin.set_category_active(who, travel, False),
        lambda who: catalog_admin.create_template(who, _fields(travel, "Sneaky")),
        lambda who: catalog_admin.update_template(who, beach, _fields(travel, "Sneaky")),
        lambda who: catalog_admin.move_template(who, beach, "down"),
        lambda who: catalog_admin.set_template_active(who, beach, False),
    ]
    for who in (member, forged, None):
        for call in calls:
            with pytest.raises(PermissionDenied):
                call(who)
    assert _audit() == before
    assert _studio_names() == (["Travel"], ["Beach"])


# ---------------------------------------------------------------- audit log


def test_audit_log_is_readable_and_newest_first(admin: CurrentUser) -> None:
    travel = catalog_admin.create_category(admin, "Travel", "Trips")
    catalog_admin.update_category(admin, travel, "Journeys", "Trips")
    catalog_admin.set_category_active(admin, travel, False)

    lines = audit.read_log(admin)
    assert [line.action for line in lines] == [
        "Deactivated category",
        "Edited category",
        "Created category",
    ]
    assert lines[0].actor == "boss@example.com"
    assert (lines[0].before, lines[0].after) == ("active: yes", "active: no")
    assert (lines[1].before, lines[1].after) == ("name: Travel", "name: Journeys")
    assert lines[1].target == "Category “Travel”"
    assert lines[2].before == ""
    assert "{" not in lines[2].after


def test_readable_change_handles_plain_text_and_lists() -> None:
    assert audit.readable_change("") == ""
    assert audit.readable_change("plain words") == "plain words"
    assert audit.readable_change('{"order": ["A", "B"]}') == "order: A › B"
    assert audit.readable_change('{"seed": null}') == "seed: —"
