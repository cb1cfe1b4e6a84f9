"""Which providers this server has, built from the settings.

Hosted providers are always listed (whether people may use them is the services'
rule: services/provider_switches.py); the fault injector exists only when a test
enables it.
"""

from __future__ import annotations

import importlib
from functools import cache

from studio_app.providers.base import ImageProvider
from studio_app.settings import Settings, get_settings

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
