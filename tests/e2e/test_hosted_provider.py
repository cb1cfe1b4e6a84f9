"""Generating through hosted providers (OpenAI and Replicate, faked on loopback) end to end."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import (
    ARTIFACTS,
    PROVIDER_KEY_CANARY,
    REPLICATE_KEY_CANARY,
    RunningApp,
)
from tests.e2e.helpers import choose_provider, open_admin_tab, sign_up
from tests.fakes import openai_api, replicate_api
from tests.fakes.server import FakeServer


def _natural_size(page: Page) -> list[int]:
    image = page.locator(".job-succeeded img.result-image").first
    expect(image).to_be_visible(timeout=30_000)
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    return image.evaluate("img => [img.naturalWidth, img.naturalHeight]")


def test_generate_with_openai_at_the_wide_tier(
    running_app: RunningApp, openai_fake: FakeServer, page: Page
) -> None:
    sign_up(page, running_app.url)
    page.locator(".template-card", has_text="Lifestyle scene").click()
    choose_provider(page, "OpenAI")
    page.locator(".tier-option", has_text="Premium wide").click()
    expect(page.locator("#generate")).to_contain_text("4 credits")
    before = len(openai_fake.requests_to(openai_api.GENERATIONS_PATH))
    page.locator("#generate").click()

    # The stored image is the size the tier promises, asked of OpenAI as such.
    assert _natural_size(page) == [1792, 1008]
    expect(page.locator(".credit-balance")).to_have_text("1")
    sent = openai_fake.requests_to(openai_api.GENERATIONS_PATH)[before:]
    assert len(sent) == 1
    assert (sent[0].json()["model"], sent[0].json()["size"]) == ("gpt-image-2.6-flare", "1792x1008")
    assert "handwoven cotton throw" in sent[0].json()["prompt"]
    assert sent[0].headers["authorization"] == f"Bearer {PROVIDER_KEY_CANARY}"


def _use_replicate_model(admin_page: Page, model: str) -> None:
    card = admin_page.locator(".provider-card[data-provider='replicate']")
    field = card.locator(".model-input input")
    field.fill(model)
    field.press("Enter")
    expect(admin_page.get_by_text(f"Replicate now uses {model}.")).to_be_visible()


def test_a_one_megapixel_model_is_not_offered_the_premium_tiers(
    running_app: RunningApp, openai_fake: FakeServer, page: Page, second_page: Page
) -> None:
    admin_page = second_page
    open_admin_tab(admin_page, running_app.url, "providers")
    _use_replicate_model(admin_page, replicate_api.SCHNELL)
    try:
        sign_up(page, running_app.url)
        page.locator("#prompt").fill("A paper boat on a puddle")
        choose_provider(page, "Replicate")
        note = page.locator(".tiers-note")
        expect(note).to_contain_text("about 1 megapixel")
        for tier in ("Premium", "Premium wide"):
            option = page.locator(".tier-option", has_text=tier).first
            expect(option).to_be_disabled()
        page.screenshot(path=ARTIFACTS / "studio-greyed-tiers.png", full_page=True)

        before = len(replicate_api.creates(openai_fake))
        page.locator("#generate").click()
        assert _natural_size(page) == [1024, 1024]
        expect(page.locator(".credit-balance")).to_have_text("4")
        sent = replicate_api.creates(openai_fake)[before:]
        assert len(sent) == 1
        assert "flux-schnell" in sent[0].path
        assert sent[0].headers["authorization"] == f"Bearer {REPLICATE_KEY_CANARY}"
    finally:
        _use_replicate_model(admin_page, replicate_api.MODEL)
