"""A person edits a picture: uploads it in the studio, says what to change, and gets it
back changed at the chosen size; then edits one of their creations from My Creations."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import sign_up


def _two_colour_photo(folder: Path, size: tuple[int, int] = (1200, 600)) -> str:
    """Red on the left, blue on the right."""
    picture = Image.new("RGB", size, (210, 40, 40))
    picture.paste((40, 60, 210), (size[0] // 2, 0, size[0], size[1]))
    path = folder / "holiday.png"
    picture.save(path, "PNG")
    return str(path)


def _shown_picture(page: Page, running_app: RunningApp, selector: str) -> Image.Image:
    image = page.locator(selector).first
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    fetched = page.request.get(f"{running_app.url}{image.get_attribute('src')}")
    assert fetched.status == 200
    return Image.open(io.BytesIO(fetched.body())).convert("RGB")


def test_edit_from_an_upload(running_app: RunningApp, page: Page, tmp_path: Path) -> None:
    sign_up(page, running_app.url)
    expect(page.locator(".credit-balance")).to_have_text("5")

    page.locator(".edit-a-picture").click()
    page.locator(".picture-upload input[type=file]").set_input_files(_two_colour_photo(tmp_path))
    chosen = page.locator(".chosen-picture")
    expect(chosen).to_be_visible(timeout=15_000)
    expect(chosen.locator(".fit-note")).to_have_text(
        "Cropped from the centre to 1:1 (1024×1024): its sides are cut off."
    )
    page.locator(".tier-option", has_text="Premium").first.click()
    expect(chosen.locator(".fit-note")).to_have_text(
        "Cropped from the centre to 3:2 (1536×1024): its sides are cut off."
    )
    page.locator(".tier-option", has_text="Standard").first.click()

    page.locator("#prompt").fill("make it black and white")
    expect(page.locator("#generate")).to_have_text("Edit · 1 credit · ₹5")
    page.locator("#generate").click()

    expect(page.locator(".job-succeeded img.result-image").first).to_be_visible(timeout=30_000)
    edited = _shown_picture(page, running_app, ".job-succeeded img.result-image")
    assert edited.size == (1024, 1024)
    # The upload's red and blue halves, without their colour.
    left, right = edited.getpixel((200, 300)), edited.getpixel((800, 300))
    assert left[0] == left[1] == left[2] and right[0] == right[1] == right[2]
    assert left != right
    expect(page.locator(".credit-balance")).to_have_text("4")

    # My Creations says what it was made from, and can start another edit from it.
    page.goto(f"{running_app.url}/my-creations")
    page.locator(".creation-succeeded .creation-open").first.click()
    expect(page.locator(".creation-dialog .detail-edit")).to_have_text(
        "An edit of a picture you uploaded"
    )
    page.locator(".creation-dialog .edit-creation").click()
    expect(page.locator(".chosen-picture")).to_be_visible(timeout=15_000)
    expect(page.locator(".chosen-picture .fit-note")).to_have_text("Used as it is (1024×1024).")
    expect(page.locator("#prompt")).to_have_value("")

    # Both pictures are in the chooser; one removed is gone from it.
    page.locator(".chosen-picture").get_by_role("button", name="Change picture").click()
    expect(page.locator(".picture-choice")).to_have_count(2)
    page.locator(".remove-picture").last.click()
    expect(page.locator(".picture-choice")).to_have_count(1)


def test_a_file_that_is_not_a_picture_is_explained(
    running_app: RunningApp, page: Page, tmp_path: Path
) -> None:
    sign_up(page, running_app.url)
    page.locator(".edit-a-picture").click()
    fake = tmp_path / "notes.png"
    fake.write_text("these are my notes, not a picture")
    page.locator(".picture-upload input[type=file]").set_input_files(str(fake))
    expect(page.locator(".picture-error")).to_have_text(
        "This file is not a picture we can read: upload a PNG, JPEG or WebP."
    )
    expect(page.locator(".chosen-picture")).to_have_count(0)
    expect(page.locator(".picture-choice")).to_have_count(0)
