"""Helpers for the evidence tests: a whole-database snapshot and a faster migrated database.

`everything()` reads every row of every table the schema declares, so a test that
compares it before and after proves that *nothing* was written, including in tables
added later. `migrated_db` (import it into a test module to use it there) copies a
database migrated once per module instead of running every migration for every case.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import SQLModel

from studio_app.services import migrations
from studio_app.services.db import dispose_engines, read_session
from studio_app.settings import Settings


def everything() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (the schema's own list of tables)."""
    with read_session() as db:
        return {
            table.name: sorted((tuple(row) for row in db.execute(select(table)).all()), key=repr)
            for table in SQLModel.metadata.sorted_tables
        }


@pytest.fixture(scope="module")
def _migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("migrated") / "template.db"
    migrations.upgrade_to_head(f"sqlite:///{path}")
    dispose_engines()
    return path


@pytest.fixture
def migrated_db(fresh_env: Settings, _migrated_template: Path) -> Settings:
    """Like tests/conftest.py's fixture (every migration applied), from a copy.

    On PostgreSQL (`--postgres`) the migrations simply run: there is no file to copy.
    """
    dispose_engines()
    if not fresh_env.database_url.startswith("sqlite"):
        migrations.upgrade_to_head()
        return fresh_env
    target = Path(fresh_env.database_url.removeprefix("sqlite:///"))
    shutil.copyfile(_migrated_template, target)
    return fresh_env
