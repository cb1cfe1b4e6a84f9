"""Edits: a creation may name the upload it changed.

Revision ID: 0018_edit_sources
Revises: 0017_image_uploads
Create Date: 2026-12-03 20:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_edit_sources"
down_revision: str | None = "0017_image_uploads"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("generated_image") as batch:
        batch.add_column(sa.Column("source_upload_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_generated_image_source_upload_id_image_upload",
            "image_upload",
            ["source_upload_id"],
            ["id"],
        )
        batch.create_index("ix_generated_image_source_upload", ["source_upload_id"])


def downgrade() -> None:
    with op.batch_alter_table("generated_image") as batch:
        batch.drop_index("ix_generated_image_source_upload")
        batch.drop_constraint("fk_generated_image_source_upload_id_image_upload", type_="foreignkey")
        batch.drop_column("source_upload_id")
