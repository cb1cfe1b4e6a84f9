"""Users, the catalog, generations and the credit ledger.

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 12:09:23.639019
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('image_category',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    with op.batch_alter_table('image_category', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_image_category_slug'), ['slug'], unique=True)

    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_email'), ['email'], unique=True)

    op.create_table('credit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint("(kind = 'capture' AND amount < 0) OR (kind <> 'capture' AND amount > 0)", name='ck_credit_entry_sign'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('credit_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_entry_user_id'), ['user_id'], unique=False)

    op.create_table('image_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('prompt', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('default_tier', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('preview_image_key', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['image_category.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('category_id', 'slug', name='uq_template_category_slug')
    )
    with op.batch_alter_table('image_template', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_image_template_category_id'), ['category_id'], unique=False)

    op.create_table('generated_image',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=True),
    sa.Column('prompt', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('enhanced_prompt', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
    sa.Column('negative_prompt', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('seed', sa.Integer(), nullable=True),
    sa.Column('provider', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('model', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('tier', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('error_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('error_message', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('cost_credits', sa.Integer(), nullable=False),
    sa.Column('image_key', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('thumbnail_key', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['template_id'], ['image_template.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('generated_image', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_generated_image_public_id'), ['public_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_generated_image_status'), ['status'], unique=False)
        batch_op.create_index('ix_generated_image_user_created', ['user_id', 'created_at', 'id'], unique=False)

    op.create_table('credit_hold',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('generation_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.CheckConstraint('amount > 0', name='ck_credit_hold_positive'),
    sa.ForeignKeyConstraint(['generation_id'], ['generated_image.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('credit_hold', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_hold_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_hold_generation_id'), ['generation_id'], unique=False)
        batch_op.create_index('ix_credit_hold_user_status', ['user_id', 'status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('credit_hold', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_hold_user_status')
        batch_op.drop_index(batch_op.f('ix_credit_hold_generation_id'))
        batch_op.drop_index(batch_op.f('ix_credit_hold_expires_at'))

    op.drop_table('credit_hold')
    with op.batch_alter_table('generated_image', schema=None) as batch_op:
        batch_op.drop_index('ix_generated_image_user_created')
        batch_op.drop_index(batch_op.f('ix_generated_image_status'))
        batch_op.drop_index(batch_op.f('ix_generated_image_public_id'))

    op.drop_table('generated_image')
    with op.batch_alter_table('image_template', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_image_template_category_id'))

    op.drop_table('image_template')
    with op.batch_alter_table('credit_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_entry_user_id'))

    op.drop_table('credit_entry')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_email'))

    op.drop_table('user')
    with op.batch_alter_table('image_category', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_image_category_slug'))

    op.drop_table('image_category')
