"""A person signs up, generates, and sees the result and the price taken."""

from __future__ import annotations

import json
import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import PROVIDER_KEY_CANARY, REPLICATE_KEY_CANARY, RunningApp
from tests.e2e.helpers import (
    PASSWORD,
    choose_provider,
    collect_frames,
    new_email,
    sign_up,
    studio_url,
)


def test_signed_out_visitors_are_sent_to_sign_in(running_app: RunningApp, page: Page) -> None:
    page.goto(f"{running_app.url}/")
    expect(page).to_have_url(re.compile(r".*/login/?$"))
    expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()


def test_sign_in_shows_clear_errors_then_lets_you_in(running_app: RunningApp, page: Page) -> None:
    email = sign_up(page, running_app.url)
    page.locator(".account-email").click()
    page.locator(".sign-out").click()
    expect(page).to_have_url(re.compile(r".*/login/?$"))

    page.fill("#email", email)
    page.fill("#password", "not my password")
    page.locator("form button[type=submit]").click()
    expect(page.locator(".form-error")).to_have_text("Wrong email or password.")

    page.fill("#password", PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page).to_have_url(studio_url(running_app.url))
    expect(page.locator(".credit-balance")).to_have_text("5")


def test_sign_up_explains_bad_input(running_app: RunningApp, page: Page) -> None:
    page.goto(f"{running_app.url}/signup")
    page.fill("#email", new_email())
    page.fill("#password", "short")
    page.fill("#password_confirm", "short")
    page.locator("form button[type=submit]").click()
    expect(page.locator(".form-error")).to_contain_text("at least 8 characters")
    expect(page).to_have_url(re.compile(r".*/signup/?$"))


def test_generate_from_a_template(running_app: RunningApp, page: Page) -> None:
    frames = collect_frames(page)
    sign_up(page, running_app.url)
    expect(page.locator(".credit-balance")).to_have_text("5")

    page.locator(".category-chip", has_text="Marketing").click()
    expect(page.locator(".template-card")).to_have_count(3)
    page.locator(".template-card", has_text="Event poster").click()
    expect(page.locator("#prompt")).to_contain_text("Modern event poster for a startup meetup")
    expect(page.locator("#generate")).to_contain_text("2 credits · ₹10")

    page.locator("#generate").click()
    image = page.locator(".job-succeeded img.result-image").first
    expect(image).to_be_visible(timeout=30_000)
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    size = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert size == [1536, 1024]
    expect(page.locator(".credit-balance")).to_have_text("3")
    expect(page.get_by_text("Your image is ready")).to_be_visible()

    sent_to_browser = "\n".join(frames)
    assert "Modern event poster" in sent_to_browser  # the frames were captured
    secrets = ("argon2", "password_hash", "token_hash", "user_id", PROVIDER_KEY_CANARY)
    for secret in (*secrets, REPLICATE_KEY_CANARY):
        assert secret not in sent_to_browser, secret
    state = [json.loads(f[f.index("[") :]) for f in frames if f.startswith("42") and "[" in f]
    assert state, "no socket.io events seen"


def test_a_failed_generation_explains_itself_and_costs_nothing(
    running_app: RunningApp, page: Page
) -> None:
    sign_up(page, running_app.url)
    page.locator("#prompt").fill("A lighthouse at night #fail=quota_exhausted")
    choose_provider(page, "Fault injector (tests)")
    page.locator(".tier-option", has_text="Premium wide").click()
    expect(page.locator("#generate")).to_contain_text("4 credits")
    page.locator("#generate").click()

    expect(page.get_by_text("quota or billing limit is used up").first).to_be_visible(
        timeout=30_000
    )
    expect(page.locator(".job-failed")).to_have_count(1)
    expect(page.locator(".credit-balance")).to_have_text("5")


def test_generate_is_disabled_with_a_reason(running_app: RunningApp, page: Page) -> None:
    sign_up(page, running_app.url)
    page.locator("#prompt").fill("")
    expect(page.locator("#generate")).to_be_disabled()
    expect(page.locator(".generate-blocker")).to_have_text("Write a prompt or choose a template.")
    page.locator("#prompt").fill("A tiny robot watering plants")
    expect(page.locator("#generate")).to_be_enabled()


def test_four_images_with_one_failing_show_as_a_grid_and_charge_three(
    running_app: RunningApp, page: Page
) -> None:
    sign_up(page, running_app.url)
    expect(page.locator(".credit-balance")).to_have_text("5")
    page.locator("#prompt").fill("Paper boats on a pond #fail=safety_refused #fail_image=2")
    choose_provider(page, "Fault injector (tests)")
    page.locator(".image-count").get_by_role("radio", name="4", exact=True).click()
    expect(page.locator("#generate")).to_contain_text("4 credits · ₹20")
    page.locator("#generate").click()

    grid = page.locator(".latest-request")
    expect(grid.locator(".job-card")).to_have_count(4, timeout=30_000)
    expect(grid.locator(".job-succeeded img.job-thumb")).to_have_count(3, timeout=30_000)
    expect(grid.locator(".job-failed")).to_have_count(1)
    expect(grid.locator(".job-failed")).to_contain_text("safety filter")
    expect(page.locator(".latest-summary")).to_have_text("3 of 4 images · 3 credits")
    expect(page.get_by_text("3 of 4 images are ready (3 credits)")).to_be_visible()
    expect(page.locator(".credit-balance")).to_have_text("2")
    # Each is its own creation in My Creations, and says it was made with the others.
    page.goto(f"{running_app.url}/my-creations")
    expect(page.locator(".creation-tile")).to_have_count(4)
    page.locator(".creation-succeeded .creation-open").first.click()
    request = page.locator(".creation-dialog .detail-request")
    expect(request).to_have_text(re.compile(r"^Image [1-4] of 4 made together$"))


def test_more_images_than_the_credits_pay_for_is_explained(
    running_app: RunningApp, page: Page
) -> None:
    sign_up(page, running_app.url)
    page.locator("#prompt").fill("A tiny robot watering plants")
    page.locator(".tier-option", has_text="Premium").first.click()
    page.locator(".image-count").get_by_role("radio", name="3", exact=True).click()
    expect(page.locator("#generate")).to_contain_text("6 credits · ₹30")
    expect(page.locator("#generate")).to_be_disabled()
    expect(page.locator(".generate-blocker")).to_have_text(
        "Not enough credits for 3 images of this size."
    )


def test_cancel_mid_job_makes_nothing_and_charges_nothing(
    running_app: RunningApp, page: Page
) -> None:
    sign_up(page, running_app.url)
    page.locator("#prompt").fill("A very slow sunrise #delay=60")
    choose_provider(page, "Fault injector (tests)")
    page.locator(".image-count").get_by_role("radio", name="2", exact=True).click()
    page.locator("#generate").click()

    expect(page.locator(".job-pending")).to_have_count(2)
    expect(page.locator(".credit-balance")).to_have_text("3")  # two held
    page.locator(".job-pending .cancel-job").first.click()

    expect(page.get_by_text("Cancelled. No credits were charged.")).to_be_visible()
    expect(page.locator(".job-failed")).to_have_count(2)
    expect(page.locator(".job-failed").first).to_contain_text("You cancelled this image")
    expect(page.locator(".credit-balance")).to_have_text("5")
