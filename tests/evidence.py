"""Helpers for the evidence tests: a whole-database snapshot.

`everything()` reads every row of every table the schema declares, so a test that
compares it before and after proves that *nothing* was written, including in tables
added later.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import SQLModel

from studio_app.services.db import read_session


def everything() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (the schema's own list of tables)."""
    with read_session() as db:
        return {
            table.name: sorted((tuple(row) for row in db.execute(select(table)).all()), key=repr)
            for table in SQLModel.metadata.sorted_tables
        }
