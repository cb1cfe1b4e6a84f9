"""My Creations: the gallery, one image's details, download, reuse and delete."""

from __future__ import annotations

import io
import re

from PIL import Image
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS, RunningApp
from tests.e2e.helpers import choose_provider, sign_up, studio_url

POSTER = "Modern event poster for a startup meetup"
ROBOT = "A tiny robot watering plants"


def _wait_for_result(page: Page, count: int) -> None:
    expect(page.locator(".credit-balance")).not_to_have_text("5", timeout=30_000)
    expect(page.locator(".job-card.job-succeeded")).to_have_count(count, timeout=30_000)
    expect(page.locator(".job-pending")).to_have_count(0, timeout=30_000)


def _generate_two(page: Page) -> None:
    """An event poster (premium, 2 credits), then a robot (standard, 1 credit)."""
    page.locator(".template-card", has_text="Event poster").click()
    page.locator("#generate").click()
    _wait_for_result(page, 1)
    page.locator(".template-card", has_text="Product launch hero").click()
    # As a person would: wait until the template has filled the prompt, then rewrite it.
    expect(page.get_by_text("Template: Product launch hero")).to_be_visible()
    expect(page.locator("#prompt")).to_have_value(re.compile(r"^A sleek \[product\]"))
    page.locator("#prompt").fill(ROBOT)
    page.locator(".tier-option", has_text="Standard").click()
    page.locator("#generate").click()
    _wait_for_result(page, 2)
    expect(page.locator(".latest-prompt")).to_have_text(ROBOT)
    expect(page.locator(".credit-balance")).to_have_text("2")


def test_my_creations_journey(running_app: RunningApp, page: Page) -> None:
    sign_up(page, running_app.url)
    _generate_two(page)

    # Credits now short for the widest tier: the studio says why and where to buy.
    page.locator(".tier-option", has_text="Premium wide").click()
    expect(page.locator("#generate")).to_be_disabled()
    expect(page.locator(".generate-blocker")).to_have_text("Not enough credits for this size.")
    expect(page.locator(".buy-credits-link")).to_have_attribute("href", "/buy-credits")
    page.screenshot(path=_artifact("studio-desktop.png"), full_page=True)

    page.goto(f"{running_app.url}/my-creations")
    tiles = page.locator(".creation-tile")
    expect(tiles).to_have_count(2)
    expect(tiles.nth(0)).to_contain_text(ROBOT)  # newest first
    expect(tiles.nth(1)).to_contain_text(POSTER)
    thumb = page.locator("img.creation-thumb").first
    expect(thumb).to_have_attribute("src", re.compile(r"^/images/[0-9a-f]{24}/thumbnail$"))
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
    )
    assert max(thumb.evaluate("img => [img.naturalWidth, img.naturalHeight]")) <= 384

    # Open the poster: the full image and every detail.
    page.locator(".creation-open").nth(1).click()
    dialog = page.locator(".creation-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".detail-prompt")).to_contain_text(POSTER)
    expect(dialog.locator(".detail-template")).to_have_text("Event poster")
    expect(dialog.locator(".detail-provider")).to_contain_text("Studio offline")
    expect(dialog.locator(".detail-size")).to_have_text("Premium · 1536×1024")
    expect(dialog.locator(".detail-cost")).to_have_text("2 credits")
    expect(dialog.locator(".detail-date")).to_contain_text("UTC")
    expect(dialog.locator("img.creation-full")).to_have_attribute(
        "src", re.compile(r"^/images/[0-9a-f]{24}$")
    )
    page.screenshot(path=_artifact("my-creations-dialog.png"))

    # Download: the original, a sensible name, a valid image of the tier's size.
    with page.expect_download() as download_info:
        dialog.locator(".download-creation").click()
    download = download_info.value
    assert re.fullmatch(r"studio-modern-event-poster[a-z0-9-]*\.png", download.suggested_filename)
    with Image.open(io.BytesIO(download.path().read_bytes())) as image:
        image.verify()
    with Image.open(download.path()) as image:
        assert (image.format, image.size) == ("PNG", (1536, 1024))

    # Use this prompt: back in the studio with prompt, template and tier filled in.
    dialog.locator(".reuse-creation").click()
    expect(page).to_have_url(re.compile(r"/studio/?\?use=[0-9a-f]{24}$"))
    expect(page.locator("#prompt")).to_contain_text(POSTER)
    expect(page.get_by_text("Template: Event poster")).to_be_visible()
    expect(page.locator(".tier-option[data-state=checked]")).to_contain_text("Premium")
    expect(page.locator("#generate")).to_contain_text("2 credits")

    # Delete the robot, after a confirmation.
    page.goto(f"{running_app.url}/my-creations")
    expect(page.locator(".creation-tile")).to_have_count(2)
    page.locator(".creation-open").first.click()
    robot_url = dialog.locator("img.creation-full").get_attribute("src")
    dialog.locator(".delete-creation").click()
    expect(page.get_by_role("alertdialog")).to_contain_text("Delete this image?")
    page.locator(".confirm-delete").click()
    expect(page.get_by_text("Image deleted.")).to_be_visible()
    expect(page.locator(".creation-tile")).to_have_count(1)
    expect(page.locator(".creation-tile")).to_contain_text(POSTER)
    assert page.request.get(f"{running_app.url}{robot_url}").status == 404
    expect(page.locator(".credit-balance")).to_have_text("2")  # deleting refunds nothing

    page.reload()
    expect(page.locator(".creation-tile")).to_have_count(1)


def test_an_empty_gallery_leads_to_the_studio(running_app: RunningApp, page: Page) -> None:
    sign_up(page, running_app.url)
    page.goto(f"{running_app.url}/my-creations")
    empty = page.locator(".creations-empty")
    expect(empty).to_contain_text("Your gallery is waiting")
    expect(page.locator(".creation-filters")).to_have_count(0)
    empty.get_by_role("link").click()
    expect(page).to_have_url(studio_url(running_app.url))
    expect(page.locator("#generate")).to_be_visible()


def test_a_failed_creation_shows_its_reason_and_no_charge(
    running_app: RunningApp, page: Page
) -> None:
    sign_up(page, running_app.url)
    page.locator("#prompt").fill("A lighthouse at night #fail=safety_refused")
    choose_provider(page, "Fault injector (tests)")
    page.locator("#generate").click()
    expect(page.locator(".job-failed")).to_have_count(1, timeout=30_000)
    page.goto(f"{running_app.url}/my-creations")
    failed = page.locator(".creation-failed")
    expect(failed).to_contain_text("Failed · no charge")
    expect(failed.locator(".creation-error")).not_to_be_empty()
    expect(page.locator(".credit-balance")).to_have_text("5")


def test_filters_narrow_the_gallery(running_app: RunningApp, page: Page) -> None:
    sign_up(page, running_app.url)
    _generate_two(page)
    page.goto(f"{running_app.url}/my-creations")
    expect(page.locator(".creation-tile")).to_have_count(2)
    page.locator("#filter-template").click()
    page.get_by_role("option", name="Event poster").click()
    expect(page.locator(".creation-tile")).to_have_count(1)
    expect(page.locator(".creation-tile")).to_contain_text(POSTER)
    page.locator("#filter-from").fill("2001-01-01")
    page.locator("#filter-to").fill("2001-01-02")
    expect(page.locator(".creations-no-matches")).to_be_visible()
    page.locator(".creations-no-matches").get_by_role("button", name="Clear filters").click()
    expect(page.locator(".creation-tile")).to_have_count(2)


def test_studio_and_gallery_on_a_phone(running_app: RunningApp, phone_page: Page) -> None:
    page = phone_page
    sign_up(page, running_app.url)
    page.locator("#template-search").fill("poster")
    expect(page.locator(".template-card", has_text="Product launch hero")).to_have_count(0)
    expect(page.locator(".template-card", has_text="Event poster")).to_be_visible()
    cards = page.locator(".template-card").all_inner_texts()
    assert cards and all("poster" in text.lower() for text in cards)
    page.locator("#template-search").fill("zzzz nothing")
    expect(page.locator(".no-templates")).to_be_visible()
    page.locator("#template-search").fill("poster")
    page.locator(".template-card", has_text="Event poster").click()
    page.locator("#generate").click()
    _wait_for_result(page, 1)
    page.screenshot(path=_artifact("studio-phone.png"), full_page=True)
    page.goto(f"{running_app.url}/my-creations")
    expect(page.locator(".creation-tile")).to_have_count(1)
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0",
        arg=page.locator("img.creation-thumb").first.element_handle(),
    )
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"


def _artifact(name: str) -> str:
    ARTIFACTS.mkdir(exist_ok=True)
    return str(ARTIFACTS / name)
