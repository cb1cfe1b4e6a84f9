"""The public catalog over the REST API: categories, templates, tiers, providers."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import select

from studio_app.models import ImageTemplate
from studio_app.services.db import read_session
from tests.api.rest import api_user

BAD_TOKEN = {"Authorization": "Bearer stu_not-a-real-token"}


def _all_template_names(client: TestClient, limit: int) -> list[str]:
    names: list[str] = []
    cursor = None
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/studio/templates", params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        names += [t["name"] for t in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return names


def test_categories_are_listed_without_a_token_in_display_order(client: TestClient) -> None:
    answer = client.get("/api/studio/categories")
    assert answer.status_code == 200
    items = answer.json()["items"]
    assert [c["name"] for c in items] == [
        "Marketing",
        "Social Media",
        "E-commerce",
        "Education",
        "Creative",
    ]
    assert all(c["template_count"] == 3 for c in items)


def test_a_bad_token_is_refused_even_on_public_routes(client: TestClient) -> None:
    for url in ("/api/studio/categories", "/api/studio/templates", "/api/providers"):
        answer = client.get(url, headers=BAD_TOKEN)
        assert answer.status_code == 401, url
        assert answer.json()["code"] == "unauthorized"
        assert answer.headers["www-authenticate"] == "Bearer"
    basic = client.get("/api/studio/categories", headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert basic.status_code == 401


def test_template_pages_walk_the_whole_catalog_once_in_order(client: TestClient) -> None:
    every = _all_template_names(client, limit=100)
    assert len(every) == 15
    assert _all_template_names(client, limit=4) == every
    assert _all_template_names(client, limit=1) == every


def test_templates_of_one_category(client: TestClient) -> None:
    category = client.get("/api/studio/categories").json()["items"][1]
    page = client.get("/api/studio/templates", params={"category_id": category["id"]}).json()
    assert len(page["items"]) == 3
    assert {t["category_id"] for t in page["items"]} == {category["id"]}


def test_bad_paging_input_names_the_field(client: TestClient) -> None:
    for params, field in (
        ({"cursor": "abc"}, "cursor"),
        ({"cursor": "99999999"}, "cursor"),
        ({"cursor": "-1"}, "cursor"),
        ({"limit": 0}, "limit"),
        ({"limit": 1000}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"category_id": "x"}, "category_id"),
    ):
        answer = client.get("/api/studio/templates", params=params)
        assert answer.status_code == 422, params
        assert answer.json()["code"] == "invalid_input"
        assert answer.json()["field"] == field, params


def test_one_template_and_what_is_not_one(client: TestClient) -> None:
    first = client.get("/api/studio/templates", params={"limit": 1}).json()["items"][0]
    answer = client.get(f"/api/studio/templates/{first['id']}")
    assert answer.status_code == 200
    assert answer.json() == first
    assert client.get("/api/studio/templates/999999").status_code == 404
    assert client.get("/api/studio/templates/999999").json()["code"] == "not_found"
    assert client.get("/api/studio/templates/abc").status_code == 422
    assert client.get(f"/api/studio/templates/{2**70}").status_code == 422


def test_a_deactivated_template_is_gone_at_once(client: TestClient) -> None:
    """No cache may serve a template after an admin deactivated it."""
    admin = api_user(role="admin")
    first = client.get("/api/studio/templates", params={"limit": 1}).json()["items"][0]
    assert client.get(f"/api/studio/templates/{first['id']}").status_code == 200
    gone = client.delete(f"/api/admin/studio/templates/{first['id']}", headers=admin.headers)
    assert gone.status_code == 200
    assert client.get(f"/api/studio/templates/{first['id']}").status_code == 404
    names = _all_template_names(client, limit=100)
    assert first["name"] not in names and len(names) == 14


def test_a_cursor_still_works_when_its_template_was_deactivated(client: TestClient) -> None:
    admin = api_user(role="admin")
    page = client.get("/api/studio/templates", params={"limit": 5}).json()
    cursor = page["next_cursor"]
    client.delete(f"/api/admin/studio/templates/{cursor}", headers=admin.headers)
    rest = client.get("/api/studio/templates", params={"cursor": cursor, "limit": 100}).json()
    assert len(rest["items"]) == 10
    with read_session() as db:
        assert db.exec(select(ImageTemplate).where(ImageTemplate.id == int(cursor))).one()


def test_tiers_say_size_and_price(client: TestClient) -> None:
    tiers = {t["id"]: t for t in client.get("/api/studio/tiers").json()}
    assert (tiers["standard"]["width"], tiers["standard"]["height"]) == (1024, 1024)
    assert [tiers[t]["credits"] for t in ("standard", "premium", "premium-wide")] == [1, 2, 4]
    assert [tiers[t]["rupees"] for t in ("standard", "premium", "premium-wide")] == [5, 10, 20]


def test_providers_say_which_are_configured(client: TestClient) -> None:
    providers = {p["name"]: p for p in client.get("/api/providers").json()}
    assert providers["offline"]["available"] is True
    assert providers["offline"]["configured"] is True
    assert providers["openai"]["configured"] is False
    assert providers["openai"]["available"] is False
    assert providers["openai"]["unavailable_reason"]
    assert "api_key" not in str(providers).lower()
