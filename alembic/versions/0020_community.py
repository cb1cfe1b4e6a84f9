"""The community: published posts, their likes, reports and prompt reuses; users an
admin stopped from publishing.

Revision ID: 0020_community
Revises: 0019_display_names
Create Date: 2026-12-03 20:25:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0020_community'
down_revision: str | None = '0019_display_names'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('community_post',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('generation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('caption', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('show_prompt', sa.Boolean(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('template_id', sa.Integer(), nullable=True),
    sa.Column('provider', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('tier', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('image_key', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('thumbnail_key', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('like_count', sa.Integer(), nullable=False),
    sa.Column('likes_week', sa.Integer(), nullable=False),
    sa.Column('reuse_count', sa.Integer(), nullable=False),
    sa.Column('published_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['image_category.id'], ),
    sa.ForeignKeyConstraint(['generation_id'], ['generated_image.id'], ),
    sa.ForeignKeyConstraint(['template_id'], ['image_template.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('generation_id')
    )
    with op.batch_alter_table('community_post', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_community_post_category_id'), ['category_id'], unique=False)
        batch_op.create_index('ix_community_post_newest', ['status', 'published_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_community_post_public_id'), ['public_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_community_post_template_id'), ['template_id'], unique=False)
        batch_op.create_index('ix_community_post_top', ['status', 'like_count', 'id'], unique=False)
        batch_op.create_index('ix_community_post_top_week', ['status', 'likes_week', 'id'], unique=False)
        batch_op.create_index('ix_community_post_user', ['user_id', 'status'], unique=False)

    op.create_table('post_like',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['community_post.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('post_id', 'user_id', name='uq_post_like_post_user')
    )
    with op.batch_alter_table('post_like', schema=None) as batch_op:
        batch_op.create_index('ix_post_like_created', ['created_at', 'post_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_post_like_user_id'), ['user_id'], unique=False)

    op.create_table('post_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('details', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['community_post.id'], ),
    sa.ForeignKeyConstraint(['reporter_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('post_id', 'reporter_id', name='uq_post_report_reporter')
    )
    with op.batch_alter_table('post_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_post_report_post_id'), ['post_id'], unique=False)

    op.create_table('prompt_reuse_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['community_post.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('post_id', 'user_id', name='uq_prompt_reuse_post_user')
    )
    with op.batch_alter_table('prompt_reuse_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prompt_reuse_event_post_id'), ['post_id'], unique=False)

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('can_publish', sa.Boolean(), nullable=False, server_default=sa.true())
        )



def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('can_publish')

    with op.batch_alter_table('prompt_reuse_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prompt_reuse_event_post_id'))

    op.drop_table('prompt_reuse_event')
    with op.batch_alter_table('post_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_post_report_post_id'))

    op.drop_table('post_report')
    with op.batch_alter_table('post_like', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_post_like_user_id'))
        batch_op.drop_index('ix_post_like_created')

    op.drop_table('post_like')
    with op.batch_alter_table('community_post', schema=None) as batch_op:
        batch_op.drop_index('ix_community_post_user')
        batch_op.drop_index('ix_community_post_top_week')
        batch_op.drop_index('ix_community_post_top')
        batch_op.drop_index(batch_op.f('ix_community_post_template_id'))
        batch_op.drop_index(batch_op.f('ix_community_post_public_id'))
        batch_op.drop_index('ix_community_post_newest')
        batch_op.drop_index(batch_op.f('ix_community_post_category_id'))

    op.drop_table('community_post')
