"""Which providers this server offers, built from the settings.

Hosted providers are always listed (unconfigured ones show as unavailable);
the fault injector exists only when a test enables it.
"""

from __future__ import annotations

import importlib
from functools import cache

from studio_app.providers.base import ImageProvider, ProviderInfo
from studio_app.settings import Settings, get_settings

DEFAULT_PROVIDER = "offline"
# name → "module:Class"; each class takes the Settings.
_PROVIDER_CLASSES = {
    "offline": "studio_app.providers.offline:OfflineProvider",
    "openai": "studio_app.providers.openai_provider:OpenAIProvider",
    "gemini": "studio_app.providers.gemini_provider:GeminiProvider",
    "replicate": "studio_app.providers.replicate_provider:ReplicateProvider",
    "huggingface": "studio_app.providers.huggingface_provider:HuggingFaceProvider",
    "fault": "studio_app.providers.fault:FaultProvider",
}


def _names(settings: Settings) -> list[str]:
    names = [name for name in _PROVIDER_CLASSES if name != "fault"]
    if settings.enable_fault_provider:
        names.append("fault")
    return names


@cache
def _instance(name: str, settings: Settings) -> ImageProvider:
    module_name, class_name = _PROVIDER_CLASSES[name].split(":")
    provider_class = getattr(importlib.import_module(module_name), class_name)
    return provider_class(settings)


def all_providers() -> dict[str, ImageProvider]:
    settings = get_settings()
    return {name: _instance(name, settings) for name in _names(settings)}


def get_provider(name: object) -> ImageProvider | None:
    settings = get_settings()
    if not isinstance(name, str) or name not in _names(settings):
        return None
    return _instance(name, settings)


def _unavailable_reason(provider: ImageProvider, switched_off: set[str]) -> str:
    if not provider.is_configured():
        return "not configured on this server"
    if provider.name in switched_off:
        return "switched off by an admin"
    return ""


def provider_infos() -> list[ProviderInfo]:
    # Imported here: the switches service lists providers through this module.
    from studio_app.services import provider_switches
    from studio_app.services.db import read_session

    with read_session() as db:
        switched_off = provider_switches.disabled_names(db)
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
        for p in all_providers().values()
    ]
