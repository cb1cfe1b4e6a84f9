"""Soft delete for creations: `generated_image.deleted_at`.

A creation the user deletes keeps its row (the ledger's captures, holds and the
admin statistics still point at it) but loses its files and disappears from
every user view.

Revision ID: 0004_creations
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004_creations"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("generated_image", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("deleted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("generated_image", schema=None) as batch_op:
        batch_op.drop_column("deleted_at")
