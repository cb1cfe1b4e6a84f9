"""The Gemini adapter against a local fake of the Gemini API (real SDK, real HTTP)."""

from __future__ import annotations

import io
import json
import logging
import re
import socket
import time
from pathlib import Path

import pytest
from PIL import Image

from studio_app.providers import base
from studio_app.providers.base import ImageRequest, ProviderImage, SourcePicture
from studio_app.providers.gemini_provider import IMAGEN_CANNOT_EDIT, GeminiProvider
from studio_app.services import generation, ledger
from studio_app.services.tiers import get_tier
from studio_app.settings import Settings, reload_settings
from studio_app.storage import image_store
from tests import aio
from tests.factories import make_user
from tests.fakes import gemini_api
from tests.fakes.images import encoded
from tests.fakes.server import FakeResponse, FakeServer, RecordedRequest, Responder
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


def _generate(provider: GeminiProvider, tier: str = "standard", model: str = "") -> ProviderImage:
    request = ImageRequest(prompt=PROMPT, tier=get_tier(tier), model=model)
    return aio.run(provider.generate(request))


def _generations(fake: FakeServer) -> list:
    return fake.requests_to(gemini_api.GENERATE_PATH)


def _failure(fake: FakeServer, tmp_path: Path, response: FakeResponse) -> base.ProviderError:
    """The error one generation raises when the fake answers `response`."""
    fake.on("POST", gemini_api.GENERATE_PATH, response)
    with pytest.raises(base.ProviderError) as caught:
        _generate(_provider(fake, tmp_path))
    return caught.value


# --- success -----------------------------------------------------------------------------


# Google's documented sizes (the fake's own table): 1K 3:2 is 1264x848 and 1K 16:9 is
# 1376x768, fewer pixels than premium (1536x1024) and premium-wide (1792x1008) promise,
# so those tiers ask for 2K.
@pytest.mark.parametrize(
    ("tier", "ratio", "image_size", "size"),
    [
        ("standard", "1:1", "1K", (1024, 1024)),
        ("premium", "3:2", "2K", (2528, 1696)),
        ("premium-wide", "16:9", "2K", (2752, 1536)),
    ],
)
def test_each_tier_asks_for_its_aspect_ratio_at_the_smallest_size_that_fits(
    tier: str,
    ratio: str,
    image_size: str,
    size: tuple[int, int],
    fake: FakeServer,
    tmp_path: Path,
) -> None:
    fake.on("POST", gemini_api.GENERATE_PATH, gemini_api.image_for_requested_aspect)
    image = _generate(_provider(fake, tmp_path), tier)

    with Image.open(io.BytesIO(image.data)) as decoded:
        decoded.load()
        assert (decoded.format, decoded.size) == ("PNG", size)
    assert (image.width, image.height) == size
    assert (image.model, image.mime_type) == ("gemini-3.1-flash-image", "image/png")
    [sent] = fake.requests
    assert (sent.method, sent.path) == (
        "POST",
        "/v1beta/models/gemini-3.1-flash-image:generateContent",
    )
    assert sent.headers["x-goog-api-key"] == API_KEY
    assert sent.json() == {
        "contents": [{"parts": [{"text": PROMPT}], "role": "user"}],
        "generationConfig": {
            "responseModalities": ["IMAGE"],
            "imageConfig": {"aspectRatio": ratio, "imageSize": image_size},
        },
    }


def test_the_current_models_are_offered_the_default_first(fake: FakeServer, tmp_path: Path) -> None:
    provider = _provider(fake, tmp_path)
    assert provider.known_models[:2] == ("gemini-3.1-flash-image", "gemini-3-pro-image")
    assert provider.model == provider.known_models[0]
    assert "gemini-2.5-flash-image" not in provider.known_models


@pytest.mark.parametrize("model", ["", "gemini-3.1-flash-image", "gemini-3-pro-image"])
def test_every_tier_is_available_on_the_current_models(
    model: str, fake: FakeServer, tmp_path: Path
) -> None:
    assert _provider(fake, tmp_path).unavailable_tiers(model) == {}


def test_a_model_without_image_size_greys_the_tiers_it_cannot_reach(
    fake: FakeServer, tmp_path: Path
) -> None:
    unavailable = _provider(fake, tmp_path).unavailable_tiers("gemini-2.5-flash-image")
    assert unavailable == {
        "premium": "gemini-2.5-flash-image makes at most 1248×832 at 3:2",
        "premium-wide": "gemini-2.5-flash-image makes at most 1344×768 at 16:9",
    }


def test_a_model_unknown_to_the_size_table_is_assumed_to_make_1k_only(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", gemini_api.GENERATE_PATH, gemini_api.image_for_requested_aspect)
    provider = _provider(fake, tmp_path, gemini_image_model="gemini-3.2-flash-image")
    unavailable = provider.unavailable_tiers()
    assert set(unavailable) == {"premium", "premium-wide"}
    assert unavailable["premium"] == (
        "gemini-3.2-flash-image is not in the studio's size table: only its default 1K size "
        "(1264×848 at 3:2) is assumed"
    )
    # What it can reach is asked for without an image_size it may not know.
    assert (_generate(provider, "standard").width, _generate(provider, "standard").height) == (
        1024,
        1024,
    )
    assert _generations(fake)[0].json()["generationConfig"]["imageConfig"] == {"aspectRatio": "1:1"}
    # What it cannot reach is refused before anything is sent.
    with pytest.raises(base.BadRequest):
        _generate(provider, "premium")
    assert len(_generations(fake)) == 2


def test_the_configured_model_is_called_and_recorded(fake: FakeServer, tmp_path: Path) -> None:
    fake.on("POST", gemini_api.GENERATE_PATH, gemini_api.image_for_requested_aspect)
    provider = _provider(fake, tmp_path, gemini_image_model="gemini-3-pro-image")
    image = _generate(provider, "premium-wide")
    assert provider.model == image.model == "gemini-3-pro-image"
    assert (image.width, image.height) == (2752, 1536)
    [sent] = _generations(fake)
    assert sent.path == "/v1beta/models/gemini-3-pro-image:generateContent"


def test_the_model_on_the_request_wins_over_the_configured_one(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", gemini_api.GENERATE_PATH, gemini_api.image_for_requested_aspect)
    provider = _provider(fake, tmp_path)
    image = _generate(provider, "standard", model="gemini-3-pro-image")
    assert (provider.model, image.model) == ("gemini-3.1-flash-image", "gemini-3-pro-image")
    [sent] = _generations(fake)
    assert sent.path == "/v1beta/models/gemini-3-pro-image:generateContent"


def test_a_gateway_base_url_with_a_path_prefix_is_honoured(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", r"^/gateway/google/", gemini_api.image_for_requested_aspect)
    provider = _provider(fake, tmp_path, gemini_base_url=fake.url + "/gateway/google")
    assert _generate(provider).width == 1024
    [sent] = fake.requests
    assert sent.path == "/gateway/google/v1beta/models/gemini-3.1-flash-image:generateContent"


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
    assert sizes == [1024, 2752]
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
        (gemini_api.model_not_found(), base.ModelUnavailable),
        (gemini_api.model_no_longer_available(), base.ModelUnavailable),
        (
            gemini_api.error(
                400,
                "FAILED_PRECONDITION",
                "Gemini 2.5 Flash Image has been shut down. Use gemini-3.1-flash-image.",
            ),
            base.ModelUnavailable,
        ),
        (
            gemini_api.invalid_argument("* generation_config.thinking_budget: is deprecated"),
            base.BadRequest,
        ),
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
        "404-model-no-longer-available",
        "400-model-shut-down",
        "400-a-deprecated-field-is-not-a-gone-model",
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
    ("response", "started"),
    [
        (gemini_api.internal_error(), True),
        (FakeResponse(status=502, body=b"<html>Bad gateway</html>"), True),
        (FakeResponse(drop=True), True),
        (gemini_api.overloaded(), False),
        (gemini_api.rate_limited(), False),
    ],
    ids=["500", "502", "dropped-after-sending", "503", "429"],
)
def test_a_failure_after_the_request_went_out_may_have_started_the_work(
    response: FakeResponse, started: bool, fake: FakeServer, tmp_path: Path
) -> None:
    # Google may be drawing (and billing) the image: such a call is never resubmitted.
    assert _failure(fake, tmp_path, response).may_have_started is started
    assert len(_generations(fake)) == 1


def test_a_refused_connection_has_not_started_anything(fake: FakeServer, tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    provider = _provider(fake, tmp_path, gemini_base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(base.Unavailable) as caught:
        _generate(provider)
    assert caught.value.may_have_started is False
    assert caught.value.retryable is True


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
    with pytest.raises(base.Unavailable) as caught:
        _generate(_provider(fake, tmp_path, provider_timeout_seconds=1))
    assert time.monotonic() - started < 1.5
    assert caught.value.may_have_started is True
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
        "image-with-safety-finish",
    ],
)
def test_a_safety_block_is_refused_after_one_request(
    response: FakeResponse, fake: FakeServer, tmp_path: Path
) -> None:
    assert type(_failure(fake, tmp_path, response)) is base.SafetyRefused
    assert len(_generations(fake)) == 1


@pytest.mark.parametrize(
    "response",
    [
        gemini_api.answer(None, finish_reason="NO_IMAGE"),
        gemini_api.answer(
            [gemini_api.text_part("Here is a lighthouse.")], finish_reason="NO_IMAGE"
        ),
    ],
    ids=["no-parts", "text-only"],
)
def test_no_image_is_its_own_error_not_a_safety_refusal(
    response: FakeResponse, fake: FakeServer, tmp_path: Path
) -> None:
    error = _failure(fake, tmp_path, response)
    assert type(error) is base.NoImage
    assert (error.code, error.may_have_started) == ("no_image", False)
    assert "returned no image" in error.user_message
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


# --- edits: the source as an inline image part -------------------------------------------

EDIT_PROMPT = "Make the sky stormy and add a red kite"
# The source picture: two flat halves, so the edit's origin shows in its pixels.
LEFT, RIGHT = (230, 40, 40), (30, 60, 220)
IMAGEN = "imagen-4.0-generate-001"


def _source(tier: str = "standard") -> SourcePicture:
    """A source fitted to `tier`, as the edit path hands it over."""
    width, height = get_tier(tier).width, get_tier(tier).height
    picture = Image.new("RGB", (width, height), LEFT)
    picture.paste(RIGHT, (width // 2, 0, width, height))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return SourcePicture(data=buffer.getvalue(), width=width, height=height, picture=picture)


def _edit(
    provider: GeminiProvider,
    tier: str = "standard",
    model: str = "",
    source: SourcePicture | None = None,
) -> ProviderImage:
    request = ImageRequest(
        prompt=EDIT_PROMPT, tier=get_tier(tier), model=model, source=source or _source(tier)
    )
    return aio.run(provider.generate(request))


def _edit_failure(
    fake: FakeServer, tmp_path: Path, response: Responder, source: SourcePicture | None = None
) -> base.ProviderError:
    fake.on("POST", gemini_api.GENERATE_PATH, response)
    with pytest.raises(base.ProviderError) as caught:
        _edit(_provider(fake, tmp_path), source=source)
    return caught.value


def _assert_drawn_from_the_source(image: ProviderImage) -> None:
    """The fake's edit keeps the source's halves, tinted: it used the picture sent."""
    with Image.open(io.BytesIO(image.data)) as decoded:
        rgb = decoded.convert("RGB")
    for x, color in ((image.width // 4, LEFT), (image.width * 3 // 4, RIGHT)):
        pixel = rgb.getpixel((x, image.height // 2))
        assert isinstance(pixel, tuple)
        expected = gemini_api.tinted(color)
        assert all(abs(a - b) <= 2 for a, b in zip(pixel, expected, strict=True)), (x, pixel)


@pytest.mark.parametrize(
    ("tier", "ratio", "image_size", "size"),
    [
        ("standard", "1:1", "1K", (1024, 1024)),
        ("premium", "3:2", "2K", (2528, 1696)),
        ("premium-wide", "16:9", "2K", (2752, 1536)),
    ],
)
def test_an_edit_sends_the_instruction_then_the_source_in_one_user_turn(
    tier: str,
    ratio: str,
    image_size: str,
    size: tuple[int, int],
    fake: FakeServer,
    tmp_path: Path,
) -> None:
    fake.on("POST", gemini_api.GENERATE_PATH, gemini_api.image_for_requested_aspect)
    source = _source(tier)
    image = _edit(_provider(fake, tmp_path), tier, source=source)

    assert (image.width, image.height) == size
    assert (image.model, image.mime_type) == ("gemini-3.1-flash-image", "image/png")
    _assert_drawn_from_the_source(image)
    [sent] = fake.requests
    assert sent.path == "/v1beta/models/gemini-3.1-flash-image:generateContent"
    body = sent.json()
    # The same image config as a generation of this tier.
    assert body["generationConfig"] == {
        "responseModalities": ["IMAGE"],
        "imageConfig": {"aspectRatio": ratio, "imageSize": image_size},
    }
    [turn] = body["contents"]
    assert turn["role"] == "user"
    text, picture = turn["parts"]
    assert text == {"text": EDIT_PROMPT}
    inline = picture["inlineData"]
    assert gemini_api.inline_mime_type(inline) == "image/png"
    assert gemini_api.inline_bytes(inline) == source.data
    assert source.picture is not None
    with Image.open(io.BytesIO(gemini_api.inline_bytes(inline))) as received:
        assert received.convert("RGB").tobytes() == source.picture.tobytes()


@pytest.mark.parametrize(
    ("model", "reason"),
    [
        ("", ""),
        ("gemini-3.1-flash-image", ""),
        ("gemini-3-pro-image", ""),
        (IMAGEN, IMAGEN_CANNOT_EDIT),
        ("imagen-4.0-ultra-generate-001", IMAGEN_CANNOT_EDIT),
    ],
)
def test_gemini_image_models_edit_and_imagen_models_do_not(
    model: str, reason: str, fake: FakeServer, tmp_path: Path
) -> None:
    assert _provider(fake, tmp_path).edit_unavailable(model) == reason


def test_an_edit_with_an_imagen_model_is_refused_before_anything_is_sent(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", gemini_api.GENERATE_PATH, gemini_api.image_for_requested_aspect)
    provider = _provider(fake, tmp_path, gemini_image_model=IMAGEN)
    assert provider.edit_unavailable() == IMAGEN_CANNOT_EDIT
    with pytest.raises(base.BadRequest) as caught:
        _edit(provider)
    assert caught.value.detail == IMAGEN_CANNOT_EDIT
    assert fake.requests == []


def _unreadable(data: bytes, mime_type: str = "image/png") -> SourcePicture:
    width, height = get_tier("standard").width, get_tier("standard").height
    return SourcePicture(data=data, width=width, height=height, mime_type=mime_type)


@pytest.mark.parametrize(
    ("source", "words"),
    [
        (_unreadable(b"<html>not a picture</html>"), "Unable to process input image"),
        (_unreadable(encoded(64, 64, "GIF"), "image/gif"), "Unsupported MIME type: image/gif"),
    ],
    ids=["bytes-not-a-picture", "gif"],
)
def test_a_source_google_cannot_read_is_a_bad_request_after_one_request(
    source: SourcePicture, words: str, fake: FakeServer, tmp_path: Path
) -> None:
    error = _edit_failure(fake, tmp_path, gemini_api.image_for_requested_aspect, source)
    assert type(error) is base.BadRequest
    assert error.detail.startswith("HTTP 400 INVALID_ARGUMENT ")
    assert words in error.detail
    assert len(_generations(fake)) == 1


def test_the_fake_refuses_inline_data_that_is_not_base64_as_google_does(
    fake: FakeServer, tmp_path: Path
) -> None:
    body = {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"text": EDIT_PROMPT},
                    {"inlineData": {"mimeType": "image/png", "data": "data:image/png;base64,"}},
                ],
            }
        ],
        "generationConfig": {"responseModalities": ["IMAGE"]},
    }
    sent = RecordedRequest(
        method="POST",
        path=f"/v1beta/models/{gemini_api.MODEL}:generateContent",
        headers={},
        body=json.dumps(body).encode(),
    )
    response = gemini_api.image_for_requested_aspect(sent)
    error = json.loads(response.body)["error"]
    assert (response.status, error["status"]) == (400, "INVALID_ARGUMENT")
    field = "contents[0].parts[1].inline_data.data"
    assert error["message"].startswith(f"Invalid value at '{field}' (TYPE_BYTES)")
    assert error["details"][0]["fieldViolations"][0]["field"] == field
    assert type(_edit_failure(fake, tmp_path, response)) is base.BadRequest


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (gemini_api.rate_limited(retry_delay="4s"), base.RateLimited),
        (gemini_api.daily_quota_used_up(), base.QuotaExhausted),
        (gemini_api.prompt_blocked("PROHIBITED_CONTENT"), base.SafetyRefused),
        (gemini_api.answer(None, finish_reason="IMAGE_SAFETY"), base.SafetyRefused),
        (gemini_api.answer(None, finish_reason="NO_IMAGE"), base.NoImage),
        (gemini_api.model_no_longer_available(), base.ModelUnavailable),
        (gemini_api.internal_error(), base.Unavailable),
    ],
    ids=[
        "429-per-minute",
        "429-per-day",
        "prompt-blocked",
        "image-safety",
        "no-image",
        "404",
        "500",
    ],
)
def test_an_edit_failure_maps_to_the_same_taxonomy_after_one_request(
    response: FakeResponse, expected: type[base.ProviderError], fake: FakeServer, tmp_path: Path
) -> None:
    error = _edit_failure(fake, tmp_path, response)
    assert type(error) is expected
    if expected is base.RateLimited:
        assert error.retry_after == pytest.approx(4.0)
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


@pytest.mark.parametrize(
    ("tier", "size", "price"),
    [
        ("standard", (1024, 1024), 1),
        ("premium", (2528, 1696), 2),
        ("premium-wide", (2752, 1536), 4),
    ],
)
def test_each_tier_stores_an_image_at_least_its_size_and_charges_its_price(
    tier: str, size: tuple[int, int], price: int, gemini_env: Settings, fake: FakeServer
) -> None:
    fake.on("POST", gemini_api.GENERATE_PATH, gemini_api.image_for_requested_aspect)
    user = make_user(credits=5)
    assert _run_generation(user, tier) == "succeeded"
    row = last_generation()
    assert (row.status, row.model, row.width, row.height) == (
        "succeeded",
        "gemini-3.1-flash-image",
        *size,
    )
    with Image.open(io.BytesIO(image_store().read(row.image_key))) as stored:
        assert (stored.format, stored.size) == ("PNG", size)
    paid = get_tier(tier)
    assert size[0] * size[1] >= paid.width * paid.height
    assert credit_summary(user) == ledger.CreditSummary(balance=5 - price, held=0)
    assert len(_generations(fake)) == 1


def test_an_image_smaller_than_the_tier_is_not_kept_or_charged(
    gemini_env: Settings, fake: FakeServer
) -> None:
    # A gateway that ignores imageSize: 1K at 3:2 for a premium image.
    fake.on("POST", gemini_api.GENERATE_PATH, gemini_api.image(1264, 848))
    user = make_user(credits=5)
    assert _run_generation(user, "premium") == "failed"
    row = last_generation()
    assert (row.error_code, row.image_key) == ("image_too_small", None)
    assert credit_summary(user) == ledger.CreditSummary(balance=5, held=0)
    assert len(_generations(fake)) == 1


def test_no_image_fails_as_no_image_without_charging(
    gemini_env: Settings, fake: FakeServer
) -> None:
    fake.on("POST", gemini_api.GENERATE_PATH, gemini_api.answer(None, finish_reason="NO_IMAGE"))
    user = make_user(credits=5)
    assert _run_generation(user) == "failed"
    row = last_generation()
    assert (row.error_code, row.error_message) == ("no_image", base.NoImage.user_message)
    assert credit_summary(user) == ledger.CreditSummary(balance=5, held=0)
    assert len(_generations(fake)) == 1


@pytest.mark.parametrize(
    "response",
    [gemini_api.model_not_found(), gemini_api.model_no_longer_available()],
    ids=["not-found", "no-longer-available"],
)
def test_a_model_that_is_gone_fails_once_without_charging(
    response: FakeResponse, gemini_env: Settings, fake: FakeServer
) -> None:
    fake.on("POST", gemini_api.GENERATE_PATH, response)
    user = make_user(credits=5)
    assert _run_generation(user) == "failed"
    row = last_generation()
    assert (row.error_code, row.error_message) == (
        "model_unavailable",
        base.ModelUnavailable.user_message,
    )
    assert credit_summary(user) == ledger.CreditSummary(balance=5, held=0)
    assert len(_generations(fake)) == 1


def test_a_500_is_not_resubmitted(gemini_env: Settings, fake: FakeServer) -> None:
    fake.on("POST", gemini_api.GENERATE_PATH, gemini_api.internal_error())
    user = make_user(credits=5)
    assert _run_generation(user) == "failed"
    assert last_generation().error_code == "unavailable"
    assert credit_summary(user) == ledger.CreditSummary(balance=5, held=0)
    assert len(_generations(fake)) == 1


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


# --- check_model: models.get ----------------------------------------------------------------


def _model_checks(fake: FakeServer) -> list:
    return [r for r in fake.requests_to(gemini_api.MODEL_PATH) if r.method == "GET"]


@pytest.mark.parametrize("model", ["gemini-3.1-flash-image", "gemini-3-pro-image"])
def test_check_model_passes_for_a_served_model(
    model: str, fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("GET", gemini_api.MODEL_PATH, gemini_api.model_info)
    assert aio.run(_provider(fake, tmp_path).check_model(model)) is None
    [sent] = fake.requests
    assert (sent.method, sent.path.split("?")[0]) == ("GET", f"/v1beta/models/{model}")
    assert sent.headers["x-goog-api-key"] == API_KEY


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (gemini_api.model_info, base.ModelUnavailable),  # the fake does not serve 2.5
        (gemini_api.model_no_longer_available(), base.ModelUnavailable),
        (gemini_api.consumer_suspended("AIzaSyOTHER"), base.AuthFailed),
        (gemini_api.unauthenticated(), base.AuthFailed),
        (gemini_api.api_key_invalid(), base.AuthFailed),
        (gemini_api.overloaded(), base.Unavailable),
    ],
    ids=["404", "404-no-longer-available", "403", "401", "400-api-key-invalid", "503"],
)
def test_check_model_says_why_a_model_cannot_be_used(
    response: Responder, expected: type[base.ProviderError], fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("GET", gemini_api.MODEL_PATH, response)
    with pytest.raises(base.ProviderError) as caught:
        aio.run(_provider(fake, tmp_path).check_model("gemini-2.5-flash-image"))
    assert type(caught.value) is expected
    assert len(_model_checks(fake)) == 1
    assert _generations(fake) == []


def test_check_model_without_a_key_sends_nothing(fake: FakeServer, tmp_path: Path) -> None:
    with pytest.raises(base.NotConfigured):
        aio.run(_provider(fake, tmp_path, gemini_api_key="").check_model("gemini-3-pro-image"))
    assert fake.requests == []


# --- chat (prompt enhancement) ---------------------------------------------------------------

CHAT_PATH = r"^/v1beta/models/gemini-3\.5-flash-lite:generateContent$"
MESSAGES = [
    {"role": "system", "content": "Rewrite the prompt for an image model."},
    {"role": "user", "content": "a red bike"},
]


def _chat(provider: GeminiProvider, timeout: float = 10) -> str:
    return aio.run(provider.chat(MESSAGES, timeout=timeout))


def _thinking_config(sent: RecordedRequest) -> dict[str, object]:
    """The thinkingConfig sent, keys in camelCase (the SDK passes this one through in
    snake_case; Google's JSON parsing accepts both spellings of a proto field)."""
    config = sent.json()["generationConfig"]["thinkingConfig"]
    return {re.sub(r"_(\w)", lambda m: m.group(1).upper(), k): v for k, v in config.items()}


def test_chat_answers_with_thinking_kept_minimal(fake: FakeServer, tmp_path: Path) -> None:
    fake.on("POST", CHAT_PATH, gemini_api.text_answer("A red bicycle, golden hour"))
    provider = _provider(fake, tmp_path)
    assert provider.chat_model == "gemini-3.5-flash-lite"
    assert _chat(provider) == "A red bicycle, golden hour"
    [sent] = fake.requests
    body = sent.json()
    assert body["systemInstruction"]["parts"] == [{"text": MESSAGES[0]["content"]}]
    assert body["contents"] == [{"parts": [{"text": "a red bike"}], "role": "user"}]
    assert _thinking_config(sent) == {"thinkingLevel": "MINIMAL"}
    assert "responseModalities" not in body["generationConfig"]


def test_a_gemini_2_chat_model_gets_a_zero_thinking_budget(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", gemini_api.GENERATE_PATH, gemini_api.text_answer("A red bicycle"))
    provider = _provider(fake, tmp_path, gemini_chat_model="gemini-2.5-flash-lite")
    assert _chat(provider) == "A red bicycle"
    [sent] = fake.requests
    assert sent.path == "/v1beta/models/gemini-2.5-flash-lite:generateContent"
    assert _thinking_config(sent) == {"thinkingBudget": 0}


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (gemini_api.model_not_found("gemini-3.5-flash-lite"), base.ModelUnavailable),
        (gemini_api.model_no_longer_available("gemini-3.5-flash-lite"), base.ModelUnavailable),
        (gemini_api.daily_quota_used_up(), base.QuotaExhausted),
        (gemini_api.rate_limited(), base.RateLimited),
        (gemini_api.api_key_invalid(), base.AuthFailed),
        (gemini_api.overloaded(), base.Unavailable),
        (gemini_api.prompt_blocked("SAFETY"), base.SafetyRefused),
        (gemini_api.answer(None, finish_reason="SAFETY"), base.SafetyRefused),
        (gemini_api.answer([], finish_reason="MAX_TOKENS"), base.MalformedResponse),
    ],
    ids=[
        "404-model-gone",
        "404-no-longer-available",
        "429-quota",
        "429-rate",
        "400-bad-key",
        "503",
        "prompt-blocked",
        "safety",
        "no-text",
    ],
)
def test_a_chat_failure_is_one_taxonomy_error_after_one_request(
    response: FakeResponse, expected: type[base.ProviderError], fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", CHAT_PATH, response)
    with pytest.raises(base.ProviderError) as caught:
        _chat(_provider(fake, tmp_path))
    assert type(caught.value) is expected
    assert len(fake.requests_to(CHAT_PATH)) == 1


def test_chat_honours_its_own_timeout(fake: FakeServer, tmp_path: Path) -> None:
    def slow(_request: object) -> FakeResponse:
        time.sleep(2)
        return gemini_api.text_answer("late")

    fake.on("POST", CHAT_PATH, slow)
    # The image timeout (120 s) is not the chat's: the caller's budget is.
    provider = _provider(fake, tmp_path)
    started = time.monotonic()
    with pytest.raises(base.Unavailable) as caught:
        _chat(provider, timeout=1)
    assert time.monotonic() - started < 1.8
    assert caught.value.may_have_started is True
    assert len(fake.requests_to(CHAT_PATH)) == 1
