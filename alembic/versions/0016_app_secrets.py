"""Random keys the app makes for itself: the key that signs short-lived image links.

Revision ID: 0016_app_secrets
Revises: 0015_generation_requests
Create Date: 2026-12-03 17:40:00
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0016_app_secrets"
down_revision: str | None = "0015_generation_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINK_SIGNING = "link-signing"


def upgrade() -> None:
    table = op.create_table(
        "app_secret",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.bulk_insert(table, [{"name": LINK_SIGNING, "value": secrets.token_hex(32)}])


def downgrade() -> None:
    op.drop_table("app_secret")
