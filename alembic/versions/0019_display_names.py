"""Public display names: chosen by each user, unique ignoring case and accents.

Revision ID: 0019_display_names
Revises: 0018_edit_sources
Create Date: 2026-12-03 20:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0019_display_names"
down_revision: str | None = "0018_edit_sources"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.add_column(
            sa.Column("display_name", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True)
        )
        batch.add_column(
            sa.Column(
                "display_name_key", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True
            )
        )
        batch.create_unique_constraint("uq_user_display_name_key", ["display_name_key"])


def downgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.drop_constraint("uq_user_display_name_key", type_="unique")
        batch.drop_column("display_name_key")
        batch.drop_column("display_name")
