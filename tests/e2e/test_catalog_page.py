"""The served app shows the seeded catalog, read from the database."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import RunningApp


def test_home_page_lists_seeded_categories_and_templates(
    running_app: RunningApp, page: Page
) -> None:
    page.goto(f"{running_app.url}/templates")
    headings = page.locator(".category-name")
    # Other tests may add categories to the shared server: the seeded five come first.
    expect(headings.first).to_have_text("Marketing")
    expect(headings).to_contain_text(
        ["Marketing", "Social Media", "E-commerce", "Education", "Creative"]
    )
    expect(page.locator(".template-card").nth(14)).to_be_visible()
    expect(page.get_by_role("heading", name="Festive sale banner")).to_be_visible()
    expect(page.get_by_text("glowing diyas", exact=False)).to_be_visible()
