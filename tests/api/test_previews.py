"""Template previews over HTTP: public and cacheable, but only real preview keys."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from studio_app.api.app import build_served_api
from studio_app.services import catalog_admin, previews
from studio_app.services.auth import CurrentUser
from studio_app.services.catalog_admin import TemplateFields
from tests.factories import make_user

pytestmark = pytest.mark.usefixtures("migrated_db")


@pytest.fixture
def client() -> TestClient:
    return TestClient(build_served_api())


@pytest.fixture
def admin() -> CurrentUser:
    return CurrentUser(id=make_user(role="admin"), email="", role="admin")


@pytest.fixture
def preview_url(admin: CurrentUser) -> str:
    category = catalog_admin.create_category(admin, "Travel")
    template = catalog_admin.create_template(
        admin, TemplateFields(category, "Beach", "", "A beach at dawn", "standard")
    )
    return previews.generate_preview(admin, template)


def test_a_preview_is_served_as_public_webp_without_signing_in(
    client: TestClient, preview_url: str
) -> None:
    response = client.get(preview_url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/webp"
    assert response.headers["cache-control"].startswith("public")
    assert response.headers["x-content-type-options"] == "nosniff"
    with Image.open(io.BytesIO(response.content)) as image:
        assert (image.format, image.size) == ("WEBP", (640, 640))


def test_a_deactivated_templates_preview_still_loads_for_the_admin_list(
    client: TestClient, admin: CurrentUser, preview_url: str
) -> None:
    template = catalog_admin.list_templates(admin)[0]
    catalog_admin.set_template_active(admin, template.id, False)
    assert client.get(preview_url).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/template-previews/" + "0" * 32 + ".webp",
        "/template-previews/not-a-key",
        "/template-previews/..%2Fstudio.db",
        "/template-previews/%2e%2e/%2e%2e/studio.db",
        "/template-previews/../../etc/passwd",
        "/template-previews/",
    ],
)
def test_unknown_keys_and_traversal_get_404(
    client: TestClient, preview_url: str, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert b"PNG" not in response.content and b"SQLite" not in response.content


def test_a_replaced_preview_is_gone(
    client: TestClient, admin: CurrentUser, preview_url: str
) -> None:
    template = catalog_admin.list_templates(admin)[0]
    new_url = previews.generate_preview(admin, template.id)
    assert client.get(preview_url).status_code == 404
    assert client.get(new_url).status_code == 200


def test_a_private_image_key_is_not_a_preview(client: TestClient, preview_url: str) -> None:
    key = preview_url.rsplit("/", 1)[1]
    assert client.get(f"/template-previews/2026/11/{key}").status_code == 404
    assert client.get(f"/images/{key}").status_code == 404
