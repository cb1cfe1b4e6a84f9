"""Ledger links as columns: the hold a capture took, the capture a refund gives back, the payment a purchase credits

Until now these links lived only inside the entries' idempotency keys
(`capture:hold{id}`, `refund:entry{id}`, `purchase:u{user}:{payment key}`),
parsed again wherever they were needed. This adds three nullable foreign keys
to `credit_entry`, each with a unique index (one capture per hold, one refund
per capture, one purchase entry per payment; NULLs do not collide), and fills
them from those keys. The keys stay as they are: they remain the retry keys.

The back-fill is plain SQL (UPDATE ... FROM, SQLite 3.33+ and PostgreSQL) that
builds each key from the row it would name and matches it against the stored
key, so nothing is parsed, a key that names no row links nothing, and it runs
in offline mode too. A link is made only between rows of the same user.

On SQLite the batch recreates the table to add the foreign keys (named, so a
downgrade can drop them); the named CHECK on the amount's sign is reflected
from the table's DDL and kept.

Revision ID: 0011_ledger_links
Revises: 0010_normalize_emails
Create Date: 2026-12-04 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011_ledger_links'
down_revision: str | None = '0010_normalize_emails'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_entries = sa.table(
    "credit_entry",
    sa.column("id", sa.Integer),
    sa.column("user_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("idempotency_key", sa.String),
    sa.column("hold_id", sa.Integer),
    sa.column("refunds_entry_id", sa.Integer),
    sa.column("payment_id", sa.Integer),
)
_holds = sa.table("credit_hold", sa.column("id", sa.Integer), sa.column("user_id", sa.Integer))
_payments = sa.table(
    "payment",
    sa.column("id", sa.Integer),
    sa.column("user_id", sa.Integer),
    sa.column("idempotency_key", sa.String),
)


def _text(value: sa.ColumnElement) -> sa.ColumnElement:
    return sa.cast(value, sa.String)


def _backfill() -> None:
    # ledger.capture: f"capture:hold{hold.id}"
    op.execute(
        _entries.update()
        .where(
            _entries.c.kind == "capture",
            _entries.c.user_id == _holds.c.user_id,
            _entries.c.idempotency_key == sa.literal("capture:hold") + _text(_holds.c.id),
        )
        .values(hold_id=_holds.c.id)
    )
    # ledger.refund: f"refund:entry{capture_entry.id}"
    captured = _entries.alias("captured")
    op.execute(
        _entries.update()
        .where(
            _entries.c.kind == "refund",
            captured.c.kind == "capture",
            _entries.c.user_id == captured.c.user_id,
            _entries.c.idempotency_key == sa.literal("refund:entry") + _text(captured.c.id),
        )
        .values(refunds_entry_id=captured.c.id)
    )
    # ledger.purchase through payments: f"purchase:u{user_id}:{payment.idempotency_key}"
    op.execute(
        _entries.update()
        .where(
            _entries.c.kind == "purchase",
            _entries.c.user_id == _payments.c.user_id,
            _entries.c.idempotency_key
            == sa.literal("purchase:u")
            + _text(_payments.c.user_id)
            + sa.literal(":")
            + _payments.c.idempotency_key,
        )
        .values(payment_id=_payments.c.id)
    )


def upgrade() -> None:
    with op.batch_alter_table('credit_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hold_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('refunds_entry_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('payment_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            'fk_credit_entry_hold_id_credit_hold', 'credit_hold', ['hold_id'], ['id']
        )
        batch_op.create_foreign_key(
            'fk_credit_entry_refunds_entry_id_credit_entry',
            'credit_entry',
            ['refunds_entry_id'],
            ['id'],
        )
        batch_op.create_foreign_key(
            'fk_credit_entry_payment_id_payment', 'payment', ['payment_id'], ['id']
        )
        batch_op.create_index(batch_op.f('ix_credit_entry_hold_id'), ['hold_id'], unique=True)
        batch_op.create_index(
            batch_op.f('ix_credit_entry_refunds_entry_id'), ['refunds_entry_id'], unique=True
        )
        batch_op.create_index(
            batch_op.f('ix_credit_entry_payment_id'), ['payment_id'], unique=True
        )
    _backfill()


def downgrade() -> None:
    with op.batch_alter_table('credit_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_entry_payment_id'))
        batch_op.drop_index(batch_op.f('ix_credit_entry_refunds_entry_id'))
        batch_op.drop_index(batch_op.f('ix_credit_entry_hold_id'))
        batch_op.drop_constraint('fk_credit_entry_payment_id_payment', type_='foreignkey')
        batch_op.drop_constraint(
            'fk_credit_entry_refunds_entry_id_credit_entry', type_='foreignkey'
        )
        batch_op.drop_constraint('fk_credit_entry_hold_id_credit_hold', type_='foreignkey')
        batch_op.drop_column('payment_id')
        batch_op.drop_column('refunds_entry_id')
        batch_op.drop_column('hold_id')
