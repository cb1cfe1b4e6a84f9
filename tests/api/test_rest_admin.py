"""Admin routes of the REST API: an admin's token only; the catalog and the stats."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import func, select

from studio_app.api.app import build_api
from studio_app.models import AuditEntry, ImageCategory, ImageTemplate
from studio_app.services.db import read_session
from tests.api.rest import api_user, wait_until_finished

_CATEGORY = {"name": "Posters", "description": "Big and bold"}


def _admin_operations() -> list[tuple[str, str]]:
    """Every admin route of the spec, so a new one is covered without editing this test."""
    spec = build_api().openapi()
    return [
        (method.upper(), path.replace("{category_id}", "1").replace("{template_id}", "1"))
        for path, methods in spec["paths"].items()
        if path.startswith("/api/admin/")
        for method in methods
    ]


def _catalog_state() -> tuple:
    with read_session() as db:
        return (
            [(c.name, c.description, c.is_active) for c in db.exec(select(ImageCategory))],
            [(t.name, t.prompt, t.is_active) for t in db.exec(select(ImageTemplate))],
            db.exec(select(func.count()).select_from(AuditEntry)).one(),
        )


def test_users_and_strangers_cannot_use_any_admin_route(client: TestClient) -> None:
    user = api_user(credits=5)
    operations = _admin_operations()
    assert len(operations) == 9
    before = _catalog_state()
    body = {"name": "Hacked", "description": "", "category_id": 1, "prompt": "p p"}
    for method, path in operations:
        as_user = client.request(method, path, json=body, headers=user.headers)
        assert as_user.status_code == 403, (method, path)
        assert as_user.json()["code"] == "forbidden"
        anonymous = client.request(method, path, json=body)
        assert anonymous.status_code == 401, (method, path)
    assert _catalog_state() == before


def test_stats_count_generations_and_credits(client: TestClient) -> None:
    admin, user = api_user(role="admin"), api_user(credits=5)
    for _ in range(2):
        created = client.post(
            "/api/studio/generate", json={"prompt": "Stats please"}, headers=user.headers
        )
        wait_until_finished(client, user, created.json()["id"])
    stats = client.get("/api/admin/studio/stats", headers=admin.headers)
    assert stats.status_code == 200
    body = stats.json()
    assert body["users"] == 2
    assert body["generations_all"] == body["generations_today"] == 2
    assert body["succeeded"] == 2 and body["success_rate"] == 1.0
    assert body["credits_spent"] == 2
    assert [p["provider"] for p in body["providers"]] == ["offline"]
    assert len(body["daily"]) == 14 and body["daily"][-1]["succeeded"] == 2


def test_category_lifecycle(client: TestClient) -> None:
    admin = api_user(role="admin")
    created = client.post("/api/admin/studio/categories", json=_CATEGORY, headers=admin.headers)
    assert created.status_code == 201, created.text
    category = created.json()
    assert category["name"] == "Posters" and category["is_active"] is True
    assert category["slug"] == "posters"

    duplicate = client.post("/api/admin/studio/categories", json=_CATEGORY, headers=admin.headers)
    assert duplicate.status_code == 422 and duplicate.json()["field"] == "name"

    renamed = client.put(
        f"/api/admin/studio/categories/{category['id']}",
        json={"name": "Wall posters", "description": "Big"},
        headers=admin.headers,
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "Wall posters"
    assert renamed.json()["slug"] == "posters"

    gone = client.delete(f"/api/admin/studio/categories/{category['id']}", headers=admin.headers)
    assert gone.status_code == 200 and gone.json()["is_active"] is False
    listed = client.get("/api/admin/studio/categories", headers=admin.headers).json()["items"]
    assert {c["name"]: c["is_active"] for c in listed}["Wall posters"] is False

    back = client.put(
        f"/api/admin/studio/categories/{category['id']}",
        json={"name": "Wall posters", "description": "Big", "is_active": True},
        headers=admin.headers,
    )
    assert back.json()["is_active"] is True


def test_template_lifecycle_is_seen_by_users_at_once(client: TestClient) -> None:
    admin = api_user(role="admin")
    category = client.get("/api/studio/categories").json()["items"][0]
    body = {
        "category_id": category["id"],
        "name": "Summer sale banner",
        "description": "Bright and hot",
        "prompt": "A summer sale banner with sunglasses",
        "default_tier": "premium-wide",
    }
    created = client.post("/api/admin/studio/templates", json=body, headers=admin.headers)
    assert created.status_code == 201, created.text
    template = created.json()
    public = client.get(f"/api/studio/templates/{template['id']}")
    assert public.status_code == 200 and public.json()["prompt"] == body["prompt"]

    edited = client.put(
        f"/api/admin/studio/templates/{template['id']}",
        json={**body, "prompt": "A winter sale banner"},
        headers=admin.headers,
    )
    assert edited.status_code == 200
    assert client.get(f"/api/studio/templates/{template['id']}").json()["prompt"] == (
        "A winter sale banner"
    )

    gone = client.delete(f"/api/admin/studio/templates/{template['id']}", headers=admin.headers)
    assert gone.status_code == 200 and gone.json()["is_active"] is False
    assert client.get(f"/api/studio/templates/{template['id']}").status_code == 404
    admin_list = client.get("/api/admin/studio/templates", headers=admin.headers).json()["items"]
    assert template["id"] in {t["id"] for t in admin_list}


def test_bad_catalog_input_names_the_field_and_writes_nothing(client: TestClient) -> None:
    admin = api_user(role="admin")
    category_id = client.get("/api/studio/categories").json()["items"][0]["id"]
    good = {
        "category_id": category_id,
        "name": "Fine name",
        "description": "",
        "prompt": "A fine prompt",
        "default_tier": "standard",
    }
    before = _catalog_state()
    for change, field in (
        ({"name": ""}, "name"),
        ({"name": "x" * 500}, "name"),
        ({"prompt": ""}, "prompt"),
        ({"default_tier": "huge"}, "default_tier"),
        ({"category_id": 999999}, "category_id"),
        ({"category_id": "abc"}, "category_id"),
        ({"surprise": 1}, "surprise"),
    ):
        answer = client.post(
            "/api/admin/studio/templates", json={**good, **change}, headers=admin.headers
        )
        assert answer.status_code in (404, 422), change
        assert answer.json()["message"]
        if answer.status_code == 422:
            assert answer.json()["field"] == field, (change, answer.json())
    assert _catalog_state() == before


def test_unknown_ids_are_404(client: TestClient) -> None:
    admin = api_user(role="admin")
    for method, path in (
        ("PUT", "/api/admin/studio/categories/999999"),
        ("DELETE", "/api/admin/studio/categories/999999"),
        ("DELETE", "/api/admin/studio/templates/999999"),
    ):
        answer = client.request(method, path, json=_CATEGORY, headers=admin.headers)
        assert answer.status_code == 404, (method, path)
    assert client.delete("/api/admin/studio/templates/0", headers=admin.headers).status_code == 422
