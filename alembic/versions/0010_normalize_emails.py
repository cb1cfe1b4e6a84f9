"""Normalise stored email addresses; report look-alike accounts without merging them

Sign-up and sign-in now normalise addresses (studio_app/services/emails.py:
NFKC, invisible characters removed, a trailing dot of the domain dropped,
punycode domains decoded, lowercase). This rewrites each stored address to that
spelling, except:

- accounts whose addresses normalise to the same one (look-alikes, e.g.
  "ann@example.com" and "ann\\u200b@example.com") are all left unchanged: which
  one is the person's, and what happens to the other's credits and images, is
  an operator's decision;
- an address the normaliser refuses is left unchanged.

Both are logged as warnings on the `alembic.runtime.migration` logger (shown by
`alembic upgrade`; alembic's NullHandler swallows them when nothing configured
logging), and `python -m studio_app.cli migrate` / `setup` print what is left to
resolve after every run until it is resolved.

The normaliser is imported from the app rather than copied: this revision
applies the rule sign-in uses, and the rule is idempotent, so a later
refinement of it only makes this step agree with the app of its day. No schema
change, so no batch operations are needed. Downgrade keeps the normalised
spellings (the originals are not kept).

Revision ID: 0010_normalize_emails
Revises: 0009_api_token_expiry
Create Date: 2026-12-03 10:12:00.000000
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from studio_app.services.emails import plan_normalization

revision: str = '0010_normalize_emails'
down_revision: str | None = '0009_api_token_expiry'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")
_users = sa.table("user", sa.column("id", sa.Integer), sa.column("email", sa.String))


def upgrade() -> None:
    if context.is_offline_mode():
        log.warning("0010: email addresses are normalised only when migrating online.")
        return
    connection = op.get_bind()
    rows = connection.execute(sa.select(_users.c.id, _users.c.email)).all()
    plan = plan_normalization((row.id, row.email) for row in rows)
    for user_id, _stored, normalized in plan.renames:
        connection.execute(
            _users.update().where(_users.c.id == user_id).values(email=normalized)
        )
    log.info("0010: normalised %d email address(es).", len(plan.renames))
    for group in plan.collisions:
        log.warning(
            "0010: look-alike accounts left unchanged (they normalise to one address): %s",
            group.describe(),
        )
    for user_id, stored in plan.unparseable:
        log.warning("0010: user %d has an address that is not valid, left unchanged: %a",
                    user_id, stored)


def downgrade() -> None:
    pass
