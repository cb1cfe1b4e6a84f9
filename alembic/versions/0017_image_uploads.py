"""Pictures users upload to edit: one row per upload, its object in the upload store.

Revision ID: 0017_image_uploads
Revises: 0016_app_secrets
Create Date: 2026-12-03 18:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0017_image_uploads"
down_revision: str | None = "0016_app_secrets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "image_upload",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("image_key", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("deleted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("image_upload") as batch:
        batch.create_index("ix_image_upload_public_id", ["public_id"], unique=True)
        batch.create_index("ix_image_upload_user_created", ["user_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_table("image_upload")
