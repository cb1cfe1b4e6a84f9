"""Which image providers people may use: configured on this server, and not
switched off by an admin (the ProviderSetting table; no row: enabled).

A provider that is not available is listed with the reason in the studio and refused
by `generation.validate` at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, select

from studio_app.clock import utcnow
from studio_app.models import ProviderSetting
from studio_app.providers import registry
from studio_app.providers.base import ImageProvider
from studio_app.services import audit
from studio_app.services.admin_guard import require_admin
from studio_app.services.auth import CurrentUser
from studio_app.services.db import read_session, write_session
from studio_app.services.errors import InvalidInput

DEFAULT_PROVIDER = "offline"
SWITCHED_OFF_REASON = "switched off by an admin"
NOT_CONFIGURED_REASON = "not configured on this server"


@dataclass
class ProviderInfo:
    """What the studio shows about a provider (browser-safe)."""

    name: str
    label: str
    model: str
    configured: bool
    unavailable_tiers: dict[str, str] = field(default_factory=dict)
    # Why nobody can use it right now ("" when they can): not configured, or switched off.
    unavailable_reason: str = ""
    supports_negative_prompt: bool = False
    supports_seed: bool = False


def _unavailable_reason(provider: ImageProvider, switched_off: set[str]) -> str:
    if not provider.is_configured():
        return NOT_CONFIGURED_REASON
    if provider.name in switched_off:
        return SWITCHED_OFF_REASON
    return ""


def provider_names() -> list[str]:
    """The names of this server's providers (available now or not)."""
    return list(registry.all_providers())


def provider_infos() -> list[ProviderInfo]:
    """Every provider of this server and whether (and why not) people may use it."""
    with read_session() as db:
        switched_off = disabled_names(db)
    return [
        ProviderInfo(
            name=p.name,
            label=p.label,
            model=p.model,
            configured=p.is_configured(),
            unavailable_tiers=p.unavailable_tiers(),
            supports_negative_prompt=p.supports_negative_prompt,
            supports_seed=p.supports_seed,
            unavailable_reason=_unavailable_reason(p, switched_off),
        )
        for p in registry.all_providers().values()
    ]


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
