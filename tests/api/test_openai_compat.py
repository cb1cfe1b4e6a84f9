"""The `/v1` images API, driven by the official `openai` package as its client."""

from __future__ import annotations

import base64
import io
import time
from urllib.parse import urlsplit

import openai
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from studio_app.services import job_queue, signed_links
from tests.api.rest import ApiUser, api_user, money


def _openai(client: TestClient, user: ApiUser | None, **options: object) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{client.base_url}/v1",
        api_key=user.token if user else "stu_not-a-real-token",
        http_client=client,
        **options,  # type: ignore[arg-type]
    )


def _picture(b64: str | None) -> Image.Image:
    assert b64
    return Image.open(io.BytesIO(base64.b64decode(b64)))


def test_generations_answer_with_the_images_and_charge_the_credits(client: TestClient) -> None:
    user = api_user(credits=10)
    result = _openai(client, user).images.generate(prompt="A lighthouse at dusk")
    assert result.created > 0 and result.data is not None and len(result.data) == 1
    assert _picture(result.data[0].b64_json).size == (1024, 1024)
    assert money(user.user_id).balance == 9

    two = _openai(client, user).images.generate(
        prompt="Paper boats", model="offline", n=2, size="1536x1024"
    )
    assert two.data is not None and len(two.data) == 2
    assert {_picture(item.b64_json).size for item in two.data} == {(1536, 1024)}
    assert two.data[0].b64_json != two.data[1].b64_json
    assert money(user.user_id).balance == 9 - 2 * 2


@pytest.mark.parametrize(
    ("size", "made"),
    [("auto", (1024, 1024)), ("1792x1024", (1792, 1008)), ("1024x1536", (1024, 1024))],
)
def test_a_size_picks_the_tier_nearest_in_shape(
    client: TestClient, size: str, made: tuple[int, int]
) -> None:
    user = api_user(credits=10)
    result = _openai(client, user).images.generate(prompt="Kites", size=size)  # type: ignore[arg-type]
    assert result.data is not None
    assert _picture(result.data[0].b64_json).size == made


def test_a_url_answer_is_a_short_lived_signed_link(client: TestClient) -> None:
    user = api_user(credits=5)
    result = _openai(client, user).images.generate(prompt="Owls", response_format="url")
    assert result.data is not None and result.data[0].url
    link = urlsplit(result.data[0].url)
    assert link.scheme in ("http", "https") and link.netloc  # absolute
    # No token needed: the link is the permission.
    fetched = client.get(f"{link.path}?{link.query}")
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(fetched.content)).size == (1024, 1024)

    public_id = link.path.rsplit("/", 1)[-1]
    # The signature's last hex digit changed (to another digit, whatever it was).
    flipped = "1" if link.query[-1] == "0" else "0"
    tampered = client.get(f"{link.path}?{link.query[:-1]}{flipped}")
    assert tampered.status_code == 403 and tampered.json()["error"]["code"] == "link_expired"
    expires, signature = signed_links.sign(public_id, now=time.time() - 3600)
    expired = client.get(f"{link.path}?expires={expires}&signature={signature}")
    assert expired.status_code == 403


def test_a_bad_key_is_the_sdks_authentication_error(client: TestClient) -> None:
    with pytest.raises(openai.AuthenticationError) as refused:
        _openai(client, None).images.generate(prompt="Gulls")
    assert refused.value.code == "invalid_api_key"


def test_no_credits_is_insufficient_quota_and_not_retried(client: TestClient) -> None:
    user = api_user(credits=1)
    before = money(user.user_id)
    with pytest.raises(openai.RateLimitError) as refused:
        # Retries left at the SDK's default (2): the answer tells it not to.
        _openai(client, user).images.generate(prompt="Gulls", n=2)
    assert refused.value.code == "insufficient_quota"
    assert "needs 2 credits" in refused.value.message
    assert money(user.user_id) == before


def test_the_per_minute_limit_is_the_sdks_rate_limit_error(
    client: TestClient, settings_env
) -> None:  # type: ignore[no-untyped-def]
    settings_env(STUDIO_GENERATIONS_PER_MINUTE="1")
    user = api_user(credits=5)
    studio = _openai(client, user, max_retries=0)
    studio.images.generate(prompt="Gulls")
    with pytest.raises(openai.RateLimitError) as refused:
        studio.images.generate(prompt="Gulls")
    assert refused.value.code == "rate_limit_exceeded"
    assert int(refused.value.response.headers["retry-after"]) >= 1
    assert money(user.user_id).balance == 4


@pytest.mark.parametrize(
    ("fields", "param", "code"),
    [
        ({"model": "dream-machine-9"}, "model", "model_not_found"),
        ({"n": 5}, "n", "invalid_value"),
        ({"size": "huge"}, "size", "invalid_value"),
        ({"prompt": "   "}, "prompt", "invalid_value"),
        ({"response_format": "svg"}, "response_format", "invalid_value"),
    ],
)
def test_a_bad_request_is_the_sdks_bad_request_error_and_changes_nothing(
    client: TestClient, fields: dict, param: str, code: str
) -> None:
    user = api_user(credits=5)
    before = money(user.user_id)
    with pytest.raises(openai.BadRequestError) as refused:
        _openai(client, user).images.generate(**{"prompt": "Gulls", **fields})
    assert (refused.value.param, refused.value.code) == (param, code)
    assert refused.value.message
    assert money(user.user_id) == before


def test_a_refused_prompt_is_a_content_policy_error_charged_nothing_and_made_once(
    client: TestClient, settings_env
) -> None:  # type: ignore[no-untyped-def]
    settings_env(STUDIO_ENABLE_FAULT_PROVIDER="1")
    user = api_user(credits=5)
    with pytest.raises(openai.BadRequestError) as refused:
        _openai(client, user).images.generate(prompt="A cat #fail=safety_refused", model="fault")
    assert refused.value.code == "content_policy_violation"
    outage = "A dog #fail=quota_exhausted"
    with pytest.raises(openai.InternalServerError):
        _openai(client, user).images.generate(prompt=outage, model="fault")
    snapshot = money(user.user_id)
    # The SDK's default retries did not make the failed image again.
    assert snapshot.generations == 2 and snapshot.balance == 5


def test_an_idempotency_key_makes_a_retried_request_once(client: TestClient) -> None:
    user = api_user(credits=5)
    studio = _openai(client, user)
    key = {"Idempotency-Key": "v1-retry-000001"}
    first = studio.images.generate(prompt="Herons", n=2, extra_headers=key)
    again = studio.images.generate(prompt="Herons", n=2, extra_headers=key)
    assert first.data is not None and again.data is not None
    assert [d.b64_json for d in again.data] == [d.b64_json for d in first.data]
    snapshot = money(user.user_id)
    assert snapshot.generations == 2 and snapshot.balance == 3


def test_images_that_outlast_the_wait_are_cancelled_and_never_charged(
    client: TestClient, settings_env, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    settings_env(STUDIO_ENABLE_FAULT_PROVIDER="1")
    monkeypatch.setattr(job_queue, "job_deadline_s", lambda: 1)
    user = api_user(credits=5)
    with pytest.raises(openai.InternalServerError) as failed:
        _openai(client, user).images.generate(prompt="Slow #delay=30", model="fault")
    assert failed.value.code == "timeout"
    snapshot = money(user.user_id)
    assert snapshot.generations == 1 and snapshot.balance == 5  # made once, charged never
    assert client.get("/api/studio/credits", headers=user.headers).json()["available"] == 5


def _photo(size: tuple[int, int] = (800, 400)) -> bytes:
    """Red on the left, blue on the right."""
    picture = Image.new("RGB", size, (210, 40, 40))
    picture.paste((40, 60, 210), (size[0] // 2, 0, size[0], size[1]))
    encoded = io.BytesIO()
    picture.save(encoded, "PNG")
    return encoded.getvalue()


def test_an_edit_with_a_file_changes_that_picture_and_is_charged_per_image(
    client: TestClient,
) -> None:
    user = api_user(credits=10)
    result = _openai(client, user).images.edit(
        image=("photo.png", _photo(), "image/png"),
        prompt="make it black and white",
        n=2,
        size="1536x1024",
    )
    assert result.data is not None and len(result.data) == 2
    edited = _picture(result.data[0].b64_json).convert("RGB")
    assert edited.size == (1536, 1024)
    # The picture's halves, without their colour.
    left, right = edited.getpixel((300, 300)), edited.getpixel((1200, 300))
    assert left[0] == left[1] == left[2] and right[0] == right[1] == right[2]
    assert left != right
    assert money(user.user_id).balance == 10 - 2 * 2
    # The picture is one of the caller's uploads now, as in the studio.
    listed = client.get("/api/studio/uploads", headers=user.headers).json()["items"]
    assert len(listed) == 1 and (listed[0]["width"], listed[0]["height"]) == (800, 400)


def test_a_retried_edit_with_an_idempotency_key_is_made_once_from_one_upload(
    client: TestClient,
) -> None:
    user = api_user(credits=5)
    studio = _openai(client, user)
    key = {"Idempotency-Key": "v1-edit-retry-0001"}
    first = studio.images.edit(image=_photo(), prompt="sepia", extra_headers=key)
    again = studio.images.edit(image=_photo(), prompt="sepia", extra_headers=key)
    assert first.data is not None and again.data is not None
    assert again.data[0].b64_json == first.data[0].b64_json
    assert money(user.user_id).balance == 4
    assert len(client.get("/api/studio/uploads", headers=user.headers).json()["items"]) == 1


@pytest.mark.parametrize(
    ("image", "extra", "param"),
    [
        (b"GIF89a not a picture we take", {}, "file"),
        (None, {"mask": ("mask.png", _photo(), "image/png")}, "mask"),
        (None, {"n": 9}, "n"),
    ],
)
def test_a_bad_edit_is_the_sdks_bad_request_error_and_changes_nothing(
    client: TestClient, image: bytes | None, extra: dict, param: str
) -> None:
    user = api_user(credits=5)
    before = money(user.user_id)
    with pytest.raises(openai.BadRequestError) as refused:
        _openai(client, user).images.edit(
            image=("photo.png", image or _photo(), "image/png"), prompt="sepia", **extra
        )
    assert refused.value.param == param and refused.value.message
    assert money(user.user_id) == before
    assert client.get("/api/studio/uploads", headers=user.headers).json()["items"] == []


def test_an_edit_without_credits_is_insufficient_quota(client: TestClient) -> None:
    user = api_user(credits=0)
    with pytest.raises(openai.RateLimitError) as refused:
        _openai(client, user).images.edit(image=_photo(), prompt="sepia")
    assert refused.value.code == "insufficient_quota"
    assert client.get("/api/studio/uploads", headers=user.headers).json()["items"] == []


def test_an_idempotency_key_reused_with_another_picture_is_refused(client: TestClient) -> None:
    user = api_user(credits=5)
    studio = _openai(client, user)
    key = {"Idempotency-Key": "v1-edit-other-0001"}
    studio.images.edit(image=_photo(), prompt="sepia", extra_headers=key)
    with pytest.raises(openai.ConflictError):
        studio.images.edit(image=_photo((640, 480)), prompt="sepia", extra_headers=key)
    assert money(user.user_id).balance == 4
    assert len(client.get("/api/studio/uploads", headers=user.headers).json()["items"]) == 1
