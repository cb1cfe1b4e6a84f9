"""A seed is up to 2**32 - 1: a 64-bit column, so PostgreSQL stores it (its integer is 32-bit).

SQLite stores any integer in an INTEGER column; this changes only the declared type there.

Revision ID: 0013_seed_bigint
Revises: 0012_provider_models
Create Date: 2026-12-03 08:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013_seed_bigint'
down_revision: str | None = '0012_provider_models'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('generated_image', schema=None) as batch_op:
        batch_op.alter_column(
            'seed', existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=True
        )


def downgrade() -> None:
    with op.batch_alter_table('generated_image', schema=None) as batch_op:
        batch_op.alter_column(
            'seed', existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=True
        )
