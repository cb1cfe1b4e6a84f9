"""Every provider's default model is a current one and makes every tier at its real size."""

from __future__ import annotations

import pytest

from studio_app.providers import registry
from studio_app.services import enhance
from studio_app.settings import Settings, reload_settings

HOSTED = ("openai", "gemini", "replicate", "huggingface")


@pytest.fixture
def defaults(monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in (
        "STUDIO_OPENAI_IMAGE_MODEL",
        "STUDIO_OPENAI_CHAT_MODEL",
        "STUDIO_GEMINI_IMAGE_MODEL",
        "STUDIO_GEMINI_CHAT_MODEL",
        "STUDIO_REPLICATE_MODEL",
        "STUDIO_HF_IMAGE_MODEL",
        "STUDIO_HF_CHAT_MODEL",
    ):
        monkeypatch.delenv(name, raising=False)
    return reload_settings()


@pytest.mark.parametrize("name", ["offline", *HOSTED])
def test_the_default_model_is_the_first_known_one_and_offers_every_tier(
    name: str, defaults: Settings
) -> None:
    provider = registry.get_provider(name)
    assert provider is not None
    assert provider.model == provider.known_models[0]
    assert provider.unavailable_tiers() == {}


def test_the_enhancer_chain_asks_only_providers_that_can_chat(defaults: Settings) -> None:
    for name in enhance.CHAT_PROVIDERS:
        provider = registry.get_provider(name)
        assert provider is not None and callable(getattr(provider, "chat", None))
        assert getattr(provider, "chat_model", "")
