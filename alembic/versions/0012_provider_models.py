"""Provider models: the admin's model per provider, and the model a provider said is gone.

`model` = "" keeps the environment setting (else the default); `failed_model`,
`failed_at` and `failure_detail` record the last 404/410 for a model, which hides the
provider from members until an admin picks another model.

Revision ID: 0012_provider_models
Revises: 0011_ledger_links
Create Date: 2026-12-03 07:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012_provider_models"
down_revision: str | None = "0011_ledger_links"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("provider_setting", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("model", _TEXT(length=120), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("failed_model", _TEXT(length=120), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("failed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("failure_detail", _TEXT(length=500), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("provider_setting", schema=None) as batch_op:
        batch_op.drop_column("failure_detail")
        batch_op.drop_column("failed_at")
        batch_op.drop_column("failed_model")
        batch_op.drop_column("model")
