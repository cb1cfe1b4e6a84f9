"""The Gemini adapter against a local fake of the Gemini API (real SDK, real HTTP)."""

from __future__ import annotations

import io
import logging
import time
from pathlib import Path

import pytest
from PIL import Image

from studio_app.providers import base
from studio_app.providers.base import ImageRequest, ProviderImage
from studio_app.providers.gemini_provider import GeminiProvider
from studio_app.services import generation, ledger
from studio_app.services.tiers import get_tier
from studio_app.settings import Settings, reload_settings
from studio_app.storage import image_store
from tests import aio
from tests.factories import make_user
from tests.fakes import gemini_api
from tests.fakes.images import encoded
from tests.fakes.server import FakeResponse, FakeServer
from tests.generation_helpers import credit_summary, last_generation, run_generation

API_KEY = "AIzaSyFAKE-studio-0123456789abcdefghij"
PROMPT = "A lighthouse on a cliff at dawn, watercolour"


def _provider(fake: FakeServer, tmp_path: Path, **overrides: object) -> GeminiProvider:
    values: dict[str, object] = {
        "database_url": "sqlite://",
        "images_dir": tmp_path,
        "gemini_api_key": API_KEY,
        "gemini_base_url": fake.url,
        **overrides,
    }
    return GeminiProvider(Settings(**values))  # type: ignore[arg-type]


def _generate(provider: GeminiProvider, tier: str = "standard") -> ProviderImage:
    return aio.run(provider.generate(ImageRequest(prompt=PROMPT, tier=get_tier(tier))))


def _generations(fake: FakeServer) -> list:
    return fake.requests_to(gemini_api.GENERATE_PATH)


def _failure(fake: FakeServer, tmp_path: Path, response: FakeResponse) -> base.ProviderError:
    """The error one generation raises when the fake answers `response`."""
    fake.on("POST", gemini_api.GENERATE_PATH, response)
    with pytest.raises(base.ProviderError) as caught:
        _generate(_provider(fake, tmp_path))
    return caught.value


# --- success -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "ratio", "size"),
    [
        ("standard", "1:1", (1024, 1024)),
        ("premium", "3:2", (1248, 832)),
        ("premium-wide", "16:9", (1344, 768)),
    ],
)
def test_each_tier_asks_for_its_aspect_ratio_and_returns_the_real_image(
    tier: str, ratio: str, size: tuple[int, int], fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", gemini_api.GENERATE_PATH, gemini_api.image_for_requested_aspect)
    image = _generate(_provider(fake, tmp_path), tier)

    with Image.open(io.BytesIO(image.data)) as decoded:
        decoded.load()
        assert (decoded.format, decoded.size) == ("PNG", size)
    assert (image.width, image.height) == size
    assert (image.model, image.mime_type) == ("gemini-2.5-flash-image", "image/png")
    [sent] = fake.requests
    assert (sent.method, sent.path) == (
        "POST",
        "/v1beta/models/gemini-2.5-flash-image:generateContent",
    )
    assert sent.headers["x-goog-api-key"] == API_KEY
    assert sent.json() == {
        "contents": [{"parts": [{"text": PROMPT}], "role": "user"}],
        "generationConfig": {
            "responseModalities": ["IMAGE"],
            "imageConfig": {"aspectRatio": ratio},
        },
    }


def test_every_tier_is_available(fake: FakeServer, tmp_path: Path) -> None:
    assert _provider(fake, tmp_path).unavailable_tiers() == {}


def test_the_configured_model_is_called_and_recorded(fake: FakeServer, tmp_path: Path) -> None:
    fake.on("POST", gemini_api.GENERATE_PATH, gemini_api.image_for_requested_aspect)
    provider = _provider(fake, tmp_path, gemini_image_model="gemini-3-pro-image-preview")
    image = _generate(provider)
    assert provider.model == image.model == "gemini-3-pro-image-preview"
    [sent] = _generations(fake)
    assert sent.path == "/v1beta/models/gemini-3-pro-image-preview:generateContent"


def test_a_gateway_base_url_with_a_path_prefix_is_honoured(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", r"^/gateway/google/", gemini_api.image_for_requested_aspect)
    provider = _provider(fake, tmp_path, gemini_base_url=fake.url + "/gateway/google")
    assert _generate(provider).width == 1024
    [sent] = fake.requests
    assert sent.path == "/gateway/google/v1beta/models/gemini-2.5-flash-image:generateContent"


def test_the_format_and_size_actually_returned_are_recorded(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", gemini_api.GENERATE_PATH, gemini_api.image(1184, 864, "JPEG"))
    image = _generate(_provider(fake, tmp_path), "premium")
    assert (image.width, image.height, image.mime_type) == (1184, 864, "image/jpeg")
    with Image.open(io.BytesIO(image.data)) as decoded:
        assert (decoded.format, decoded.size) == ("JPEG", (1184, 864))


def test_a_caption_beside_the_image_is_ignored(fake: FakeServer, tmp_path: Path) -> None:
    fake.on(
        "POST",
        gemini_api.GENERATE_PATH,
        gemini_api.image(1024, 1024, text="Here is your lighthouse at dawn:"),
    )
    assert (_generate(_provider(fake, tmp_path)).width, len(_generations(fake))) == (1024, 1)


def test_draft_images_from_thinking_are_skipped_for_the_final_one(
    fake: FakeServer, tmp_path: Path
) -> None:
    draft = gemini_api.image_part(encoded(512, 512, "PNG"), thought=True)
    final = gemini_api.image_part(encoded(1024, 1024, "PNG"))
    fake.on("POST", gemini_api.GENERATE_PATH, gemini_api.answer([draft, final]))
    assert _generate(_provider(fake, tmp_path)).width == 1024


def test_one_provider_serves_generations_on_different_event_loops(
    fake: FakeServer, tmp_path: Path
) -> None:
    # The SDK client is reused; each test-style `aio.run` is a new event loop.
    fake.on("POST", gemini_api.GENERATE_PATH, gemini_api.image_for_requested_aspect)
    provider = _provider(fake, tmp_path)
    sizes = [(_generate(provider, tier).width) for tier in ("standard", "premium-wide")]
    assert sizes == [1024, 1344]
    assert len(_generations(fake)) == 2


def test_no_negative_prompt_or_seed_is_claimed(fake: FakeServer, tmp_path: Path) -> None:
    provider = _provider(fake, tmp_path)
    assert (provider.supports_negative_prompt, provider.supports_seed) == (False, False)


# --- not configured ----------------------------------------------------------------------


def test_without_a_key_it_is_not_configured_and_sends_nothing(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", gemini_api.GENERATE_PATH, gemini_api.image_for_requested_aspect)
    provider = _provider(fake, tmp_path, gemini_api_key="")
    assert provider.is_configured() is False
    with pytest.raises(base.NotConfigured):
        _generate(provider)
    assert fake.requests == []


# --- HTTP errors: one request each (the SDK's own retries are off) ------------------------


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (gemini_api.api_key_invalid(), base.AuthFailed),
        (gemini_api.unauthenticated(), base.AuthFailed),
        (gemini_api.consumer_suspended("AIzaSyOTHER"), base.AuthFailed),
        (gemini_api.free_tier_has_no_image_quota(), base.QuotaExhausted),
        (gemini_api.free_tier_has_no_image_quota(per_day=False), base.QuotaExhausted),
        (gemini_api.daily_quota_used_up(), base.QuotaExhausted),
        (gemini_api.billing_required(), base.QuotaExhausted),
        (gemini_api.rate_limited(), base.RateLimited),
        (gemini_api.resource_exhausted_without_details(), base.RateLimited),
        (gemini_api.invalid_argument(), base.BadRequest),
        (gemini_api.model_not_found(), base.BadRequest),
        (gemini_api.internal_error(), base.Unavailable),
        (gemini_api.overloaded(), base.Unavailable),
        (FakeResponse(status=502, body=b"<html>Bad gateway</html>"), base.Unavailable),
        (FakeResponse(drop=True), base.Unavailable),
    ],
    ids=[
        "400-api-key-invalid",
        "401-unauthenticated",
        "403-permission-denied",
        "429-free-tier-limit-0",
        "429-limit-0-per-minute-only",
        "429-per-day-quota",
        "400-billing-required",
        "429-per-minute-rate-limit",
        "429-no-details",
        "400-invalid-argument",
        "404-model-not-found",
        "500-internal",
        "503-overloaded",
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
    assert type(_failure(fake, tmp_path, response)) is expected
    assert len(_generations(fake)) == 1


@pytest.mark.parametrize(
    ("response", "seconds"),
    [
        (gemini_api.rate_limited(retry_delay=None, retry_after="7"), 7.0),
        (gemini_api.rate_limited(retry_delay="12s"), 12.0),
        (gemini_api.rate_limited(retry_delay="1.5s"), 1.5),
        (gemini_api.rate_limited(retry_delay="30s", retry_after="2"), 2.0),
        (gemini_api.rate_limited(retry_delay=None), None),
    ],
    ids=["header", "retry-info", "retry-info-fraction", "header-wins", "none"],
)
def test_a_rate_limit_carries_the_wait_the_server_asked_for(
    response: FakeResponse, seconds: float | None, fake: FakeServer, tmp_path: Path
) -> None:
    error = _failure(fake, tmp_path, response)
    assert isinstance(error, base.RateLimited)
    assert error.retry_after == seconds


def test_a_slow_answer_times_out_as_unavailable(fake: FakeServer, tmp_path: Path) -> None:
    def slow(request: object) -> FakeResponse:
        time.sleep(1.6)
        return gemini_api.image(1024, 1024)

    fake.on("POST", gemini_api.GENERATE_PATH, slow)
    started = time.monotonic()
    with pytest.raises(base.Unavailable):
        _generate(_provider(fake, tmp_path, provider_timeout_seconds=1))
    assert time.monotonic() - started < 1.5
    assert len(_generations(fake)) == 1


def test_the_api_key_never_reaches_the_error_detail(
    fake: FakeServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        error = _failure(fake, tmp_path, gemini_api.consumer_suspended(API_KEY))
    assert isinstance(error, base.AuthFailed)
    assert "has been suspended" in error.detail
    assert API_KEY not in error.detail
    assert API_KEY not in str(error)
    assert API_KEY not in caplog.text
    assert "has been suspended" in caplog.text


# --- refusals and odd answers: a 200 without an image -------------------------------------


@pytest.mark.parametrize(
    "response",
    [
        gemini_api.prompt_blocked("PROHIBITED_CONTENT"),
        gemini_api.prompt_blocked("SAFETY"),
        gemini_api.answer(None, finish_reason="IMAGE_SAFETY"),
        gemini_api.answer(None, finish_reason="IMAGE_PROHIBITED_CONTENT"),
        gemini_api.answer(None, finish_reason="SAFETY"),
        gemini_api.answer(None, finish_reason="PROHIBITED_CONTENT"),
        gemini_api.answer(None, finish_reason="NO_IMAGE"),
        gemini_api.answer(
            [gemini_api.image_part(encoded(64, 64, "PNG"))], finish_reason="IMAGE_SAFETY"
        ),
    ],
    ids=[
        "prompt-prohibited",
        "prompt-safety",
        "image-safety",
        "image-prohibited",
        "safety",
        "prohibited",
        "no-image",
        "image-with-safety-finish",
    ],
)
def test_a_safety_block_is_refused_after_one_request(
    response: FakeResponse, fake: FakeServer, tmp_path: Path
) -> None:
    assert type(_failure(fake, tmp_path, response)) is base.SafetyRefused
    assert len(_generations(fake)) == 1


def test_a_text_only_answer_is_malformed_and_its_text_is_logged(
    fake: FakeServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    said = "I can't draw that lighthouse, but here is a poem about it instead."
    with caplog.at_level(logging.WARNING):
        error = _failure(fake, tmp_path, gemini_api.answer([gemini_api.text_part(said)]))
    assert type(error) is base.MalformedResponse
    assert said in error.detail
    assert said in caplog.text
    assert len(_generations(fake)) == 1


def _ok(body: bytes) -> FakeResponse:
    return FakeResponse(status=200, body=body, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(
    "response",
    [
        gemini_api.answer([], finish_reason="STOP"),
        gemini_api.answer(None, finish_reason="IMAGE_OTHER"),
        gemini_api.answer(None, finish_reason="OTHER"),
        gemini_api.answer(None, finish_reason="SOMETHING_NEW"),
        _ok(b"{}"),
        _ok(b'{"candidates": []}'),
        _ok(b'{"candidates": [{"content": {"parts": "not a list"}}]}'),
        _ok(b'{"candidates": [{"content": {"parts": [{"inlineData": {"data": "!!!"}}]}}]}'),
        gemini_api.answer([gemini_api.image_part(b"<html>not an image</html>")]),
        gemini_api.answer([gemini_api.image_part(encoded(64, 64, "GIF"), "image/gif")]),
        gemini_api.answer([gemini_api.image_part(encoded(64, 64, "PNG")[:60])]),
        FakeResponse(status=200, body=b"<html>gateway login</html>"),
        _ok(b'{"candidates": [{"cont'),
    ],
    ids=[
        "stop-without-parts",
        "image-other",
        "other",
        "unknown-finish-reason",
        "empty-object",
        "no-candidates",
        "parts-not-a-list",
        "not-base64",
        "bytes-not-an-image",
        "gif",
        "truncated-png",
        "html-body",
        "broken-json",
    ],
)
@pytest.mark.filterwarnings("ignore:SOMETHING_NEW is not a valid FinishReason")
def test_a_200_without_a_usable_image_is_malformed(
    response: FakeResponse, fake: FakeServer, tmp_path: Path
) -> None:
    assert type(_failure(fake, tmp_path, response)) is base.MalformedResponse
    assert len(_generations(fake)) == 1


def test_a_continuation_token_is_not_followed(fake: FakeServer, tmp_path: Path) -> None:
    # By default the SDK would send a second request carrying the token.
    continuation = _ok(
        b'{"candidates": [{"finishReason": "CONTINUATION", "continuationToken": "dG9rZW4="}]}'
    )
    # A second request, if sent, gets a 500 (the fake would otherwise repeat the token forever).
    fake.on("POST", gemini_api.GENERATE_PATH, continuation, gemini_api.internal_error())
    with pytest.raises(base.MalformedResponse):
        _generate(_provider(fake, tmp_path))
    assert len(_generations(fake)) == 1


# --- through the whole generation path ----------------------------------------------------


@pytest.fixture
def gemini_env(
    migrated_db: Settings, fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    monkeypatch.setenv("GEMINI_API_KEY", API_KEY)
    monkeypatch.setenv("GEMINI_BASE_URL", fake.url)
    return reload_settings()


def _run_generation(user_id: int, tier: str = "premium") -> str:
    return run_generation(user_id, provider="gemini", prompt=PROMPT, tier=tier)


def test_a_success_captures_the_price_and_records_model_and_real_size(
    gemini_env: Settings, fake: FakeServer
) -> None:
    fake.on("POST", gemini_api.GENERATE_PATH, gemini_api.image_for_requested_aspect)
    user = make_user(credits=5)
    assert _run_generation(user, "premium") == "succeeded"
    row = last_generation()
    assert (row.status, row.model, row.width, row.height) == (
        "succeeded",
        "gemini-2.5-flash-image",
        1248,
        832,
    )
    with Image.open(io.BytesIO(image_store().read(row.image_key))) as stored:
        assert (stored.format, stored.size) == ("PNG", (1248, 832))
    assert credit_summary(user) == ledger.CreditSummary(balance=3, held=0)
    assert len(_generations(fake)) == 1


def test_the_wide_tier_runs_at_geminis_16_9_size(gemini_env: Settings, fake: FakeServer) -> None:
    fake.on("POST", gemini_api.GENERATE_PATH, gemini_api.image_for_requested_aspect)
    user = make_user(credits=5)
    assert _run_generation(user, "premium-wide") == "succeeded"
    assert (last_generation().width, last_generation().height) == (1344, 768)
    assert credit_summary(user) == ledger.CreditSummary(balance=1, held=0)


def test_a_rate_limit_that_persists_fails_after_our_three_attempts(
    gemini_env: Settings, fake: FakeServer
) -> None:
    fake.on("POST", gemini_api.GENERATE_PATH, gemini_api.rate_limited(retry_delay="0s"))
    user = make_user(credits=5)
    assert _run_generation(user) == "failed"
    row = last_generation()
    assert (row.status, row.error_code) == ("failed", "rate_limited")
    assert row.error_message == base.RateLimited.user_message
    assert len(_generations(fake)) == generation.PROVIDER_ATTEMPTS == 3
    assert credit_summary(user) == ledger.CreditSummary(balance=5, held=0)


def test_an_exhausted_quota_is_never_retried(gemini_env: Settings, fake: FakeServer) -> None:
    fake.on("POST", gemini_api.GENERATE_PATH, gemini_api.free_tier_has_no_image_quota())
    user = make_user(credits=5)
    assert _run_generation(user) == "failed"
    row = last_generation()
    assert (row.error_code, row.error_message) == (
        "quota_exhausted",
        base.QuotaExhausted.user_message,
    )
    assert len(_generations(fake)) == 1
    assert credit_summary(user) == ledger.CreditSummary(balance=5, held=0)


def test_a_safety_block_fails_without_charging(gemini_env: Settings, fake: FakeServer) -> None:
    fake.on("POST", gemini_api.GENERATE_PATH, gemini_api.answer(None, finish_reason="IMAGE_SAFETY"))
    user = make_user(credits=5)
    assert _run_generation(user) == "failed"
    assert last_generation().error_code == "safety_refused"
    assert len(_generations(fake)) == 1
    assert credit_summary(user) == ledger.CreditSummary(balance=5, held=0)


def test_a_rate_limit_then_an_image_succeeds_on_the_second_request(
    gemini_env: Settings, fake: FakeServer
) -> None:
    fake.on(
        "POST",
        gemini_api.GENERATE_PATH,
        gemini_api.rate_limited(retry_delay=None, retry_after="0"),
        gemini_api.image_for_requested_aspect,
    )
    user = make_user(credits=5)
    assert _run_generation(user, "standard") == "succeeded"
    row = last_generation()
    assert (row.status, row.width, row.height) == ("succeeded", 1024, 1024)
    assert len(_generations(fake)) == 2
    assert credit_summary(user) == ledger.CreditSummary(balance=4, held=0)
