"""The admin audit log: who did what, when, with the values before and after.

Services write entries in their own transactions (`record`); the admin tab reads them
back readable (`read_log`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from studio_app.models import AuditEntry, User
from studio_app.services.admin_guard import require_admin
from studio_app.services.auth import CurrentUser
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
class AuditLine:
    """One audit entry, readable: before/after as "field: value" text, not JSON."""

    when: str = ""
    actor: str = ""
    action: str = ""
    target: str = ""
    before: str = ""
    after: str = ""


_ACTION_LABELS = {
    "category.create": "Created category",
    "category.update": "Edited category",
    "category.move": "Moved category",
    "category.deactivate": "Deactivated category",
    "category.reactivate": "Reactivated category",
    "template.create": "Created template",
    "template.update": "Edited template",
    "template.move": "Moved template",
    "template.deactivate": "Deactivated template",
    "template.reactivate": "Reactivated template",
    "template.preview_upload": "Uploaded preview",
    "template.preview_generate": "Generated preview",
    "community.hide": "Hid post",
    "community.restore": "Restored post",
    "community.remove": "Removed post",
    "community.stop_author": "Stopped author from publishing",
}


def _action_label(action: str) -> str:
    return _ACTION_LABELS.get(action, action.replace(".", " ").replace("_", " "))


def _readable_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return " › ".join(str(v) for v in value)
    if value is None or value == "":
        return "—"
    text = str(value)
    return text if len(text) <= 160 else text[:157] + "…"


def readable_change(text: str) -> str:
    """`{"name": "A"}` → `name: A`; plain text stays as it is."""
    if not text:
        return ""
    try:
        values = json.loads(text)
    except ValueError:
        return text
    if not isinstance(values, dict):
        return _readable_value(values)
    return "; ".join(f"{key.replace('_', ' ')}: {_readable_value(v)}" for key, v in values.items())


def read_log(actor: CurrentUser | None, limit: int = 200) -> list[AuditLine]:
    """The newest admin actions first, every kind, readable; admins only."""
    require_admin(actor)
    with read_session() as db:
        rows = db.exec(
            select(AuditEntry, User.email)
            .join(User, col(User.id) == col(AuditEntry.actor_id))
            .order_by(col(AuditEntry.created_at).desc(), col(AuditEntry.id).desc())
            .limit(limit)
        ).all()
    return [
        AuditLine(
            when=entry.created_at.strftime("%d %b %Y, %H:%M UTC"),
            actor=email,
            action=_action_label(entry.action),
            target=entry.target,
            before=readable_change(entry.before),
            after=readable_change(entry.after),
        )
        for entry, email in rows
    ]
