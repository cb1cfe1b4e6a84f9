"""Admins' kill switches for image providers (the ProviderSetting table).

A provider without a row is enabled. A switched-off provider is listed as
unavailable in the studio and refused by `generation.validate` at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from studio_app.models import ProviderSetting
from studio_app.providers import registry
from studio_app.services import audit
from studio_app.services.admin_guard import require_admin
from studio_app.services.auth import CurrentUser
from studio_app.services.clock import utcnow
from studio_app.services.db import read_session, write_session
from studio_app.services.errors import InvalidInput

SWITCHED_OFF_REASON = "switched off by an admin"


@dataclass(frozen=True)
class ProviderSwitch:
    """One provider as the admin tab shows it."""

    name: str
    label: str
    model: str
    configured: bool
    enabled: bool


def disabled_names(db: Session) -> set[str]:
    rows = db.exec(
        select(ProviderSetting.name).where(ProviderSetting.enabled == False)  # noqa: E712
    ).all()
    return set(rows)


def is_enabled(db: Session, name: str) -> bool:
    setting = db.get(ProviderSetting, name)
    return setting is None or setting.enabled


def list_switches(actor: CurrentUser) -> list[ProviderSwitch]:
    require_admin(actor)
    with read_session() as db:
        disabled = disabled_names(db)
    return [
        ProviderSwitch(
            name=provider.name,
            label=provider.label,
            model=provider.model,
            configured=provider.is_configured(),
            enabled=provider.name not in disabled,
        )
        for provider in registry.all_providers().values()
    ]


def set_enabled(actor: CurrentUser, name: object, enabled: object) -> bool:
    """Switch a provider on or off for everyone. Returns whether anything changed."""
    admin = require_admin(actor)
    if not isinstance(name, str) or registry.get_provider(name) is None:
        raise InvalidInput("Unknown provider.", field="provider")
    if not isinstance(enabled, bool):
        raise InvalidInput("Choose on or off.", field="enabled")
    with write_session() as db:
        setting = db.get(ProviderSetting, name)
        was_enabled = setting is None or setting.enabled
        if was_enabled == enabled:
            return False
        if setting is None:
            setting = ProviderSetting(name=name)
        setting.enabled = enabled
        setting.updated_at = utcnow()
        db.add(setting)
        audit.record(
            db,
            admin.id,
            "provider.enable" if enabled else "provider.disable",
            f"provider {name}",
            before={"enabled": was_enabled},
            after={"enabled": enabled},
        )
        return True
