"""Generating through a hosted provider (OpenAI, faked on loopback) end to end."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import PROVIDER_KEY_CANARY, RunningApp
from tests.e2e.helpers import sign_up
from tests.fakes import openai_api
from tests.fakes.server import FakeServer


def test_generate_with_openai(running_app: RunningApp, openai_fake: FakeServer, page: Page) -> None:
    sign_up(page, running_app.url)
    page.locator(".template-card", has_text="Lifestyle scene").click()
    page.get_by_role("combobox").click()
    page.get_by_role("option", name="OpenAI").click()
    # gpt-image-1.5 cannot make 16:9: the studio says so and offers the others.
    expect(page.locator(".tiers-note")).to_contain_text("square, 3:2 and 2:3 images only")
    page.locator(".tier-option", has_text="Premium").first.click()
    before = len(openai_fake.requests_to(openai_api.GENERATIONS_PATH))
    page.locator("#generate").click()

    image = page.locator(".job-succeeded img.result-image").first
    expect(image).to_be_visible(timeout=30_000)
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [1536, 1024]
    expect(page.locator(".credit-balance")).to_have_text("3")

    sent = openai_fake.requests_to(openai_api.GENERATIONS_PATH)[before:]
    assert len(sent) == 1
    assert sent[0].json()["size"] == "1536x1024"
    assert "handwoven cotton throw" in sent[0].json()["prompt"]
    assert sent[0].headers["authorization"] == f"Bearer {PROVIDER_KEY_CANARY}"
