"""The community in two browsers: an author publishes; a visitor who is not signed in
finds the post, opens its share page (whose tags a crawler reads without JavaScript),
signs up, likes it, uses its prompt and reports it; an admin hides it and it is gone
everywhere."""

from __future__ import annotations

import html
import re

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import open_admin_tab, sign_up


def _choose_display_name(page: Page, base_url: str, name: str) -> None:
    page.goto(f"{base_url}/account")
    page.locator("#display_name").fill(name)
    page.locator("#save-name").click()
    expect(page.get_by_text(f"You appear as “{name}”")).to_be_visible()


def test_publish_find_share_like_reuse_report_and_hide(
    running_app: RunningApp, page: Page, second_page: Page, browser: Browser
) -> None:
    base = running_app.url
    author_email = sign_up(page, base)
    page.locator("#prompt").fill("Paper boats on a pond at dusk")
    page.locator("#generate").click()
    expect(page.locator(".job-succeeded img.result-image").first).to_be_visible(timeout=30_000)

    # Publishing needs a display name first.
    page.goto(f"{base}/my-creations")
    page.locator(".creation-succeeded .creation-open").first.click()
    page.locator(".publish-creation").click()
    expect(page.locator(".choose-name")).to_be_visible()
    _choose_display_name(page, base, "Pond Painter")
    page.goto(f"{base}/my-creations")
    page.locator(".creation-succeeded .creation-open").first.click()
    page.locator(".publish-creation").click()
    page.locator("#post_title").fill("Boats at dusk")
    page.locator("#post_caption").fill("Folded and floated.")
    page.locator(".confirm-publish").click()
    expect(page.get_by_text("Published to the community.")).to_be_visible()
    post_path = page.locator(".view-post").get_attribute("href") or ""
    assert re.fullmatch(r"/community/[0-9a-f]{24}", post_path)

    # A visitor, not signed in, finds it in the feed and opens it.
    visitor = second_page
    visitor.goto(f"{base}/community")
    card = visitor.locator(".post-card", has_text="Boats at dusk")
    expect(card).to_be_visible()
    expect(card.locator(".post-author")).to_have_text("by Pond Painter")
    card.locator(".post-open").click()
    expect(visitor.locator(".post-page-title")).to_have_text("Boats at dusk")
    expect(visitor.locator(".post-prompt")).to_have_text("Paper boats on a pond at dusk")
    assert author_email not in visitor.content()

    # A crawler (no JavaScript) gets the tags from the HTML.
    crawled = httpx.get(f"{base}{post_path}")
    assert crawled.status_code == 200
    tags = dict(re.findall(r'<meta property="(og:[a-z:]+)" content="([^"]*)"/>', crawled.text))
    assert html.unescape(tags["og:title"]) == "Boats at dusk by Pond Painter — Studio"
    image = tags["og:image"]
    assert image.startswith("http") and "/community-images/" in image
    assert httpx.get(image.replace(image.split("/community-images/")[0], base)).status_code == 200

    # Liking asks the visitor to sign in; once signed up, the like counts.
    visitor.locator(".like-post").click()
    expect(visitor).to_have_url(re.compile(r"/login\?next=/community/"))
    sign_up(visitor, base)
    visitor.goto(f"{base}{post_path}")
    like = visitor.locator(".like-post")
    expect(like).to_have_text("0")
    like.click()
    expect(like).to_have_text("1")
    expect(like).to_have_attribute("aria-pressed", "true")

    # Its prompt, taken to the studio, makes the visitor's own picture.
    visitor.locator(".use-post-prompt").click()
    expect(visitor.locator("#prompt")).to_have_value("Paper boats on a pond at dusk")
    visitor.locator("#generate").click()
    expect(visitor.locator(".job-succeeded img.result-image").first).to_be_visible(timeout=30_000)
    visitor.goto(f"{base}{post_path}")
    expect(visitor.locator(".post-reuses")).to_have_text("Prompt used by 1 person")

    # The visitor reports it; an admin hides it: gone from the feed, the share page and
    # the picture's URL.
    visitor.goto(f"{base}{post_path}")
    visitor.locator(".report-post").click()
    visitor.get_by_role("radio", name="Spam or advertising").click()
    visitor.locator(".send-report").click()
    expect(visitor.get_by_text("Thank you. A moderator will look at it.")).to_be_visible()
    admin = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    open_admin_tab(admin, base, "moderation")
    queued = admin.locator(".queued-post", has_text="Boats at dusk")
    expect(queued.locator(".queue-reasons")).to_have_text("Spam or advertising ×1")
    queued.locator(".moderate-hide").click()
    expect(admin.get_by_text("Hidden from the community.")).to_be_visible()
    admin.context.close()
    visitor.goto(f"{base}/community")
    expect(visitor.get_by_text("Nothing is published yet.")).to_be_visible()
    expect(visitor.locator(".post-card", has_text="Boats at dusk")).to_have_count(0)
    visitor.goto(f"{base}{post_path}")
    expect(visitor.locator(".post-unavailable")).to_be_visible()
    assert httpx.get(f"{base}{post_path}").status_code == 404
    assert httpx.get(image.replace(image.split("/community-images/")[0], base)).status_code == 404


def test_a_size_that_would_spend_most_credits_is_asked_about(
    running_app: RunningApp, page: Page, second_page: Page
) -> None:
    base = running_app.url
    sign_up(page, base)
    _choose_display_name(page, base, "Wide Views")
    page.goto(f"{base}/studio")
    page.locator("#prompt").fill("A wide mountain panorama")
    page.locator(".tier-option", has_text="Premium wide").click()
    page.locator("#generate").click()
    expect(page.locator(".job-succeeded img.result-image").first).to_be_visible(timeout=30_000)
    page.goto(f"{base}/my-creations")
    page.locator(".creation-succeeded .creation-open").first.click()
    page.locator(".publish-creation").click()
    page.locator("#post_title").fill("Panorama")
    page.locator(".confirm-publish").click()
    post_path = page.locator(".view-post").get_attribute("href") or ""

    visitor = second_page
    sign_up(visitor, base)  # 5 credits: one premium wide image is 4
    visitor.goto(f"{base}{post_path}")
    visitor.locator(".use-post-prompt").click()
    expect(visitor.locator(".tier-question")).to_have_text(
        "This picture is Premium wide (1792×1008): 4 credits an image, and you have 5."
    )
    visitor.locator(".use-standard-tier").click()
    expect(visitor.locator("#prompt")).to_have_value("A wide mountain panorama")
    expect(visitor.locator("#generate")).to_contain_text("1 credit · ₹5")
