"""Several images per request: each image row names its request and its place in it.

A request's id is the public id of its first image, so an existing image is a request of
one: its `request_id` is its own public id.

Revision ID: 0015_generation_requests
Revises: 0014_maintenance_runs
Create Date: 2026-12-03 17:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0015_generation_requests"
down_revision: str | None = "0014_maintenance_runs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("generated_image") as batch:
        batch.add_column(
            sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
        batch.add_column(
            sa.Column("request_index", sa.Integer(), nullable=False, server_default="0")
        )
    op.execute("UPDATE generated_image SET request_id = public_id")
    with op.batch_alter_table("generated_image") as batch:
        batch.alter_column(
            "request_id", existing_type=sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False
        )
        batch.create_index(
            "ix_generated_image_request", ["request_id", "request_index"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("generated_image") as batch:
        batch.drop_index("ix_generated_image_request")
        batch.drop_column("request_index")
        batch.drop_column("request_id")
