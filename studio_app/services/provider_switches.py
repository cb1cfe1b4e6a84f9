"""Which image providers people may use: configured on this server, not switched off
by an admin (the ProviderSetting table; no row: enabled), and whose model has not gone
(services/provider_models.py).

A provider that is not configured or switched off is listed with the reason in the
studio; one whose model has gone is not listed at all. Both are refused by
`generation.validate` at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from studio_app.clock import utcnow
from studio_app.models import ProviderSetting
from studio_app.providers import registry
from studio_app.providers.base import ImageProvider
from studio_app.services import audit, provider_models
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
    # Why it cannot edit a picture with its model now ("" when it can).
    edit_unavailable: str = ""


def unavailable_reason(provider: ImageProvider, setting: ProviderSetting | None) -> str:
    """Why nobody can use `provider` now ("" when they can)."""
    if not provider.is_configured():
        return NOT_CONFIGURED_REASON
    if setting is not None and not setting.enabled:
        return SWITCHED_OFF_REASON
    if provider_models.gone_model(provider, setting):
        return provider_models.MODEL_GONE_REASON
    return ""


def provider_names() -> list[str]:
    """The names of this server's providers (available now or not)."""
    return list(registry.all_providers())


def _info(provider: ImageProvider, setting: ProviderSetting | None) -> ProviderInfo:
    model = provider_models.effective_model(provider, setting)
    return ProviderInfo(
        name=provider.name,
        label=provider.label,
        model=model,
        configured=provider.is_configured(),
        unavailable_tiers=provider.unavailable_tiers(model),
        supports_negative_prompt=provider.supports_negative_prompt,
        supports_seed=provider.supports_seed,
        unavailable_reason=unavailable_reason(provider, setting),
        edit_unavailable=provider.edit_unavailable(model),
    )


def provider_infos() -> list[ProviderInfo]:
    """The providers people see, and whether (and why not) they may use each.

    A provider whose model has gone is left out until an admin picks another model.
    """
    with read_session() as db:
        settings = provider_models.settings_by_name(db)
    infos = [_info(p, settings.get(p.name)) for p in registry.all_providers().values()]
    return [info for info in infos if info.unavailable_reason != provider_models.MODEL_GONE_REASON]


def list_switches(actor: CurrentUser) -> list[provider_models.ModelStatus]:
    """Every provider with its switch and its model, for the admin Providers tab."""
    require_admin(actor)
    return provider_models.model_statuses()


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
