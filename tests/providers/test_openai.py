"""The OpenAI adapter against a local fake of OpenAI's API (real SDK, real HTTP).

The fake (tests/fakes/openai_api.py) answers as OpenAI documents: the gpt-image-2 family
draws exactly the size asked within its limits, older models only their three sizes, a
shut-down model answers 404, reasoning chat models refuse `max_tokens`.
"""

from __future__ import annotations

import asyncio
import base64
import io
import socket
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openai
import pytest
from PIL import Image

from studio_app.providers import base, openai_provider
from studio_app.providers.base import ImageRequest, ProviderImage, SourcePicture
from studio_app.providers.openai_provider import OpenAIProvider
from studio_app.services import generation, ledger, provider_calls
from studio_app.services.errors import InvalidInput
from studio_app.services.tiers import get_tier
from studio_app.settings import Settings, reload_settings
from studio_app.storage import image_store
from tests import aio
from tests.factories import make_user
from tests.fakes import openai_api
from tests.fakes.images import encoded
from tests.fakes.server import FakeResponse, FakeServer, RecordedRequest
from tests.generation_helpers import credit_summary, last_generation, run_generation

API_KEY = "sk-test-studio-0123456789abcdef"
PROMPT = "A lighthouse on a cliff at dawn, watercolour"
DEFAULT_MODEL = "gpt-image-2.6-flare"
# The API the day before gpt-image-1.5 (a fixed-size model) was shut down.
BEFORE_SHUTDOWN = date(2026, 11, 30)
TIER_SIZES = {"standard": (1024, 1024), "premium": (1536, 1024), "premium-wide": (1792, 1008)}
MESSAGES = [
    {"role": "system", "content": "Rewrite the user's image prompt. Answer with the prompt."},
    {"role": "user", "content": PROMPT},
]


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


def _generate(provider: OpenAIProvider, tier: str = "standard", model: str = "") -> ProviderImage:
    request = ImageRequest(prompt=PROMPT, tier=get_tier(tier), model=model)
    return aio.run(provider.generate(request))


def _generations(fake: FakeServer) -> list[RecordedRequest]:
    return fake.requests_to(openai_api.GENERATIONS_PATH)


def _closed_port_url() -> str:
    """An address where nothing listens: connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


# --- the default model draws every tier at its exact size ---------------------------------


@pytest.mark.parametrize("tier", list(TIER_SIZES))
def test_each_tier_asks_for_its_exact_size_and_returns_the_real_image(
    tier: str, fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, openai_api.generations())
    size = TIER_SIZES[tier]
    image = _generate(_provider(fake, tmp_path), tier)

    with Image.open(io.BytesIO(image.data)) as decoded:
        decoded.load()
        assert (decoded.format, decoded.size) == ("PNG", size)
    assert (image.width, image.height) == size
    assert (image.model, image.mime_type) == (DEFAULT_MODEL, "image/png")
    [sent] = fake.requests
    assert (sent.method, sent.path) == ("POST", "/v1/images/generations")
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert sent.json() == {
        "model": DEFAULT_MODEL,
        "prompt": PROMPT,
        "size": f"{size[0]}x{size[1]}",
        "quality": "medium",
        "n": 1,
    }


def test_the_default_model_offers_every_tier(fake: FakeServer, tmp_path: Path) -> None:
    provider = _provider(fake, tmp_path)
    assert provider.model == DEFAULT_MODEL
    assert provider.unavailable_tiers() == {}


def test_the_configured_model_and_quality_are_sent_and_recorded(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, openai_api.generations())
    provider = _provider(
        fake, tmp_path, openai_image_model="gpt-image-2.6-sunburst", openai_image_quality="xhigh"
    )
    image = _generate(provider, "premium-wide")
    assert provider.model == image.model == "gpt-image-2.6-sunburst"
    assert (image.width, image.height) == (1792, 1008)
    [sent] = _generations(fake)
    assert (sent.json()["model"], sent.json()["quality"]) == ("gpt-image-2.6-sunburst", "xhigh")


def test_the_requested_model_wins_over_the_configured_one(fake: FakeServer, tmp_path: Path) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, openai_api.generations())
    image = _generate(_provider(fake, tmp_path), "premium", model="gpt-image-2")
    assert (image.model, image.width, image.height) == ("gpt-image-2", 1536, 1024)
    assert _generations(fake)[0].json()["model"] == "gpt-image-2"


def test_the_size_actually_returned_is_recorded_not_the_size_asked(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, openai_api.image(1024, 1536, "WEBP"))
    image = _generate(_provider(fake, tmp_path), "premium")
    assert (image.width, image.height, image.mime_type) == (1024, 1536, "image/webp")
    with Image.open(io.BytesIO(image.data)) as decoded:
        assert (decoded.format, decoded.size) == ("WEBP", (1024, 1536))


def test_known_models_are_current_with_the_default_first(fake: FakeServer, tmp_path: Path) -> None:
    fake.on("GET", openai_api.MODELS_PATH, openai_api.models())
    provider = _provider(fake, tmp_path)
    assert provider.known_models[0] == DEFAULT_MODEL
    assert {"gpt-image-2.6-flare", "gpt-image-2.6-sunburst"} <= set(provider.known_models)
    for model in provider.known_models:
        # Each one exists, has no shutdown in sight, and draws every tier.
        aio.run(provider.check_model(model))
        assert openai_api.IMAGE_MODELS[model].shutdown is None
        assert provider.unavailable_tiers(model) == {}, model
    assert len(fake.requests) == len(provider.known_models)


@pytest.mark.parametrize(
    ("model", "wide_available"),
    [
        ("gpt-image-2.6-flare", True),
        ("gpt-image-2.6-sunburst", True),
        ("gpt-image-2.5-flare-2026-09-08", True),
        ("gpt-image-2", True),
        ("gpt-image-2-2026-04-21", True),
        ("gpt-image-1.5", False),
        ("gpt-image-1-mini", False),
        ("chatgpt-image-latest", False),
        ("gpt-image-20", False),
    ],
)
def test_only_the_gpt_image_2_family_offers_the_wide_tier(
    model: str, wide_available: bool, fake: FakeServer, tmp_path: Path
) -> None:
    provider = _provider(fake, tmp_path)
    unavailable = provider.unavailable_tiers(model)
    assert ("premium-wide" not in unavailable) is wide_available
    assert set(unavailable) <= {"premium-wide"}  # square and 3:2 exist on every model


def test_a_fixed_size_model_refuses_the_wide_tier_with_a_reason_and_sends_nothing(
    fake: FakeServer, tmp_path: Path
) -> None:
    provider = _provider(fake, tmp_path, openai_image_model="gpt-image-1.5")
    assert provider.unavailable_tiers() == {
        "premium-wide": "OpenAI's gpt-image-1.5 makes square, 3:2 and 2:3 images only"
    }
    with pytest.raises(base.BadRequest):
        _generate(provider, "premium-wide")
    assert fake.requests == []


@pytest.mark.parametrize(("tier", "size"), [("standard", (1024, 1024)), ("premium", (1536, 1024))])
def test_a_fixed_size_model_draws_its_own_sizes(
    tier: str, size: tuple[int, int], fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, openai_api.generations(as_of=BEFORE_SHUTDOWN))
    image = _generate(_provider(fake, tmp_path, openai_image_model="gpt-image-1.5"), tier)
    assert (image.model, image.width, image.height) == ("gpt-image-1.5", *size)
    assert _generations(fake)[0].json()["size"] == f"{size[0]}x{size[1]}"


@pytest.mark.parametrize(
    ("model", "size", "as_of", "status", "code"),
    [
        ("gpt-image-1.5", "1792x1008", BEFORE_SHUTDOWN, 400, "invalid_value"),
        ("gpt-image-1.5", "1024x1024", openai_api.AS_OF, 404, "model_not_found"),
        ("gpt-image-2.6-flare", "1000x1000", openai_api.AS_OF, 400, "invalid_value"),
        ("gpt-image-2.6-flare", "3840x1088", openai_api.AS_OF, 400, "invalid_value"),
        ("gpt-image-2.6-flare", "4096x2304", openai_api.AS_OF, 400, "invalid_value"),
        ("gpt-image-2.6-flare", "512x512", openai_api.AS_OF, 400, "invalid_value"),
    ],
    ids=["fixed-wide", "shut-down", "not-16", "beyond-3-to-1", "edge-over-3840", "too-few-px"],
)
def test_the_fake_refuses_what_openai_documents_it_refuses(
    model: str, size: str, as_of: date, status: int, code: str, fake: FakeServer
) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, openai_api.generations(as_of=as_of))
    client = openai.OpenAI(api_key=API_KEY, base_url=fake.url + "/v1", max_retries=0)
    with pytest.raises(openai.APIStatusError) as caught:
        client.images.generate(model=model, prompt=PROMPT, size=size)
    assert (caught.value.status_code, caught.value.code) == (status, code)


def test_no_negative_prompt_or_seed_is_claimed(fake: FakeServer, tmp_path: Path) -> None:
    provider = _provider(fake, tmp_path)
    assert (provider.supports_negative_prompt, provider.supports_seed) == (False, False)


# --- not configured ----------------------------------------------------------------------


def test_without_a_key_it_is_not_configured_and_sends_nothing(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, openai_api.generations())
    provider = _provider(fake, tmp_path, openai_api_key="")
    assert provider.is_configured() is False
    with pytest.raises(base.NotConfigured):
        _generate(provider)
    with pytest.raises(base.NotConfigured):
        aio.run(provider.check_model(DEFAULT_MODEL))
    with pytest.raises(base.NotConfigured):
        aio.run(provider.chat(MESSAGES, timeout=5))
    assert fake.requests == []


# --- errors: one request each (the SDK's own retries are off) ------------------------------


@pytest.mark.parametrize(
    ("response", "expected", "started"),
    [
        (openai_api.invalid_api_key(), base.AuthFailed, False),
        (openai_api.insufficient_quota(), base.QuotaExhausted, False),
        (openai_api.billing_hard_limit(), base.QuotaExhausted, False),
        (openai_api.rate_limited(retry_after="0"), base.RateLimited, False),
        (openai_api.moderation_blocked(), base.SafetyRefused, False),
        (openai_api.content_policy_violation(), base.SafetyRefused, False),
        (openai_api.content_policy_message_only(), base.SafetyRefused, False),
        (openai_api.invalid_size(), base.BadRequest, False),
        (openai_api.model_not_found(), base.ModelUnavailable, False),
        (openai_api.model_shut_down(), base.ModelUnavailable, False),
        (openai_api.model_shut_down(status=400), base.ModelUnavailable, False),
        (openai_api.invalid_model(), base.ModelUnavailable, False),
        (openai_api.server_error(), base.Unavailable, True),
        (openai_api.overloaded(), base.Unavailable, False),
        (FakeResponse(status=502, body=b"<html>Bad gateway</html>"), base.Unavailable, True),
        (FakeResponse(status=504, body=b"<html>Gateway timeout</html>"), base.Unavailable, True),
        (FakeResponse(drop=True), base.Unavailable, True),  # the request had gone out
    ],
    ids=[
        "401-invalid-key",
        "429-insufficient-quota",
        "400-billing-hard-limit",
        "429-rate-limit",
        "400-moderation-blocked",
        "400-content-policy",
        "400-content-policy-message",
        "400-invalid-size",
        "404-model-not-found",
        "404-model-shut-down",
        "400-model-shut-down",
        "400-invalid-model",
        "500",
        "503",
        "502-html",
        "504-html",
        "dropped-connection",
    ],
)
def test_each_failure_becomes_one_taxonomy_error_after_one_request(
    response: FakeResponse,
    expected: type[base.ProviderError],
    started: bool,
    fake: FakeServer,
    tmp_path: Path,
) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, response)
    with pytest.raises(base.ProviderError) as caught:
        _generate(_provider(fake, tmp_path))
    assert type(caught.value) is expected
    assert caught.value.may_have_started is started
    assert len(_generations(fake)) == 1


@pytest.mark.parametrize(
    ("headers", "wait", "seconds"),
    [
        ({"retry_after": "7"}, "12s", 7.0),
        ({"retry_after_ms": "1500"}, "12s", 1.5),
        ({"retry_after_ms": "250", "retry_after": "1"}, "12s", 0.25),
        ({}, "1.5s", 1.5),
        ({}, "250ms", 0.25),
        ({}, "12s", 12.0),
    ],
)
def test_a_rate_limit_carries_the_wait_the_server_asked_for(
    headers: dict[str, str], wait: str, seconds: float, fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, openai_api.rate_limited(wait=wait, **headers))
    with pytest.raises(base.RateLimited) as caught:
        _generate(_provider(fake, tmp_path))
    assert caught.value.retry_after == pytest.approx(seconds)
    assert provider_calls.should_retry(caught.value)


def test_an_exhausted_quota_is_not_a_rate_limit(fake: FakeServer, tmp_path: Path) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, openai_api.insufficient_quota())
    with pytest.raises(base.QuotaExhausted) as caught:
        _generate(_provider(fake, tmp_path))
    assert not provider_calls.should_retry(caught.value)
    assert "You exceeded your current quota" in caught.value.detail


def test_a_slow_answer_times_out_as_may_have_started(fake: FakeServer, tmp_path: Path) -> None:
    def slow(request: object) -> FakeResponse:
        time.sleep(1.6)
        return openai_api.image(1024, 1024)

    fake.on("POST", openai_api.GENERATIONS_PATH, slow)
    started = time.monotonic()
    with pytest.raises(base.Unavailable) as caught:
        _generate(_provider(fake, tmp_path, provider_timeout_seconds=1))
    assert time.monotonic() - started < 1.5
    assert caught.value.may_have_started is True
    assert not provider_calls.should_retry(caught.value)
    assert len(_generations(fake)) == 1


def test_a_refused_connection_has_not_started_and_may_be_retried(tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        database_url="sqlite://",
        images_dir=tmp_path,
        openai_api_key=API_KEY,
        openai_base_url=_closed_port_url(),
    )
    with pytest.raises(base.Unavailable) as caught:
        _generate(OpenAIProvider(settings))
    assert caught.value.may_have_started is False
    assert provider_calls.should_retry(caught.value)


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


# --- edits: POST /v1/images/edits, multipart ----------------------------------------------

EDIT_PROMPT = "Make the sky stormy and add a red kite"
# The source picture: two flat halves, so the edit's origin shows in its pixels.
LEFT, RIGHT = (230, 40, 40), (30, 60, 220)


def _picture_bytes(picture: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, fmt)
    return buffer.getvalue()


def _source(tier: str = "standard") -> SourcePicture:
    """A source fitted to `tier`, as the edit path hands it over."""
    width, height = get_tier(tier).width, get_tier(tier).height
    picture = Image.new("RGB", (width, height), LEFT)
    picture.paste(RIGHT, (width // 2, 0, width, height))
    return SourcePicture(data=_picture_bytes(picture), width=width, height=height, picture=picture)


def _edit(
    provider: OpenAIProvider,
    tier: str = "standard",
    model: str = "",
    source: SourcePicture | None = None,
) -> ProviderImage:
    request = ImageRequest(
        prompt=EDIT_PROMPT, tier=get_tier(tier), model=model, source=source or _source(tier)
    )
    return aio.run(provider.generate(request))


def _edits(fake: FakeServer) -> list[RecordedRequest]:
    return fake.requests_to(openai_api.EDITS_PATH)


def _assert_drawn_from_the_source(image: ProviderImage) -> None:
    """The fake's edit keeps the source's halves, tinted: it used the uploaded picture."""
    with Image.open(io.BytesIO(image.data)) as decoded:
        rgb = decoded.convert("RGB")
    for x, color in ((image.width // 4, LEFT), (image.width * 3 // 4, RIGHT)):
        pixel = rgb.getpixel((x, image.height // 2))
        assert isinstance(pixel, tuple)
        expected = openai_api.tinted(color)
        assert all(abs(a - b) <= 2 for a, b in zip(pixel, expected, strict=True)), (x, pixel)


@pytest.mark.parametrize("tier", list(TIER_SIZES))
def test_an_edit_uploads_the_source_and_returns_the_tier_size_drawn_from_it(
    tier: str, fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", openai_api.EDITS_PATH, openai_api.edits())
    source = _source(tier)
    image = _edit(_provider(fake, tmp_path), tier, source=source)

    assert (image.width, image.height) == TIER_SIZES[tier]
    assert (image.model, image.mime_type) == (DEFAULT_MODEL, "image/png")
    _assert_drawn_from_the_source(image)
    [sent] = fake.requests
    assert (sent.method, sent.path) == ("POST", "/v1/images/edits")
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert sent.headers["content-type"].startswith("multipart/form-data; boundary=")
    width, height = TIER_SIZES[tier]
    assert openai_api.form_fields(sent) == {
        "model": DEFAULT_MODEL,
        "prompt": EDIT_PROMPT,
        "size": f"{width}x{height}",
        "quality": "medium",
        "n": "1",
    }
    [upload] = [part for part in openai_api.form_parts(sent) if part.filename is not None]
    assert (upload.name, upload.filename, upload.content_type) == (
        "image",
        "source.png",
        "image/png",
    )
    assert upload.data == source.data
    assert source.picture is not None
    with Image.open(io.BytesIO(upload.data)) as received:
        assert received.convert("RGB").tobytes() == source.picture.tobytes()


def test_every_known_model_can_edit(fake: FakeServer, tmp_path: Path) -> None:
    provider = _provider(fake, tmp_path)
    assert provider.edit_unavailable() == ""
    assert [provider.edit_unavailable(model) for model in provider.known_models] == [""] * len(
        provider.known_models
    )


def test_an_edit_sends_the_requested_model_and_configured_quality(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", openai_api.EDITS_PATH, openai_api.edits())
    provider = _provider(fake, tmp_path, openai_image_quality="high")
    image = _edit(provider, "premium", model="gpt-image-2.5-sunburst")
    assert (image.model, image.width, image.height) == ("gpt-image-2.5-sunburst", 1536, 1024)
    fields = openai_api.form_fields(_edits(fake)[0])
    assert (fields["model"], fields["quality"]) == ("gpt-image-2.5-sunburst", "high")


def test_an_edit_on_a_fixed_size_model_keeps_to_its_sizes_and_sends_nothing_else(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", openai_api.EDITS_PATH, openai_api.edits(as_of=BEFORE_SHUTDOWN))
    provider = _provider(fake, tmp_path, openai_image_model="gpt-image-1.5")
    with pytest.raises(base.BadRequest):
        _edit(provider, "premium-wide")
    assert fake.requests == []
    image = _edit(provider, "premium")
    assert (image.model, image.width, image.height) == ("gpt-image-1.5", 1536, 1024)
    _assert_drawn_from_the_source(image)


def _not_a_picture(tier: str = "standard") -> SourcePicture:
    width, height = get_tier(tier).width, get_tier(tier).height
    return SourcePicture(data=b"<html>not a picture</html>", width=width, height=height)


def _gif(tier: str = "standard") -> SourcePicture:
    width, height = get_tier(tier).width, get_tier(tier).height
    return SourcePicture(
        data=encoded(64, 64, "GIF"), width=width, height=height, mime_type="image/gif"
    )


@pytest.mark.parametrize(
    ("source", "words"),
    [
        (_not_a_picture(), ("invalid_image_file", "Invalid image file or mode for image 1")),
        (_gif(), ("unsupported_file_mimetype", "unsupported mimetype ('image/gif')")),
    ],
    ids=["bytes-not-a-picture", "gif"],
)
def test_a_source_openai_cannot_read_is_a_bad_request_after_one_request(
    source: SourcePicture, words: tuple[str, str], fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", openai_api.EDITS_PATH, openai_api.edits())
    with pytest.raises(base.ProviderError) as caught:
        _edit(_provider(fake, tmp_path), source=source)
    assert type(caught.value) is base.BadRequest
    assert caught.value.detail.startswith(f"HTTP 400 {words[0]} ")
    assert words[1] in caught.value.detail
    assert not provider_calls.should_retry(caught.value)
    assert len(_edits(fake)) == 1


@pytest.mark.parametrize(
    ("response", "expected", "started"),
    [
        (openai_api.rate_limited(retry_after="3"), base.RateLimited, False),
        (openai_api.insufficient_quota(), base.QuotaExhausted, False),
        (openai_api.moderation_blocked(), base.SafetyRefused, False),
        (openai_api.model_shut_down(), base.ModelUnavailable, False),
        (openai_api.invalid_api_key(), base.AuthFailed, False),
        (openai_api.server_error(), base.Unavailable, True),
        (FakeResponse(drop=True), base.Unavailable, True),
    ],
    ids=["429-rate-limit", "429-quota", "400-moderation", "404-shut-down", "401", "500", "drop"],
)
def test_an_edit_failure_maps_to_the_same_taxonomy_after_one_request(
    response: FakeResponse,
    expected: type[base.ProviderError],
    started: bool,
    fake: FakeServer,
    tmp_path: Path,
) -> None:
    fake.on("POST", openai_api.EDITS_PATH, response)
    with pytest.raises(base.ProviderError) as caught:
        _edit(_provider(fake, tmp_path))
    assert type(caught.value) is expected
    assert caught.value.may_have_started is started
    if expected is base.RateLimited:
        assert caught.value.retry_after == pytest.approx(3.0)
    assert len(_edits(fake)) == 1
    assert _generations(fake) == []


def test_a_malformed_edit_answer_is_malformed(fake: FakeServer, tmp_path: Path) -> None:
    fake.on("POST", openai_api.EDITS_PATH, _ok_json({"created": 1, "data": []}))
    with pytest.raises(base.MalformedResponse):
        _edit(_provider(fake, tmp_path))


@pytest.mark.parametrize(
    ("model", "size", "image", "as_of", "status", "code"),
    [
        (
            "gpt-image-2.6-flare",
            "1024x1024",
            b"GIF89a not really",
            openai_api.AS_OF,
            400,
            "invalid_image_file",
        ),
        ("gpt-image-1.5", "1792x1008", None, BEFORE_SHUTDOWN, 400, "invalid_value"),
        ("gpt-image-1.5", "1024x1024", None, openai_api.AS_OF, 404, "model_not_found"),
        ("gpt-image-2.6-flare", "1000x1000", None, openai_api.AS_OF, 400, "invalid_value"),
    ],
    ids=["not-a-picture", "fixed-wide", "shut-down", "not-16"],
)
def test_the_edit_fake_refuses_what_openai_refuses(
    model: str,
    size: str,
    image: bytes | None,
    as_of: date,
    status: int,
    code: str,
    fake: FakeServer,
) -> None:
    fake.on("POST", openai_api.EDITS_PATH, openai_api.edits(as_of=as_of))
    client = openai.OpenAI(api_key=API_KEY, base_url=fake.url + "/v1", max_retries=0)
    upload = ("source.png", image or _source().data, "image/png")
    with pytest.raises(openai.APIStatusError) as caught:
        client.images.edit(model=model, image=upload, prompt=EDIT_PROMPT, size=size)
    assert (caught.value.status_code, caught.value.code) == (status, code)


# --- check_model: GET /v1/models/{id} ------------------------------------------------------


def test_check_model_looks_the_model_up_once(fake: FakeServer, tmp_path: Path) -> None:
    fake.on("GET", openai_api.MODELS_PATH, openai_api.models())
    aio.run(_provider(fake, tmp_path).check_model("gpt-image-2.6-sunburst"))
    [sent] = fake.requests
    assert (sent.method, sent.path) == ("GET", "/v1/models/gpt-image-2.6-sunburst")
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"


@pytest.mark.parametrize(
    ("model", "as_of"),
    [
        ("gpt-image-9", openai_api.AS_OF),  # never existed
        ("gpt-image-1.5", openai_api.AS_OF),  # shut down 2026-12-01: 404
        ("gpt-image-1-mini", BEFORE_SHUTDOWN),  # still listed, but past its shutdown_date
    ],
    ids=["unknown", "shut-down", "past-shutdown-date"],
)
def test_check_model_finds_a_gone_model_unavailable(
    model: str, as_of: date, fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("GET", openai_api.MODELS_PATH, openai_api.models(as_of=as_of))
    with pytest.raises(base.ModelUnavailable):
        aio.run(_provider(fake, tmp_path).check_model(model))
    assert len(fake.requests) == 1


def test_check_model_accepts_a_model_whose_shutdown_is_still_ahead(
    fake: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = datetime.combine(openai_api.AS_OF, datetime.min.time(), UTC)
    monkeypatch.setattr(openai_provider, "utcnow", lambda: today)
    fake.on("GET", openai_api.MODELS_PATH, openai_api.models())
    aio.run(_provider(fake, tmp_path).check_model("gpt-4.1-mini"))  # shuts down 2027-01-14


def test_check_model_with_a_rejected_key_is_auth_failed_not_unavailable(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("GET", openai_api.MODELS_PATH, openai_api.models(api_key="sk-the-real-one"))
    with pytest.raises(base.AuthFailed):
        aio.run(_provider(fake, tmp_path).check_model(DEFAULT_MODEL))


# --- chat -----------------------------------------------------------------------------------


def test_chat_answers_with_the_chat_model_least_reasoning_and_no_max_tokens(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", openai_api.CHAT_PATH, openai_api.chat_completions("A bright lighthouse"))
    provider = _provider(fake, tmp_path)
    assert provider.chat_model == "gpt-6-luna"
    assert aio.run(provider.chat(MESSAGES, timeout=10)) == "A bright lighthouse"
    [sent] = fake.requests
    assert (sent.method, sent.path) == ("POST", "/v1/chat/completions")
    body = sent.json()
    assert "max_tokens" not in body
    assert body == {
        "model": "gpt-6-luna",
        "messages": MESSAGES,
        "max_completion_tokens": 1024,
        "reasoning_effort": "none",
    }


def test_chat_sends_no_reasoning_effort_to_a_model_that_does_not_reason(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", openai_api.CHAT_PATH, openai_api.chat_completions("A bright lighthouse"))
    provider = _provider(fake, tmp_path, openai_chat_model="gpt-4.1-mini")
    assert aio.run(provider.chat(MESSAGES, timeout=10)) == "A bright lighthouse"
    assert "reasoning_effort" not in fake.requests[0].json()


def test_the_fake_refuses_max_tokens_on_a_reasoning_model_as_openai_does(
    fake: FakeServer,
) -> None:
    fake.on("POST", openai_api.CHAT_PATH, openai_api.chat_completions())
    client = openai.OpenAI(api_key=API_KEY, base_url=fake.url + "/v1", max_retries=0)
    messages: Any = MESSAGES
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gpt-6-luna", messages=messages, max_tokens=300)
    assert (caught.value.code, caught.value.param) == ("unsupported_parameter", "max_tokens")
    assert "Use 'max_completion_tokens' instead" in caught.value.message


def test_chat_with_an_exhausted_quota_is_one_request(fake: FakeServer, tmp_path: Path) -> None:
    fake.on("POST", openai_api.CHAT_PATH, openai_api.insufficient_quota())
    with pytest.raises(base.QuotaExhausted):
        aio.run(_provider(fake, tmp_path).chat(MESSAGES, timeout=10))
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    ("chat_model", "as_of"),
    [("gpt-4o-mini-2099", openai_api.AS_OF), ("gpt-5-mini", date(2026, 12, 11))],
    ids=["unknown", "shut-down"],
)
def test_chat_with_a_gone_model_is_model_unavailable(
    chat_model: str, as_of: date, fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", openai_api.CHAT_PATH, openai_api.chat_completions(as_of=as_of))
    provider = _provider(fake, tmp_path, openai_chat_model=chat_model)
    with pytest.raises(base.ModelUnavailable):
        aio.run(provider.chat(MESSAGES, timeout=10))
    assert len(fake.requests) == 1


def test_chat_gives_up_at_its_timeout(fake: FakeServer, tmp_path: Path) -> None:
    def slow(request: RecordedRequest) -> FakeResponse:
        time.sleep(1.6)
        return openai_api.chat_answer("too late")

    fake.on("POST", openai_api.CHAT_PATH, slow)
    started = time.monotonic()
    with pytest.raises(base.Unavailable):
        aio.run(_provider(fake, tmp_path).chat(MESSAGES, timeout=0.5))
    assert time.monotonic() - started < 1.4
    assert len(fake.requests) == 1


# --- through the whole generation path ----------------------------------------------------


class _RecordedSleeps:
    """Stands in for `asyncio` in services.provider_calls: records the waits, sleeps none."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> _RecordedSleeps:
    recorder = _RecordedSleeps()
    monkeypatch.setattr(provider_calls, "asyncio", recorder)
    return recorder


@pytest.fixture
def openai_env(
    migrated_db: Settings, fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake.url + openai_api.BASE_PATH)
    return reload_settings()


def _run_generation(user_id: int, tier: str = "premium") -> str:
    return run_generation(user_id, provider="openai", prompt=PROMPT, tier=tier)


def _assert_failed_free_of_charge(user: int, code: str, credits: int = 10) -> None:
    row = last_generation()
    assert (row.status, row.error_code, row.image_key) == ("failed", code, None)
    assert row.error_message == base.ERROR_CLASSES[code].user_message
    assert credit_summary(user) == ledger.CreditSummary(balance=credits, held=0)


@pytest.mark.parametrize(("tier", "price"), [("standard", 1), ("premium", 2), ("premium-wide", 4)])
def test_every_tier_stores_an_image_of_its_exact_size_and_charges_its_price(
    tier: str, price: int, openai_env: Settings, fake: FakeServer
) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, openai_api.generations())
    user = make_user(credits=10)
    assert _run_generation(user, tier) == "succeeded"
    row = last_generation()
    size = TIER_SIZES[tier]
    assert (row.status, row.model, row.width, row.height) == ("succeeded", DEFAULT_MODEL, *size)
    with Image.open(io.BytesIO(image_store().read(row.image_key))) as stored:
        stored.load()
        assert (stored.format, stored.size) == ("PNG", size)
    assert credit_summary(user) == ledger.CreditSummary(balance=10 - price, held=0)
    [sent] = _generations(fake)
    assert sent.json()["size"] == f"{size[0]}x{size[1]}"


@pytest.mark.parametrize(("tier", "price"), [("standard", 1), ("premium", 2)])
def test_a_fixed_size_model_stores_its_sizes(
    tier: str,
    price: int,
    openai_env: Settings,
    fake: FakeServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STUDIO_OPENAI_IMAGE_MODEL", "gpt-image-1.5")
    reload_settings()
    fake.on("POST", openai_api.GENERATIONS_PATH, openai_api.generations(as_of=BEFORE_SHUTDOWN))
    user = make_user(credits=10)
    assert _run_generation(user, tier) == "succeeded"
    row = last_generation()
    assert (row.model, row.width, row.height) == ("gpt-image-1.5", *TIER_SIZES[tier])
    with Image.open(io.BytesIO(image_store().read(row.image_key))) as stored:
        assert stored.size == TIER_SIZES[tier]
    assert credit_summary(user) == ledger.CreditSummary(balance=10 - price, held=0)


def test_the_wide_tier_on_a_fixed_size_model_is_refused_before_any_credit_is_held(
    openai_env: Settings, fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_OPENAI_IMAGE_MODEL", "gpt-image-1.5")
    reload_settings()
    user = make_user(credits=5)
    with pytest.raises(InvalidInput, match="square, 3:2 and 2:3 images only"):
        _run_generation(user, "premium-wide")
    assert last_generation() is None
    assert credit_summary(user) == ledger.CreditSummary(balance=5, held=0)
    assert fake.requests == []


def test_a_rate_limit_that_persists_fails_after_our_three_attempts(
    openai_env: Settings, fake: FakeServer, sleeps: _RecordedSleeps
) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, openai_api.rate_limited(wait="1.5s"))
    user = make_user(credits=10)
    assert _run_generation(user) == "failed"
    _assert_failed_free_of_charge(user, "rate_limited")
    assert len(_generations(fake)) == generation.PROVIDER_ATTEMPTS == 3
    assert sleeps.waits == [1.5, 1.5]  # the wait OpenAI's message named


def test_an_exhausted_quota_is_never_retried(
    openai_env: Settings, fake: FakeServer, sleeps: _RecordedSleeps
) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, openai_api.insufficient_quota())
    user = make_user(credits=10)
    assert _run_generation(user) == "failed"
    _assert_failed_free_of_charge(user, "quota_exhausted")
    assert len(_generations(fake)) == 1
    assert sleeps.waits == []


@pytest.mark.parametrize(
    "first", [openai_api.rate_limited(retry_after="0"), openai_api.overloaded()], ids=["429", "503"]
)
def test_a_refusal_at_the_door_then_an_image_succeeds_on_the_second_request(
    first: FakeResponse, openai_env: Settings, fake: FakeServer, sleeps: _RecordedSleeps
) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, first, openai_api.generations())
    user = make_user(credits=5)
    assert _run_generation(user, "standard") == "succeeded"
    row = last_generation()
    assert (row.width, row.height) == (1024, 1024)
    assert len(_generations(fake)) == 2
    assert len(sleeps.waits) == 1
    assert credit_summary(user) == ledger.CreditSummary(balance=4, held=0)


def test_a_refused_connection_is_retried_then_fails_free_of_charge(
    migrated_db: Settings, monkeypatch: pytest.MonkeyPatch, sleeps: _RecordedSleeps
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", _closed_port_url())
    reload_settings()
    user = make_user(credits=10)
    assert _run_generation(user) == "failed"
    _assert_failed_free_of_charge(user, "unavailable")
    assert len(sleeps.waits) == generation.PROVIDER_ATTEMPTS - 1


@pytest.mark.parametrize(
    "answer",
    [
        openai_api.server_error(),
        FakeResponse(status=502, body=b"<html>Bad gateway</html>"),
        FakeResponse(status=504, body=b"<html>Gateway timeout</html>"),
    ],
    ids=["500", "502", "504"],
)
def test_a_failure_after_the_work_may_have_started_is_never_resubmitted(
    answer: FakeResponse, openai_env: Settings, fake: FakeServer, sleeps: _RecordedSleeps
) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, answer, openai_api.generations())
    user = make_user(credits=10)
    assert _run_generation(user) == "failed"
    _assert_failed_free_of_charge(user, "unavailable")
    assert len(_generations(fake)) == 1
    assert sleeps.waits == []


def test_a_timeout_after_the_request_went_out_is_never_resubmitted(
    openai_env: Settings,
    fake: FakeServer,
    sleeps: _RecordedSleeps,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STUDIO_PROVIDER_TIMEOUT_SECONDS", "1")
    reload_settings()

    def slow(request: RecordedRequest) -> FakeResponse:
        time.sleep(1.6)
        return openai_api.generations()(request)

    fake.on("POST", openai_api.GENERATIONS_PATH, slow)
    user = make_user(credits=10)
    assert _run_generation(user) == "failed"
    _assert_failed_free_of_charge(user, "unavailable")
    assert len(_generations(fake)) == 1
    assert sleeps.waits == []


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (openai_api.model_shut_down(DEFAULT_MODEL), "model_unavailable"),
        (openai_api.moderation_blocked(), "safety_refused"),
    ],
    ids=["model-gone", "safety"],
)
def test_a_permanent_refusal_is_one_request_and_free(
    answer: FakeResponse,
    code: str,
    openai_env: Settings,
    fake: FakeServer,
    sleeps: _RecordedSleeps,
) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, answer)
    user = make_user(credits=10)
    assert _run_generation(user) == "failed"
    _assert_failed_free_of_charge(user, code)
    assert len(_generations(fake)) == 1
