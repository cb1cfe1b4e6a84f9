"""The admin audit log: who did what, when, with the values before and after."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from studio_app.models import AuditEntry, User
from studio_app.services.db import read_session


def _as_text(values: Any) -> str:
    if values is None or values == "":
        return ""
    if isinstance(values, str):
        return values[:4000]
    return json.dumps(values, default=str, ensure_ascii=False, sort_keys=True)[:4000]


def record(
    db: Session, actor_id: int, action: str, target: str, *, before: Any = None, after: Any = None
) -> None:
    """Write one entry in the caller's transaction (so it lands exactly when the change does)."""
    db.add(
        AuditEntry(
            actor_id=actor_id,
            action=action,
            target=target[:200],
            before=_as_text(before),
            after=_as_text(after),
        )
    )


@dataclass
class AuditView:
    when: str = ""
    actor: str = ""
    action: str = ""
    target: str = ""
    before: str = ""
    after: str = ""


def recent(limit: int = 100) -> list[AuditView]:
    with read_session() as db:
        rows = db.exec(
            select(AuditEntry, User.email)
            .join(User, col(User.id) == col(AuditEntry.actor_id))
            .order_by(col(AuditEntry.created_at).desc(), col(AuditEntry.id).desc())
            .limit(limit)
        ).all()
    return [
        AuditView(
            when=entry.created_at.strftime("%d %b %Y, %H:%M UTC"),
            actor=email,
            action=entry.action,
            target=entry.target,
            before=entry.before,
            after=entry.after,
        )
        for entry, email in rows
    ]
