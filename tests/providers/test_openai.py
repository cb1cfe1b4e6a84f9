"""The OpenAI adapter against a local fake of OpenAI's image API (real SDK, real HTTP)."""

from __future__ import annotations

import base64
import io
import time
from pathlib import Path

import pytest
from PIL import Image

from studio_app.providers import base
from studio_app.providers.base import ImageRequest, ProviderImage
from studio_app.providers.openai_provider import OpenAIProvider
from studio_app.services import generation, ledger
from studio_app.services.errors import InvalidInput
from studio_app.services.tiers import get_tier
from studio_app.settings import Settings, reload_settings
from studio_app.storage import image_store
from tests import aio
from tests.factories import make_user
from tests.fakes import openai_api
from tests.fakes.images import encoded
from tests.fakes.server import FakeResponse, FakeServer
from tests.generation_helpers import credit_summary, last_generation, run_generation

API_KEY = "sk-test-studio-0123456789abcdef"
PROMPT = "A lighthouse on a cliff at dawn, watercolour"


def _settings(fake: FakeServer, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": "sqlite://",
        "images_dir": tmp_path,
        "openai_api_key": API_KEY,
        "openai_base_url": fake.url + openai_api.BASE_PATH,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


def _provider(fake: FakeServer, tmp_path: Path, **overrides: object) -> OpenAIProvider:
    return OpenAIProvider(_settings(fake, tmp_path, **overrides))


def _generate(provider: OpenAIProvider, tier: str = "standard") -> ProviderImage:
    return aio.run(provider.generate(ImageRequest(prompt=PROMPT, tier=get_tier(tier))))


def _generations(fake: FakeServer) -> list:
    return fake.requests_to(openai_api.GENERATIONS_PATH)


# --- success -----------------------------------------------------------------------------


@pytest.mark.parametrize(("tier", "size"), [("standard", (1024, 1024)), ("premium", (1536, 1024))])
def test_each_tier_asks_for_its_native_size_and_returns_the_real_image(
    tier: str, size: tuple[int, int], fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, openai_api.image_of_requested_size)
    image = _generate(_provider(fake, tmp_path), tier)

    with Image.open(io.BytesIO(image.data)) as decoded:
        decoded.load()
        assert (decoded.format, decoded.size) == ("PNG", size)
    assert (image.width, image.height) == size
    assert (image.model, image.mime_type) == ("gpt-image-1.5", "image/png")
    [sent] = fake.requests
    assert (sent.method, sent.path) == ("POST", "/v1/images/generations")
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert sent.json() == {
        "model": "gpt-image-1.5",
        "prompt": PROMPT,
        "size": f"{size[0]}x{size[1]}",
        "quality": "medium",
        "n": 1,
    }


def test_the_configured_model_and_quality_are_sent_and_recorded(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, openai_api.image_of_requested_size)
    provider = _provider(
        fake, tmp_path, openai_image_model="gpt-image-1-mini", openai_image_quality="low"
    )
    image = _generate(provider)
    assert provider.model == image.model == "gpt-image-1-mini"
    assert _generations(fake)[0].json()["model"] == "gpt-image-1-mini"
    assert _generations(fake)[0].json()["quality"] == "low"


def test_the_size_actually_returned_is_recorded_not_the_size_asked(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, openai_api.image(1024, 1536, "WEBP"))
    image = _generate(_provider(fake, tmp_path), "premium")
    assert (image.width, image.height, image.mime_type) == (1024, 1536, "image/webp")
    with Image.open(io.BytesIO(image.data)) as decoded:
        assert (decoded.format, decoded.size) == ("WEBP", (1024, 1536))


def test_wide_tier_is_unavailable_on_fixed_size_models_with_the_reason(
    fake: FakeServer, tmp_path: Path
) -> None:
    provider = _provider(fake, tmp_path)
    assert provider.unavailable_tiers() == {
        "premium-wide": "OpenAI's gpt-image-1.5 makes square, 3:2 and 2:3 images only"
    }
    with pytest.raises(base.BadRequest):
        _generate(provider, "premium-wide")
    assert fake.requests == []


@pytest.mark.parametrize(
    ("model", "wide_available"),
    [
        ("gpt-image-2", True),
        ("gpt-image-2-2026-04-21", True),
        ("gpt-image-2.5-flare", True),
        ("gpt-image-1.5", False),
        ("gpt-image-1-mini", False),
        ("gpt-image-20", False),
    ],
)
def test_only_free_size_models_offer_the_wide_tier(
    model: str, wide_available: bool, fake: FakeServer, tmp_path: Path
) -> None:
    provider = _provider(fake, tmp_path, openai_image_model=model)
    assert ("premium-wide" not in provider.unavailable_tiers()) is wide_available


def test_gpt_image_2_makes_the_wide_tier_at_1792x1008(fake: FakeServer, tmp_path: Path) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, openai_api.image_of_requested_size)
    image = _generate(_provider(fake, tmp_path, openai_image_model="gpt-image-2"), "premium-wide")
    assert (image.width, image.height, image.model) == (1792, 1008, "gpt-image-2")
    [sent] = _generations(fake)
    assert (sent.json()["size"], sent.json()["model"]) == ("1792x1008", "gpt-image-2")


def test_no_negative_prompt_or_seed_is_claimed(fake: FakeServer, tmp_path: Path) -> None:
    provider = _provider(fake, tmp_path)
    assert (provider.supports_negative_prompt, provider.supports_seed) == (False, False)


# --- not configured ----------------------------------------------------------------------


def test_without_a_key_it_is_not_configured_and_sends_nothing(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, openai_api.image_of_requested_size)
    provider = _provider(fake, tmp_path, openai_api_key="")
    assert provider.is_configured() is False
    with pytest.raises(base.NotConfigured):
        _generate(provider)
    assert fake.requests == []


# --- errors: one request each (the SDK's own retries are off) ------------------------------


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (openai_api.invalid_api_key(), base.AuthFailed),
        (openai_api.insufficient_quota(), base.QuotaExhausted),
        (openai_api.billing_hard_limit(), base.QuotaExhausted),
        (openai_api.rate_limited(retry_after="0"), base.RateLimited),
        (openai_api.moderation_blocked(), base.SafetyRefused),
        (openai_api.content_policy_violation(), base.SafetyRefused),
        (openai_api.invalid_size(), base.BadRequest),
        (openai_api.model_not_found(), base.BadRequest),
        (openai_api.server_error(), base.Unavailable),
        (openai_api.overloaded(), base.Unavailable),
        (FakeResponse(status=502, body=b"<html>Bad gateway</html>"), base.Unavailable),
        (FakeResponse(drop=True), base.Unavailable),
    ],
    ids=[
        "401-invalid-key",
        "429-insufficient-quota",
        "400-billing-hard-limit",
        "429-rate-limit",
        "400-moderation-blocked",
        "400-content-policy",
        "400-invalid-size",
        "404-model-not-found",
        "500",
        "503",
        "502-html",
        "dropped-connection",
    ],
)
def test_each_failure_becomes_one_taxonomy_error_after_one_request(
    response: FakeResponse,
    expected: type[base.ProviderError],
    fake: FakeServer,
    tmp_path: Path,
) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, response)
    with pytest.raises(base.ProviderError) as caught:
        _generate(_provider(fake, tmp_path))
    assert type(caught.value) is expected
    assert len(_generations(fake)) == 1


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry_after": "7"}, 7.0),
        ({"retry_after_ms": "1500"}, 1.5),
        ({"retry_after_ms": "250", "retry_after": "1"}, 0.25),
        ({}, None),
    ],
)
def test_a_rate_limit_carries_the_wait_the_server_asked_for(
    headers: dict[str, str], seconds: float | None, fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, openai_api.rate_limited(**headers))
    with pytest.raises(base.RateLimited) as caught:
        _generate(_provider(fake, tmp_path))
    assert caught.value.retry_after == seconds


def test_a_slow_answer_times_out_as_unavailable(fake: FakeServer, tmp_path: Path) -> None:
    def slow(request: object) -> FakeResponse:
        time.sleep(1.6)
        return openai_api.image(1024, 1024)

    fake.on("POST", openai_api.GENERATIONS_PATH, slow)
    started = time.monotonic()
    with pytest.raises(base.Unavailable):
        _generate(_provider(fake, tmp_path, provider_timeout_seconds=1))
    assert time.monotonic() - started < 1.5
    assert len(_generations(fake)) == 1


@pytest.mark.parametrize(
    "echoed_key", [API_KEY, API_KEY[:8] + "*" * 18 + API_KEY[-4:]], ids=["whole", "masked"]
)
def test_the_api_key_never_reaches_the_error_detail(
    echoed_key: str, fake: FakeServer, tmp_path: Path
) -> None:
    fake.on(
        "POST",
        openai_api.GENERATIONS_PATH,
        openai_api.invalid_api_key(masked_key=echoed_key),
    )
    with pytest.raises(base.AuthFailed) as caught:
        _generate(_provider(fake, tmp_path))
    assert "sk-test" not in str(caught.value)
    assert "sk-test" not in caught.value.detail
    assert "Incorrect API key provided" in caught.value.detail


def _ok_json(payload: object) -> FakeResponse:
    return FakeResponse.json(payload)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    "response",
    [
        _ok_json({"created": 1, "data": []}),
        _ok_json({"created": 1}),
        _ok_json({"created": 1, "data": [{"url": "https://example.invalid/img.png"}]}),
        _ok_json({"created": 1, "data": [{"b64_json": _b64(b"<html>not an image</html>")}]}),
        _ok_json({"created": 1, "data": [{"b64_json": "!!! not base64 !!!"}]}),
        _ok_json({"created": 1, "data": [{"b64_json": _b64(encoded(64, 64, "GIF"))}]}),
        _ok_json({"created": 1, "data": [{"b64_json": _b64(encoded(64, 64, "PNG")[:60])}]}),
        FakeResponse(status=200, body=b"<html>gateway login</html>"),
        FakeResponse(
            status=200, body=b'{"created": 1, "da', headers={"Content-Type": "application/json"}
        ),
    ],
    ids=[
        "empty-data",
        "no-data",
        "url-only",
        "b64-not-an-image",
        "not-base64",
        "gif",
        "truncated-png",
        "html-body",
        "broken-json",
    ],
)
def test_a_200_without_a_usable_image_is_malformed(
    response: FakeResponse, fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, response)
    with pytest.raises(base.MalformedResponse):
        _generate(_provider(fake, tmp_path))
    assert len(_generations(fake)) == 1


# --- through the whole generation path ----------------------------------------------------


@pytest.fixture
def openai_env(
    migrated_db: Settings, fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake.url + openai_api.BASE_PATH)
    return reload_settings()


def _run_generation(user_id: int, tier: str = "premium") -> str:
    return run_generation(user_id, provider="openai", prompt=PROMPT, tier=tier)


def test_a_success_captures_the_price_and_records_model_and_real_size(
    openai_env: Settings, fake: FakeServer
) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, openai_api.image_of_requested_size)
    user = make_user(credits=5)
    assert _run_generation(user, "premium") == "succeeded"
    row = last_generation()
    assert (row.status, row.model, row.width, row.height) == (
        "succeeded",
        "gpt-image-1.5",
        1536,
        1024,
    )
    with Image.open(io.BytesIO(image_store().read(row.image_key))) as stored:
        assert (stored.format, stored.size) == ("PNG", (1536, 1024))
    assert credit_summary(user) == ledger.CreditSummary(balance=3, held=0)
    assert len(_generations(fake)) == 1


def test_the_wide_tier_is_refused_before_any_credit_is_held(
    openai_env: Settings, fake: FakeServer
) -> None:
    user = make_user(credits=5)
    with pytest.raises(InvalidInput, match="square, 3:2 and 2:3 images only"):
        _run_generation(user, "premium-wide")
    assert last_generation() is None
    assert credit_summary(user) == ledger.CreditSummary(balance=5, held=0)
    assert fake.requests == []


def test_a_rate_limit_that_persists_fails_after_our_three_attempts(
    openai_env: Settings, fake: FakeServer
) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, openai_api.rate_limited(retry_after="0"))
    user = make_user(credits=5)
    assert _run_generation(user) == "failed"
    row = last_generation()
    assert (row.status, row.error_code) == ("failed", "rate_limited")
    assert row.error_message == base.RateLimited.user_message
    assert len(_generations(fake)) == generation.PROVIDER_ATTEMPTS == 3
    assert credit_summary(user) == ledger.CreditSummary(balance=5, held=0)


def test_an_exhausted_quota_is_never_retried(openai_env: Settings, fake: FakeServer) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, openai_api.insufficient_quota())
    user = make_user(credits=5)
    assert _run_generation(user) == "failed"
    assert last_generation().error_code == "quota_exhausted"
    assert len(_generations(fake)) == 1
    assert credit_summary(user) == ledger.CreditSummary(balance=5, held=0)


def test_a_rate_limit_then_an_image_succeeds_on_the_second_request(
    openai_env: Settings, fake: FakeServer
) -> None:
    fake.on(
        "POST",
        openai_api.GENERATIONS_PATH,
        openai_api.rate_limited(retry_after="0"),
        openai_api.image_of_requested_size,
    )
    user = make_user(credits=5)
    assert _run_generation(user, "standard") == "succeeded"
    row = last_generation()
    assert (row.width, row.height) == (1024, 1024)
    assert len(_generations(fake)) == 2
    assert credit_summary(user) == ledger.CreditSummary(balance=4, held=0)
