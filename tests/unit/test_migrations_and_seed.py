"""Migrations build the schema the models describe; seeding is repeatable."""

from __future__ import annotations

import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel, select

from studio_app.models import ImageCategory, ImageTemplate
from studio_app.services import catalog, migrations
from studio_app.services.db import get_engine, read_session, write_session
from studio_app.services.tiers import get_tier
from studio_app.settings import PROJECT_ROOT, Settings


def _catalog_snapshot() -> list[tuple]:
    with read_session() as db:
        categories = [
            (c.id, c.slug, c.name, c.description, c.sort_order, c.is_active, c.updated_at)
            for c in db.exec(select(ImageCategory).order_by(ImageCategory.id)).all()
        ]
        templates = [
            (t.id, t.category_id, t.slug, t.name, t.prompt, t.default_tier, t.is_active)
            for t in db.exec(select(ImageTemplate).order_by(ImageTemplate.id)).all()
        ]
    return categories + templates


def test_migrations_match_the_models(migrated_db: Settings) -> None:
    assert migrations.current_revision() == migrations.head_revision()
    with get_engine().connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []


def test_upgrade_twice_changes_nothing(migrated_db: Settings) -> None:
    with write_session() as db:
        catalog.seed_catalog(db)
    before = _catalog_snapshot()
    migrations.upgrade_to_head()
    assert _catalog_snapshot() == before


def test_seed_has_five_categories_of_three_usable_templates(migrated_db: Settings) -> None:
    with write_session() as db:
        result = catalog.seed_catalog(db)
    assert (result.categories_added, result.templates_added) == (5, 15)
    with read_session() as db:
        entries = catalog.catalog(db)
    assert [e.category.name for e in entries] == [
        "Marketing",
        "Social Media",
        "E-commerce",
        "Education",
        "Creative",
    ]
    for entry in entries:
        assert len(entry.templates) == 3
        for template in entry.templates:
            assert len(template.prompt.split()) >= 15, template.name
            get_tier(template.default_tier)


def test_reseed_duplicates_nothing_and_keeps_admin_edits(migrated_db: Settings) -> None:
    with write_session() as db:
        catalog.seed_catalog(db)
    with write_session() as db:
        template = db.exec(select(ImageTemplate).where(ImageTemplate.slug == "food-post")).one()
        template.prompt = "Our own house-style prompt"
        template.name = "Café post (ours)"
        category = db.exec(select(ImageCategory).where(ImageCategory.slug == "creative")).one()
        category.is_active = False
        db.add(template)
        db.add(category)
    edited = _catalog_snapshot()

    with write_session() as db:
        result = catalog.seed_catalog(db)
    assert (result.categories_added, result.templates_added) == (0, 0)
    assert _catalog_snapshot() == edited
    with read_session() as db:
        names = [e.category.name for e in catalog.catalog(db)]
        prompts = [t.prompt for t in catalog.list_templates(db)]
    assert "Creative" not in names
    assert "Our own house-style prompt" in prompts


def test_cli_setup_on_a_fresh_database_then_again(fresh_env: Settings) -> None:
    def setup() -> str:
        done = subprocess.run(
            [sys.executable, "-m", "studio_app.cli", "setup"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    first = setup()
    assert f"migrated from empty to {migrations.head_revision()}" in first
    assert "5 categories and 15 templates added" in first
    snapshot = _catalog_snapshot()
    second = setup()
    assert "up to date" in second
    assert "0 categories and 0 templates added" in second
    assert _catalog_snapshot() == snapshot
