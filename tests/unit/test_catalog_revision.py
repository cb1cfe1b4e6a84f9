"""The catalog revision: every change to categories or templates bumps it, so a page of
the catalog cached under an older revision is never served again."""

from __future__ import annotations

import itertools

import pytest
from fastapi.testclient import TestClient

from studio_app.api.app import build_served_api
from studio_app.models import ImageTemplate
from studio_app.services import catalog, catalog_admin, previews
from studio_app.services.auth import CurrentUser
from studio_app.services.catalog_admin import TemplateFields
from studio_app.services.db import write_session
from studio_app.settings import Settings
from tests.factories import make_user


@pytest.fixture
def admin(migrated_db: Settings) -> CurrentUser:
    with write_session() as db:
        catalog.seed_catalog(db)
    return CurrentUser(
        make_user(role="admin", email="boss@example.com"), "boss@example.com", "admin"
    )


def test_every_kind_of_catalog_change_bumps_the_revision(admin: CurrentUser) -> None:
    changes = [
        lambda: catalog_admin.create_category(admin, "Posters"),
        lambda: catalog_admin.update_category(admin, 1, "Marketing!", "New words"),
        lambda: catalog_admin.move_category(admin, 2, "up"),
        lambda: catalog_admin.set_category_active(admin, 3, False),
        lambda: catalog_admin.create_template(
            admin, TemplateFields(1, "Banner", "", "A banner", "standard")
        ),
        lambda: catalog_admin.update_template(
            admin, 1, TemplateFields(1, "Hero", "", "A hero image", "premium")
        ),
        lambda: catalog_admin.move_template(admin, 2, "down"),
        lambda: catalog_admin.set_template_active(admin, 4, False),
        lambda: previews.generate_preview(admin, 5),
    ]
    seen = [catalog.catalog_revision()]
    for change in changes:
        change()
        seen.append(catalog.catalog_revision())
    assert all(after > before for before, after in itertools.pairwise(seen)), seen


def test_other_writes_leave_the_revision_alone(admin: CurrentUser) -> None:
    before = catalog.catalog_revision()
    make_user(credits=5)
    assert catalog.catalog_revision() == before


def test_a_cached_page_is_not_served_after_any_change(admin: CurrentUser) -> None:
    client = TestClient(build_served_api())
    first = client.get("/api/studio/templates").json()["items"][0]
    assert client.get("/api/studio/templates").json()["items"][0] == first
    # A change made by other code than the API (another process would do the same).
    with write_session() as db:
        row = db.get(ImageTemplate, first["id"])
        assert row is not None
        row.prompt = "A completely new prompt"
        db.add(row)
    again = client.get("/api/studio/templates").json()["items"][0]
    assert again["prompt"] == "A completely new prompt"
