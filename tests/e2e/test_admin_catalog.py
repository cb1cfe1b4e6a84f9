"""An admin shapes the catalog in the admin tab; users see the change in the studio at once."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import time

from PIL import Image
from playwright.sync_api import Browser, Page, expect

from studio_app.settings import PROJECT_ROOT
from tests.e2e.conftest import ARTIFACTS, RunningApp
from tests.e2e.helpers import PASSWORD, new_email, sign_up


def _become_admin(running_app: RunningApp, page: Page) -> str:
    email = sign_up(page, running_app.url)
    subprocess.run(
        [sys.executable, "-m", "studio_app.cli", "create-admin", email],
        cwd=PROJECT_ROOT,
        env={**running_app.env, "STUDIO_ADMIN_PASSWORD": PASSWORD},
        check=True,
        capture_output=True,
    )
    # A role change signs the account out everywhere: in again, as an admin now.
    page.goto(f"{running_app.url}/admin")
    expect(page).to_have_url(re.compile(r".*/login\?next=/admin/?$"))
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r".*/admin/?$"))
    expect(page.get_by_role("tab", name="Categories")).to_be_visible()
    return email


def _snapshot(page: Page, name: str) -> None:
    """An extra screenshot of a step (dialogs, other tabs) for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"admin-catalog-{name}.png", full_page=True)


def _open_tab(page: Page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def _png(path_dir, size: tuple[int, int]) -> str:  # type: ignore[no-untyped-def]
    path = path_dir / "upload.png"
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return str(path)


def test_admin_adds_then_hides_a_template_and_the_studio_follows(
    running_app: RunningApp, page: Page, browser: Browser, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    base = running_app.url
    suffix = str(time.time_ns())[-6:]
    category_name = f"Seaside {suffix}"
    template_name = f"Harbour postcard {suffix}"
    admin_email = _become_admin(running_app, page)

    # A category: an empty name is explained, then a real one is created.
    _open_tab(page, "Categories")
    categories = page.locator(".admin-categories")
    expect(categories.locator(".category-row").first).to_be_visible()
    _snapshot(page, "categories")
    categories.get_by_role("button", name="New category").click()
    page.locator(".category-dialog .dialog-save").click()
    expect(page.locator(".category-dialog .form-error")).to_have_text(
        "Write a category name first."
    )
    _snapshot(page, "category-dialog")
    page.fill("#category-name", category_name)
    page.fill("#category-description", "Boats, beaches and sea air.")
    page.locator(".category-dialog .dialog-save").click()
    expect(page.locator(".category-dialog")).to_have_count(0)
    expect(categories.locator(".category-row-name", has_text=category_name)).to_be_visible()

    # A template in it, with a preview generated and then one uploaded.
    _open_tab(page, "Templates")
    templates = page.locator(".admin-templates")
    templates.get_by_role("button", name="New template").click()
    page.locator("#template-category").click()
    page.get_by_role("option", name=category_name).click()
    page.fill("#template-name", template_name)
    page.fill("#template-description", "A sunny harbour on a postcard.")
    page.fill("#template-prompt", "A sunny harbour postcard with fishing boats, vivid colours")
    _snapshot(page, "template-dialog")
    page.locator(".template-dialog .dialog-save").click()
    expect(page.locator(".template-dialog")).to_have_count(0)
    row = templates.locator(".template-row", has_text=template_name)
    expect(row).to_be_visible()

    row.get_by_role("button", name=f"Preview image of {template_name}").click()
    dialog = page.locator(".preview-dialog")
    dialog.locator(".generate-preview").click()
    generated = dialog.locator(".preview-current")
    expect(generated).to_have_attribute(
        "src", re.compile(r"/template-previews/[0-9a-f]{32}\.webp$")
    )
    generated_src = generated.get_attribute("src") or ""
    dialog.locator(".preview-upload input[type=file]").set_input_files(_png(tmp_path, (900, 600)))
    expect(generated).not_to_have_attribute("src", generated_src)
    uploaded_src = generated.get_attribute("src") or ""
    served = page.request.get(f"{base}{uploaded_src}")
    assert served.status == 200
    assert served.headers["content-type"] == "image/webp"
    with Image.open(io.BytesIO(served.body())) as image:
        assert image.width == 640 and image.height in (426, 427)
    assert page.request.get(f"{base}{generated_src}").status == 404  # replaced
    _snapshot(page, "preview-dialog")
    dialog.get_by_role("button", name="Done").click()
    expect(row.locator(".template-thumb img")).to_have_attribute("src", uploaded_src)

    # A user sees it in the studio.
    user_context = browser.new_context(viewport={"width": 1280, "height": 900})
    user = user_context.new_page()
    user.set_default_timeout(20_000)
    try:
        sign_up(user, base, new_email())
        expect(user.get_by_text(template_name, exact=True)).to_be_visible()

        # The admin deactivates it, after a confirmation.
        row.get_by_role("button", name=f"Deactivate {template_name}").click()
        confirm = page.get_by_role("alertdialog")
        expect(confirm).to_contain_text(template_name)
        confirm.get_by_role("button", name="Deactivate").click()
        expect(row.locator(".badge-inactive")).to_be_visible()
        _snapshot(page, "templates")

        # …and it is gone from the studio on the next load.
        user.reload()
        expect(user.locator(".account-email")).to_be_visible()
        expect(user.get_by_text(template_name, exact=True)).to_have_count(0)
    finally:
        user_context.close()

    # The audit log lists each action, newest first, with who did it.
    _open_tab(page, "Audit log")
    audit = page.locator(".admin-audit")
    audit.get_by_role("button", name="Refresh").click()
    actions = audit.locator(".audit-action")
    expect(actions.first).to_have_text("Deactivated template")
    expect(actions).to_contain_text(
        [
            "Deactivated template",
            "Uploaded preview",
            "Generated preview",
            "Created template",
            "Created category",
        ]
    )
    first = audit.locator(".audit-row").first
    expect(first.locator(".audit-actor")).to_have_text(admin_email)
    expect(first.locator(".audit-target")).to_have_text(f"Template “{template_name}”")
    expect(first.locator(".audit-before")).to_have_text("active: yes")
    expect(first.locator(".audit-after")).to_have_text("active: no")
    expect(audit).not_to_contain_text("{")


def test_admin_catalog_fits_a_phone(running_app: RunningApp, phone_page: Page) -> None:
    _become_admin(running_app, phone_page)
    _open_tab(phone_page, "Templates")
    templates = phone_page.locator(".admin-templates")
    expect(templates.locator(".template-row").first).to_be_visible()
    _open_tab(phone_page, "Audit log")
    expect(phone_page.locator(".admin-audit")).to_be_visible()
    _snapshot(phone_page, "audit-phone")
    _open_tab(phone_page, "Categories")
    expect(phone_page.locator(".admin-categories .category-row").first).to_be_visible()
    _snapshot(phone_page, "categories-phone")
    _open_tab(phone_page, "Templates")
    expect(templates.locator(".template-row").first).to_be_visible()
    # Nothing sticks out sideways on a 390-px screen.
    overflow = phone_page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
