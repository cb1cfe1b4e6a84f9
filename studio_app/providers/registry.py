"""Which providers this server offers."""

from __future__ import annotations

from functools import cache

from studio_app.providers.base import ImageProvider, ProviderInfo
from studio_app.providers.fault import FaultProvider
from studio_app.providers.offline import OfflineProvider
from studio_app.settings import get_settings

DEFAULT_PROVIDER = "offline"


@cache
def _providers(enable_fault: bool) -> dict[str, ImageProvider]:
    providers: dict[str, ImageProvider] = {"offline": OfflineProvider()}
    if enable_fault:
        providers["fault"] = FaultProvider()
    return providers


def all_providers() -> dict[str, ImageProvider]:
    return _providers(get_settings().enable_fault_provider)


def get_provider(name: str) -> ImageProvider | None:
    return all_providers().get(name) if isinstance(name, str) else None


def provider_infos() -> list[ProviderInfo]:
    return [
        ProviderInfo(
            name=p.name,
            label=p.label,
            model=p.model,
            configured=p.is_configured(),
            unavailable_tiers=p.unavailable_tiers(),
        )
        for p in all_providers().values()
    ]
