"""Credits over the REST API: balance, statement, packs and purchases."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from studio_app.services import generation
from tests.api.rest import ApiUser, api_user, money, wait_until_finished


@pytest.fixture
def gateway_on(settings_env) -> None:  # type: ignore[no-untyped-def]
    settings_env(STUDIO_TEST_PAYMENT_GATEWAY="1")


def _buy(client: TestClient, user: ApiUser, credits: object, key: str | None):  # type: ignore[no-untyped-def]
    headers = dict(user.headers)
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post("/api/studio/credits/purchase", json={"credits": credits}, headers=headers)


def test_balance_and_price(client: TestClient) -> None:
    user = api_user(credits=7)
    answer = client.get("/api/studio/credits", headers=user.headers)
    assert answer.json() == {"balance": 7, "available": 7, "rupees_per_credit": 5}
    assert client.get("/api/studio/credits").status_code == 401


def test_credits_held_for_an_image_in_progress_are_not_available(client: TestClient) -> None:
    user = api_user(credits=7)
    # A generation started and not yet run: its premium price (2) is held, not charged.
    generation.start(user.user_id, generation.GenerationRequest(prompt="A fox", tier="premium"))

    answer = client.get("/api/studio/credits", headers=user.headers)

    assert answer.json() == {"balance": 7, "available": 5, "rupees_per_credit": 5}
    spec = client.get("/api/openapi.json").json()
    assert "available" in spec["components"]["schemas"]["Credits"]["required"]


def test_statement_pages_newest_first_with_running_balance(
    client: TestClient, gateway_on: None
) -> None:
    user = api_user(credits=5)
    wait_until_finished(
        client,
        user,
        client.post(
            "/api/studio/generate", json={"prompt": "A tiny robot"}, headers=user.headers
        ).json()["id"],
    )
    assert _buy(client, user, 10, "purchase-key-000000001").status_code == 200
    lines, cursor = [], None
    while True:
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/studio/credits/statement", params=params, headers=user.headers)
        assert page.status_code == 200
        lines += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert [line["amount"] for line in lines] == [10, -1, 5]
    assert [line["balance_after"] for line in lines] == [14, 4, 5]
    assert "10 credits" in lines[0]["description"]
    bad = client.get("/api/studio/credits/statement", params={"cursor": "x"}, headers=user.headers)
    assert bad.status_code == 422 and bad.json()["field"] == "cursor"


def test_one_users_statement_never_shows_anothers(client: TestClient) -> None:
    alice, bob = api_user(credits=5), api_user(credits=50)
    lines = client.get("/api/studio/credits/statement", headers=alice.headers).json()["items"]
    assert [line["amount"] for line in lines] == [5]
    assert client.get("/api/studio/credits", headers=bob.headers).json()["balance"] == 50


def test_packs_are_priced_in_rupees(client: TestClient) -> None:
    user = api_user()
    packs = client.get("/api/studio/credits/packs", headers=user.headers).json()
    assert packs == [
        {"credits": 10, "rupees": 50},
        {"credits": 50, "rupees": 250},
        {"credits": 100, "rupees": 500},
    ]


def test_buying_a_pack_credits_it_once(client: TestClient, gateway_on: None) -> None:
    user = api_user(credits=5)
    first = _buy(client, user, 50, "purchase-key-000000001")
    assert first.status_code == 200, first.text
    assert first.json() == {
        "status": "completed",
        "credits": 50,
        "amount_rupees": 250,
        "newly_credited": True,
        "redirect_url": None,
        "balance": 55,
    }
    again = _buy(client, user, 50, "purchase-key-000000001")
    assert again.json()["newly_credited"] is False and again.json()["balance"] == 55
    other_pack = _buy(client, user, 10, "purchase-key-000000001")
    assert other_pack.status_code == 409
    assert money(user.user_id).balance == 55


def test_concurrent_purchases_with_one_key_credit_once(
    client: TestClient, gateway_on: None
) -> None:
    user = api_user()
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(lambda _: _buy(client, user, 10, "double-click-key-0001"), range(8))
        )
    assert {a.status_code for a in answers} == {200}
    assert sum(a.json()["newly_credited"] for a in answers) == 1
    assert money(user.user_id).balance == 10


def test_another_users_purchase_key_is_refused(client: TestClient, gateway_on: None) -> None:
    alice, bob = api_user(), api_user()
    assert _buy(client, alice, 10, "someone-elses-key-01").status_code == 200
    stolen = _buy(client, bob, 10, "someone-elses-key-01")
    assert stolen.status_code == 403
    assert money(bob.user_id).balance == 0 and money(alice.user_id).balance == 10


@pytest.mark.parametrize(
    ("credits", "key", "field"),
    [
        (7, "purchase-key-000000001", "credits"),
        (-10, "purchase-key-000000001", "credits"),
        (0, "purchase-key-000000001", "credits"),
        (10.5, "purchase-key-000000001", "credits"),
        ("lots", "purchase-key-000000001", "credits"),
        (10, None, "Idempotency-Key"),
        (10, "short", None),
    ],
)
def test_bad_purchases_change_nothing(
    client: TestClient, gateway_on: None, credits: object, key: str | None, field: str | None
) -> None:
    user = api_user(credits=1)
    before = money(user.user_id)
    answer = _buy(client, user, credits, key)
    assert answer.status_code == 422, answer.text
    assert answer.json()["message"]
    if field:
        assert answer.json()["field"] == field
    assert money(user.user_id) == before


def test_without_a_payment_gateway_purchases_are_unavailable(client: TestClient) -> None:
    user = api_user()
    answer = _buy(client, user, 10, "purchase-key-000000001")
    assert answer.status_code == 503
    assert answer.json()["code"] == "payments_unavailable"
    assert money(user.user_id).balance == 0
    assert _buy(client, user, 10, None).status_code in (401, 422)
    anonymous = client.post("/api/studio/credits/purchase", json={"credits": 10})
    assert anonymous.status_code == 401
