"""Generating over the REST API: 202 then status, idempotency, limits, failures, ownership."""

from __future__ import annotations

import io
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from studio_app.models import User
from studio_app.services import api_tokens, auth
from studio_app.services.db import write_session
from studio_app.storage import image_store
from tests.api.rest import ApiUser, api_user, money, wait_until_finished


def _generate(client: TestClient, user: ApiUser, key: str | None = None, **body):  # type: ignore[no-untyped-def]
    headers = dict(user.headers)
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(
        "/api/studio/generate", json={"prompt": "A lighthouse at dusk", **body}, headers=headers
    )


def test_generate_answers_202_at_once_and_the_status_url_follows_it(client: TestClient) -> None:
    user = api_user(credits=5)
    answer = _generate(client, user, tier="premium")
    assert answer.status_code == 202, answer.text
    accepted = answer.json()
    assert accepted["status"] in ("queued", "running")
    assert accepted["cost_credits"] == 2
    assert answer.headers["location"] == accepted["status_url"]
    assert accepted["status_url"] == f"/api/studio/generate/{accepted['id']}"

    done = wait_until_finished(client, user, accepted["id"])
    assert done["status"] == "succeeded"
    assert (done["width"], done["height"]) == (1536, 1024)
    assert done["cost_credits"] == 2 and done["error"] is None
    assert client.get("/api/studio/credits", headers=user.headers).json()["balance"] == 3

    image = client.get(done["image_url"], headers=user.headers)
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(image.content)).size == (1536, 1024)
    thumbnail = client.get(done["thumbnail_url"], headers=user.headers)
    assert thumbnail.headers["content-type"] == "image/webp"
    assert max(Image.open(io.BytesIO(thumbnail.content)).size) <= 384


def test_a_failed_generation_reports_its_code_and_charges_nothing(
    client: TestClient, settings_env
) -> None:  # type: ignore[no-untyped-def]
    settings_env(STUDIO_ENABLE_FAULT_PROVIDER="1")
    user = api_user(credits=5)
    before = money(user.user_id).balance
    answer = _generate(client, user, provider="fault", prompt="A cat #fail=safety_refused")
    assert answer.status_code == 202
    done = wait_until_finished(client, user, answer.json()["id"])
    assert done["status"] == "failed"
    assert done["error"]["code"] == "safety_refused"
    assert "safety" in done["error"]["message"].lower()
    assert done["image_url"] is None and done["cost_credits"] == 0
    assert money(user.user_id).balance == before


def test_mock_is_another_name_of_the_offline_provider(client: TestClient) -> None:
    user = api_user(credits=5)
    answer = _generate(client, user, provider="mock")
    assert answer.status_code == 202, answer.text
    finished = wait_until_finished(client, user, answer.json()["id"])
    assert (finished["status"], finished["provider"]) == ("succeeded", "offline")

    listed = client.get(
        "/api/studio/my-creations", params={"provider": "offline"}, headers=user.headers
    ).json()
    assert [c["id"] for c in listed["items"]] == [answer.json()["id"]]
    assert "mock" not in {p["name"] for p in client.get("/api/providers").json()}
    spec = client.get("/api/openapi.json").json()
    described = spec["components"]["schemas"]["GenerateRequest"]["properties"]["provider"]
    assert "`mock` for `offline`" in described["description"]


def test_a_retry_naming_the_provider_by_its_alias_is_the_same_request(client: TestClient) -> None:
    user = api_user(credits=5)
    first = _generate(client, user, key="alias-retry-key-1", provider="mock")
    again = _generate(client, user, key="alias-retry-key-1", provider="offline")
    assert again.status_code == 202, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    wait_until_finished(client, user, first.json()["id"])
    assert money(user.user_id).generations == 1


def test_generate_needs_a_valid_token(client: TestClient) -> None:
    user = api_user(credits=5)
    assert client.post("/api/studio/generate", json={"prompt": "x y"}).status_code == 401
    wrong = {"Authorization": "Bearer stu_wrong"}
    assert (
        client.post("/api/studio/generate", json={"prompt": "x y"}, headers=wrong).status_code
        == 401
    )
    token = api_tokens.list_tokens(auth.CurrentUser(user.user_id, user.email, "user"))[0]
    api_tokens.revoke_token(auth.CurrentUser(user.user_id, user.email, "user"), token.id)
    revoked = _generate(client, user)
    assert revoked.status_code == 401 and revoked.json()["code"] == "unauthorized"
    assert money(user.user_id).generations == 0


def test_a_disabled_account_cannot_use_its_token(client: TestClient) -> None:
    user = api_user(credits=5)
    with write_session() as db:
        row = db.get(User, user.user_id)
        assert row is not None
        row.is_active = False
        db.add(row)
    assert _generate(client, user).status_code == 401
    assert client.get("/api/studio/credits", headers=user.headers).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prompt": ""}, "prompt"),
        ({"prompt": "   \n "}, "prompt"),
        ({"prompt": "x" * 1_000_000}, "prompt"),
        ({"prompt": "ok prompt", "tier": "gigantic"}, "tier"),
        ({"prompt": "ok prompt", "provider": "dall-e-9"}, "provider"),
        ({"prompt": "ok prompt", "provider": "openai"}, "provider"),
        ({"prompt": "ok prompt", "seed": -1}, "seed"),
        ({"prompt": "ok prompt", "seed": 1.5}, "seed"),
        ({"prompt": "ok prompt", "template_id": 999999}, "template_id"),
        ({"prompt": "ok prompt", "n": 5}, "n"),
        ({"prompt": "ok prompt", "n": 0}, "n"),
        ({"prompt": "ok prompt", "n": "two"}, "n"),
        ({"prompt": "ok prompt", "credits": 0}, "credits"),
        ({"prompt": 42}, "prompt"),
        ({}, "prompt"),
    ],
)
def test_bad_generate_input_names_the_field_and_writes_nothing(
    client: TestClient, body: dict, field: str
) -> None:
    user = api_user(credits=5)
    before = money(user.user_id)
    answer = client.post("/api/studio/generate", json=body, headers=user.headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field
    assert answer.json()["message"]
    assert money(user.user_id) == before


def test_not_enough_credits_is_402_and_writes_nothing(client: TestClient) -> None:
    user = api_user(credits=3)
    before = money(user.user_id)
    answer = _generate(client, user, tier="premium-wide")
    assert answer.status_code == 402
    assert answer.json()["code"] == "insufficient_credits"
    assert money(user.user_id) == before


def _wait_for_every_image(client: TestClient, user: ApiUser, request_id: str) -> dict:
    """The status of a request once none of its images is queued or running."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        body = client.get(
            f"/api/studio/generate/{request_id}", params={"wait": 5}, headers=user.headers
        ).json()
        if all(image["status"] in ("succeeded", "failed") for image in body["images"]):
            return body
    raise AssertionError(f"request {request_id} did not finish: {body}")


def test_several_images_in_one_request_each_charged_only_if_it_arrives(
    client: TestClient, settings_env
) -> None:  # type: ignore[no-untyped-def]
    settings_env(STUDIO_ENABLE_FAULT_PROVIDER="1")
    user = api_user(credits=5)
    answer = _generate(
        client, user, provider="fault", prompt="Cranes #fail=safety_refused #fail_image=1", n=3
    )
    assert answer.status_code == 202, answer.text
    accepted = answer.json()
    assert accepted["cost_credits"] == 3  # held for all three
    assert len(accepted["image_ids"]) == 3 and accepted["image_ids"][0] == accepted["id"]

    done = _wait_for_every_image(client, user, accepted["id"])
    assert [image["id"] for image in done["images"]] == accepted["image_ids"]
    assert [image["status"] for image in done["images"]] == ["succeeded", "failed", "succeeded"]
    assert done["images"][1]["error"]["code"] == "safety_refused"
    assert [image["cost_credits"] for image in done["images"]] == [1, 0, 1]
    assert {image["request_id"] for image in done["images"]} == {accepted["id"]}
    assert money(user.user_id).balance == 3

    # Any image's status lists its whole request.
    second = client.get(f"/api/studio/generate/{accepted['image_ids'][2]}", headers=user.headers)
    assert second.json()["id"] == accepted["image_ids"][2]
    assert [image["id"] for image in second.json()["images"]] == accepted["image_ids"]
    # Each image is its own creation.
    listed = client.get("/api/studio/my-creations", headers=user.headers).json()["items"]
    assert sorted(item["id"] for item in listed) == sorted(accepted["image_ids"])
    image = client.get(done["images"][2]["image_url"], headers=user.headers)
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"


def test_a_retried_request_for_several_images_makes_them_once(client: TestClient) -> None:
    user = api_user(credits=10)
    first = _generate(client, user, key="batch-of-two-0001", n=2)
    again = _generate(client, user, key="batch-of-two-0001", n=2)
    assert again.json()["image_ids"] == first.json()["image_ids"]
    assert again.headers["idempotent-replayed"] == "true"
    _wait_for_every_image(client, user, first.json()["id"])
    snapshot = money(user.user_id)
    assert snapshot.generations == 2 and snapshot.balance == 8
    other = _generate(client, user, key="batch-of-two-0001", n=3)
    assert other.status_code == 409


def test_delete_cancels_what_is_not_made_yet_and_charges_nothing(
    client: TestClient, settings_env
) -> None:  # type: ignore[no-untyped-def]
    settings_env(STUDIO_ENABLE_FAULT_PROVIDER="1")
    user, stranger = api_user(credits=5), api_user(credits=5)
    accepted = _generate(client, user, provider="fault", prompt="Slow owls #delay=20", n=2).json()
    url = accepted["status_url"]
    assert client.delete(url, headers=stranger.headers).status_code == 404

    cancelled = client.delete(url, headers=user.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert [image["status"] for image in cancelled.json()["images"]] == ["failed", "failed"]
    assert {image["error"]["code"] for image in cancelled.json()["images"]} == {"cancelled"}
    assert money(user.user_id).balance == 5
    assert client.get("/api/studio/credits", headers=user.headers).json()["available"] == 5
    # Again, or on a finished request: nothing changes.
    assert client.delete(url, headers=user.headers).json()["images"] == cancelled.json()["images"]
    done = _generate(client, user).json()
    _wait_for_every_image(client, user, done["id"])
    again = client.delete(done["status_url"], headers=user.headers).json()
    assert again["status"] == "succeeded" and money(user.user_id).balance == 4


def test_the_same_idempotency_key_never_generates_twice(client: TestClient) -> None:
    user = api_user(credits=10)
    first = _generate(client, user, key="order-123-image-1")
    again = _generate(client, user, key="order-123-image-1")
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    wait_until_finished(client, user, first.json()["id"])
    after_done = _generate(client, user, key="order-123-image-1")
    assert after_done.json()["id"] == first.json()["id"]
    assert after_done.json()["status"] == "succeeded"
    snapshot = money(user.user_id)
    assert snapshot.generations == 1 and snapshot.balance == 9


def test_an_idempotency_key_reused_for_another_request_is_refused(client: TestClient) -> None:
    user = api_user(credits=10)
    assert _generate(client, user, key="key-for-lighthouse").status_code == 202
    other = _generate(client, user, key="key-for-lighthouse", prompt="A different picture")
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_conflict"
    assert money(user.user_id).generations == 1


def test_idempotency_keys_belong_to_their_user(client: TestClient) -> None:
    alice, bob = api_user(credits=5), api_user(credits=5)
    a = _generate(client, alice, key="shared-key-123")
    b = _generate(client, bob, key="shared-key-123")
    assert a.status_code == b.status_code == 202
    assert a.json()["id"] != b.json()["id"]


def test_a_malformed_idempotency_key_is_refused(client: TestClient) -> None:
    user = api_user(credits=5)
    for key in ("short", "x" * 101, "has spaces in it", "semi;colon;key"):
        answer = _generate(client, user, key=key)
        assert answer.status_code == 422, key
        assert answer.json()["field"] == "Idempotency-Key"
        assert "8 to 100 letters" in answer.json()["message"]
    assert money(user.user_id).generations == 0


def test_concurrent_retries_with_one_key_charge_once(client: TestClient) -> None:
    """Eight clients retrying the same request at the same moment: one image, one charge."""
    user = api_user(credits=10)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(lambda _: _generate(client, user, key="retry-storm-0001"), range(8))
        )
    assert {a.status_code for a in answers} == {202}
    assert len({a.json()["id"] for a in answers}) == 1
    wait_until_finished(client, user, answers[0].json()["id"])
    snapshot = money(user.user_id)
    assert snapshot.generations == 1 and snapshot.holds == 1
    assert snapshot.balance == 9


def test_generations_are_rate_limited_per_user(client: TestClient, settings_env) -> None:  # type: ignore[no-untyped-def]
    settings_env(STUDIO_GENERATIONS_PER_MINUTE="2")
    user, other = api_user(credits=10), api_user(credits=10)
    for _ in range(2):
        wait_until_finished(client, user, _generate(client, user).json()["id"])
    before = money(user.user_id)
    limited = _generate(client, user)
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 61
    assert money(user.user_id) == before
    assert _generate(client, other).status_code == 202


def test_too_many_images_in_progress_is_429(client: TestClient, settings_env) -> None:  # type: ignore[no-untyped-def]
    settings_env(STUDIO_ENABLE_FAULT_PROVIDER="1", STUDIO_MAX_CONCURRENT_GENERATIONS="1")
    user = api_user(credits=10)
    slow = _generate(client, user, provider="fault", prompt="slow one #delay=1")
    assert slow.status_code == 202
    busy = _generate(client, user)
    assert busy.status_code == 429 and busy.json()["code"] == "too_many_jobs"
    assert busy.headers["retry-after"]
    wait_until_finished(client, user, slow.json()["id"])


def test_nobody_else_sees_or_deletes_a_creation(client: TestClient) -> None:
    owner, stranger = api_user(credits=5), api_user(credits=5)
    admin = api_user(role="admin")
    done = wait_until_finished(client, owner, _generate(client, owner).json()["id"])
    for who in (stranger, admin):
        for url in (
            f"/api/studio/generate/{done['id']}",
            done["image_url"],
            done["thumbnail_url"],
        ):
            answer = client.get(url, headers=who.headers)
            assert answer.status_code == 404, (who.email, url)
            assert done["prompt"] not in answer.text
        assert (
            client.delete(f"/api/studio/creations/{done['id']}", headers=who.headers).status_code
            == 404
        )
        listed = client.get("/api/studio/my-creations", headers=who.headers).json()["items"]
        assert done["id"] not in {c["id"] for c in listed}
    assert client.get(done["image_url"]).status_code == 401
    assert client.get(done["image_url"], headers=owner.headers).status_code == 200


def test_my_creations_pages_newest_first(client: TestClient) -> None:
    user = api_user(credits=10)
    made = []
    for n in range(5):
        made.append(_generate(client, user, prompt=f"Picture number {n}").json()["id"])
        wait_until_finished(client, user, made[-1])
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/studio/my-creations", params=params, headers=user.headers).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == made[::-1]


def test_my_creations_refuses_bad_filters_and_foreign_cursors(client: TestClient) -> None:
    user, other = api_user(credits=5), api_user(credits=5)
    theirs = wait_until_finished(client, other, _generate(client, other).json()["id"])
    for params, field in (
        ({"cursor": theirs["id"]}, "cursor"),
        ({"cursor": "nonsense"}, "cursor"),
        ({"limit": 0}, "limit"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_from": "2026-02-02", "date_to": "2026-01-01"}, "date_to"),
        ({"provider": "<script>"}, "provider"),
    ):
        answer = client.get("/api/studio/my-creations", params=params, headers=user.headers)
        assert answer.status_code == 422, params
        assert answer.json()["field"] == field, params
    assert client.get("/api/studio/my-creations").status_code == 401


def test_my_creations_filters_by_provider(client: TestClient, settings_env) -> None:  # type: ignore[no-untyped-def]
    settings_env(STUDIO_ENABLE_FAULT_PROVIDER="1")
    user = api_user(credits=10)
    wait_until_finished(client, user, _generate(client, user).json()["id"])
    wait_until_finished(client, user, _generate(client, user, provider="fault").json()["id"])
    page = client.get(
        "/api/studio/my-creations", params={"provider": "fault"}, headers=user.headers
    ).json()
    assert [c["provider"] for c in page["items"]] == ["fault"]


def test_deleting_a_creation(client: TestClient) -> None:
    user = api_user(credits=5)
    done = wait_until_finished(client, user, _generate(client, user).json()["id"])
    balance = money(user.user_id).balance
    assert len(list(image_store().keys())) == 2  # the original and its thumbnail
    gone = client.delete(f"/api/studio/creations/{done['id']}", headers=user.headers)
    assert gone.status_code == 204
    assert list(image_store().keys()) == []  # on the disk, or the bucket in the scaled pass
    assert client.get(f"/api/studio/generate/{done['id']}", headers=user.headers).status_code == 404
    assert client.get(done["image_url"], headers=user.headers).status_code == 404
    again = client.delete(f"/api/studio/creations/{done['id']}", headers=user.headers)
    assert again.status_code == 404
    assert money(user.user_id).balance == balance


def test_enhance_prompt(client: TestClient) -> None:
    user = api_user()
    answer = client.post(
        "/api/studio/enhance-prompt", json={"prompt": "a red bicycle"}, headers=user.headers
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["original"] == "a red bicycle"
    assert body["enhanced"].startswith("a red bicycle") and len(body["enhanced"]) > 20
    assert body["enhancer"] == "Studio offline enhancer"
    assert body["fallback_reason"]
    assert client.post("/api/studio/enhance-prompt", json={"prompt": "x"}).status_code == 401
    empty = client.post("/api/studio/enhance-prompt", json={"prompt": ""}, headers=user.headers)
    assert empty.status_code == 422 and empty.json()["field"] == "prompt"


def test_enhance_prompt_is_rate_limited(client: TestClient, settings_env) -> None:  # type: ignore[no-untyped-def]
    settings_env(STUDIO_ENHANCEMENTS_PER_MINUTE="1")
    user = api_user()
    ok = client.post("/api/studio/enhance-prompt", json={"prompt": "a boat"}, headers=user.headers)
    assert ok.status_code == 200
    limited = client.post(
        "/api/studio/enhance-prompt", json={"prompt": "a boat"}, headers=user.headers
    )
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert int(limited.headers["retry-after"]) >= 1


def test_the_status_can_wait_for_the_image(client: TestClient, settings_env) -> None:  # type: ignore[no-untyped-def]
    settings_env(STUDIO_ENABLE_FAULT_PROVIDER="1")
    user = api_user(credits=5)
    accepted = _generate(client, user, provider="fault", prompt="Slow boat #delay=0.5").json()
    waited = client.get(accepted["status_url"], params={"wait": 10}, headers=user.headers)
    assert waited.status_code == 200
    assert waited.json()["status"] == "succeeded"
    too_long = client.get(accepted["status_url"], params={"wait": 31}, headers=user.headers)
    assert too_long.status_code == 422 and too_long.json()["field"] == "wait"


def test_a_status_wait_that_runs_out_answers_with_the_job_still_going(
    client: TestClient, settings_env
) -> None:  # type: ignore[no-untyped-def]
    settings_env(STUDIO_ENABLE_FAULT_PROVIDER="1")
    user = api_user(credits=5)
    accepted = _generate(client, user, provider="fault", prompt="Slower boat #delay=3").json()
    early = client.get(accepted["status_url"], params={"wait": 0.3}, headers=user.headers)
    assert early.json()["status"] in ("queued", "running")
    assert wait_until_finished(client, user, accepted["id"])["status"] == "succeeded"
