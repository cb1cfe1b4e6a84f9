"""The Hugging Face adapter against a local fake of the Hub and the router (real SDK, real HTTP).

The Hub endpoint is the SDK's own configuration (`HF_ENDPOINT`, read at import into
`huggingface_hub.constants.ENDPOINT`), so the tests point that constant at the fake; the
router is reached through our `hf_base_url` setting. The adapter remembers successful
model checks for the process: each test starts with none.
"""

from __future__ import annotations

import ast
import asyncio
import base64
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import huggingface_hub
import pytest

# Only to put the SDK's own client factory back after a test replaced it.
from huggingface_hub.utils._http import default_client_factory
from PIL import Image

from studio_app.providers import base, huggingface_provider
from studio_app.providers.base import ImageRequest, ProviderImage, SourcePicture
from studio_app.providers.huggingface_provider import HuggingFaceProvider
from studio_app.providers.registry import get_provider
from studio_app.services import generation, ledger
from studio_app.services.tiers import get_tier
from studio_app.settings import Settings, reload_settings
from studio_app.storage import image_store
from tests import aio
from tests.factories import make_user
from tests.fakes import huggingface_api as hf_api
from tests.fakes.images import encoded
from tests.fakes.server import FakeResponse, FakeServer, RecordedRequest
from tests.generation_helpers import credit_summary, last_generation, run_generation

TOKEN = "hf_testStudioToken0123456789"
PROMPT = "A lighthouse on a cliff at dawn, watercolour"
IMAGE_PATH = hf_api.image_path()
CHAT_PATH = hf_api.CHAT_PATH
# Every tier's own size: its sides are multiples of 16, which FLUX makes exactly.
TIER_SIZES = {"standard": (1024, 1024), "premium": (1536, 1024), "premium-wide": (1792, 1008)}


def _clear_model_checks() -> None:
    huggingface_provider._known_pipelines.clear()
    huggingface_provider._edit_checks.clear()


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    server = FakeServer().start()
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", server.url)
    _clear_model_checks()
    hf_api.serve_models(server)
    yield server
    _clear_model_checks()
    server.stop()


def _settings(fake: FakeServer, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": "sqlite://",
        "images_dir": tmp_path,
        "hf_token": TOKEN,
        "hf_base_url": fake.url,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


def _provider(fake: FakeServer, tmp_path: Path, **overrides: object) -> HuggingFaceProvider:
    return HuggingFaceProvider(_settings(fake, tmp_path, **overrides))


def _generate(
    provider: HuggingFaceProvider,
    tier: str = "standard",
    *,
    negative_prompt: str | None = None,
    seed: int | None = None,
    model: str = "",
) -> ProviderImage:
    request = ImageRequest(
        prompt=PROMPT, tier=get_tier(tier), negative_prompt=negative_prompt, seed=seed, model=model
    )
    return aio.run(provider.generate(request))


def _inferences(fake: FakeServer) -> list[RecordedRequest]:
    return [r for r in fake.requests if r.method == "POST"]


def _lookups(fake: FakeServer) -> list[RecordedRequest]:
    return fake.requests_to(hf_api.MODEL_INFO_PATH)


# --- success -----------------------------------------------------------------------------


@pytest.mark.parametrize("tier", list(TIER_SIZES))
def test_each_tier_asks_flux_for_its_exact_size_and_returns_the_real_image(
    tier: str, fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", IMAGE_PATH, hf_api.flux_draws)
    size = TIER_SIZES[tier]
    image = _generate(_provider(fake, tmp_path), tier)

    with Image.open(io.BytesIO(image.data)) as decoded:
        decoded.load()
        assert (decoded.format, decoded.size) == ("PNG", size)
    assert (image.width, image.height, image.mime_type) == (*size, "image/png")
    assert image.model == hf_api.IMAGE_MODEL

    [sent] = _inferences(fake)
    assert sent.path == f"/hf-inference/models/{hf_api.IMAGE_MODEL}"
    assert sent.json() == {
        "inputs": PROMPT,
        "parameters": {"width": size[0], "height": size[1]},
    }
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["accept"] == "image/png"
    # hf-inference checks the model's pipeline tag on the Hub first, once.
    [lookup] = _lookups(fake)
    assert lookup.path == f"/api/models/{hf_api.IMAGE_MODEL}"


def test_the_seed_reaches_the_model_and_a_negative_prompt_never_does(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", IMAGE_PATH, hf_api.flux_draws)
    provider = _provider(fake, tmp_path)
    # FLUX.1 is guidance-distilled: a negative prompt would do nothing, so none is offered.
    assert (provider.supports_negative_prompt, provider.supports_seed) == (False, True)

    _generate(provider, "premium", negative_prompt="blurry, text, watermark", seed=4_000_000_001)

    [sent] = _inferences(fake)
    assert sent.json()["parameters"] == {"width": 1536, "height": 1024, "seed": 4_000_000_001}
    assert "blurry" not in sent.body.decode()


def test_the_size_actually_returned_is_recorded_and_reencoded_as_png(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", IMAGE_PATH, hf_api.image(896, 1152, "JPEG"))
    image = _generate(_provider(fake, tmp_path), "premium-wide")
    assert (image.width, image.height) == (896, 1152)
    with Image.open(io.BytesIO(image.data)) as decoded:
        assert (decoded.format, decoded.size) == ("PNG", (896, 1152))


def test_the_configured_model_is_sent_and_recorded(fake: FakeServer, tmp_path: Path) -> None:
    model = hf_api.DEV_MODEL
    fake.on("POST", hf_api.image_path(model), hf_api.flux_draws)
    provider = _provider(fake, tmp_path, hf_image_model=model)
    assert provider.model == model
    assert _generate(provider).model == model
    assert [r.path for r in _inferences(fake)] == [f"/hf-inference/models/{model}"]


def test_the_requests_model_wins_over_the_configured_one(fake: FakeServer, tmp_path: Path) -> None:
    fake.on("POST", hf_api.image_path(hf_api.DEV_MODEL), hf_api.flux_draws)
    image = _generate(_provider(fake, tmp_path), "premium", model=hf_api.DEV_MODEL)
    assert (image.model, image.width, image.height) == (hf_api.DEV_MODEL, 1536, 1024)
    assert [r.path for r in _lookups(fake)] == [f"/api/models/{hf_api.DEV_MODEL}"]


def test_current_models_are_listed_and_all_three_tiers_are_offered(
    fake: FakeServer, tmp_path: Path
) -> None:
    provider = _provider(fake, tmp_path)
    assert provider.model == hf_api.IMAGE_MODEL == provider.known_models[0]
    assert provider.known_models == (hf_api.IMAGE_MODEL, hf_api.DEV_MODEL)
    assert provider.unavailable_tiers() == {}
    assert provider.unavailable_tiers(hf_api.DEV_MODEL) == {}


def test_the_hub_is_asked_about_the_model_once_per_process(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", IMAGE_PATH, hf_api.flux_draws)
    provider = _provider(fake, tmp_path)
    _generate(provider)
    _generate(provider, "premium")
    assert (len(_lookups(fake)), len(_inferences(fake))) == (1, 2)


def test_the_base_url_replaces_the_router_origin_and_keeps_the_path(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", rf"^/gateway/hf{IMAGE_PATH[1:]}", hf_api.flux_draws)
    _generate(_provider(fake, tmp_path, hf_base_url=fake.url + "/gateway/hf"))
    [sent] = _inferences(fake)
    assert sent.path == f"/gateway/hf/hf-inference/models/{hf_api.IMAGE_MODEL}"
    assert sent.headers["host"] == fake.url.removeprefix("http://")


def test_a_slow_hub_lookup_does_not_freeze_the_event_loop(fake: FakeServer, tmp_path: Path) -> None:
    def slow_model_info(request: RecordedRequest) -> FakeResponse:
        time.sleep(0.4)
        return hf_api.model_info(hf_api.IMAGE_MODEL, "text-to-image")

    fake.on("GET", hf_api.MODEL_INFO_PATH, slow_model_info)
    fake.on("POST", IMAGE_PATH, hf_api.flux_draws)
    provider = _provider(fake, tmp_path)

    async def longest_stall_while_generating() -> float:
        """The longest the event loop went without running another task."""
        last, longest = time.monotonic(), 0.0

        async def tick() -> None:
            nonlocal last, longest
            while True:
                await asyncio.sleep(0.01)
                now = time.monotonic()
                longest, last = max(longest, now - last), now

        ticker = asyncio.create_task(tick())
        await provider.generate(ImageRequest(prompt=PROMPT, tier=get_tier("standard")))
        ticker.cancel()
        return longest

    # The Hub takes 0.4 s; the loop must keep serving other users meanwhile.
    assert aio.run(longest_stall_while_generating()) < 0.2


def test_without_a_token_it_is_not_configured_and_sends_nothing(
    fake: FakeServer, tmp_path: Path
) -> None:
    provider = _provider(fake, tmp_path, hf_token="")
    assert provider.is_configured() is False
    with pytest.raises(base.NotConfigured):
        _generate(provider)
    assert fake.requests == []


# --- errors ------------------------------------------------------------------------------

MONTHLY_CREDITS = (
    "You have exceeded your monthly included credits for Inference Providers. "
    "Subscribe to PRO to get 20x more monthly included credits."
)
NSFW = (
    "Potential NSFW content was detected in one or more images. A black image will be "
    "returned instead. Try again with a different prompt and/or seed."
)


@pytest.mark.parametrize(
    ("response", "error_class", "started"),
    [
        (hf_api.error(401, "Invalid credentials in Authorization header"), base.AuthFailed, False),
        (hf_api.error(402, MONTHLY_CREDITS), base.QuotaExhausted, False),
        (hf_api.error(400, NSFW), base.SafetyRefused, False),
        (
            hf_api.error(400, "Input validation error: `inputs` must be non-empty"),
            base.BadRequest,
            False,
        ),
        (
            hf_api.error(422, "Input validation error: `width` must be divisible by 8"),
            base.BadRequest,
            False,
        ),
        (hf_api.gone(hf_api.IMAGE_MODEL), base.ModelUnavailable, False),
        (hf_api.error(404, "Model not found"), base.ModelUnavailable, False),
        (hf_api.error(500, "Internal Server Error"), base.Unavailable, True),
        (hf_api.error(503, "Service Unavailable"), base.Unavailable, False),
        # The request was read, then the connection closed: it may be drawing.
        (FakeResponse(drop=True), base.Unavailable, True),
    ],
    ids=[
        "401",
        "402-credits",
        "400-nsfw",
        "400",
        "422",
        "410-gone",
        "404-model",
        "500",
        "503",
        "dropped-connection",
    ],
)
def test_each_failure_maps_to_one_taxonomy_error_after_one_request(
    response: FakeResponse,
    error_class: type[base.ProviderError],
    started: bool,
    fake: FakeServer,
    tmp_path: Path,
) -> None:
    fake.on("POST", IMAGE_PATH, response)
    with pytest.raises(base.ProviderError) as caught:
        _generate(_provider(fake, tmp_path))
    assert type(caught.value) is error_class
    assert caught.value.may_have_started is started
    assert len(_inferences(fake)) == 1
    assert TOKEN not in caught.value.detail


def test_a_model_hf_inference_no_longer_serves_is_model_unavailable(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", hf_api.image_path(hf_api.GONE_MODEL), hf_api.gone())
    with pytest.raises(base.ModelUnavailable) as caught:
        _generate(_provider(fake, tmp_path, hf_image_model=hf_api.GONE_MODEL))
    assert "410" in caught.value.detail
    assert len(_inferences(fake)) == 1


def test_the_providers_own_message_is_kept_in_the_detail(fake: FakeServer, tmp_path: Path) -> None:
    fake.on("POST", IMAGE_PATH, hf_api.error(402, MONTHLY_CREDITS))
    with pytest.raises(base.QuotaExhausted) as caught:
        _generate(_provider(fake, tmp_path))
    assert caught.value.detail.startswith("HTTP 402")
    assert caught.value.detail.endswith(MONTHLY_CREDITS)


@pytest.mark.parametrize(("header", "seconds"), [("7", 7.0), (None, None)])
def test_a_rate_limit_carries_the_wait_the_server_asked_for(
    header: str | None, seconds: float | None, fake: FakeServer, tmp_path: Path
) -> None:
    headers = {"Retry-After": header} if header else {}
    fake.on("POST", IMAGE_PATH, hf_api.error(429, "Rate limit reached.", **headers))
    with pytest.raises(base.RateLimited) as caught:
        _generate(_provider(fake, tmp_path))
    assert caught.value.retry_after == seconds
    assert len(_inferences(fake)) == 1


@pytest.mark.parametrize(("estimated", "seconds"), [(20.0, 20.0), (600.0, 30.0)])
def test_a_loading_model_is_unavailable_for_its_estimated_time_capped(
    estimated: float, seconds: float, fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", IMAGE_PATH, hf_api.model_loading(estimated_time=estimated))
    with pytest.raises(base.Unavailable) as caught:
        _generate(_provider(fake, tmp_path))
    assert caught.value.retry_after == seconds
    assert "currently loading" in caught.value.detail
    assert len(_inferences(fake)) == 1


def test_a_slow_answer_times_out_as_may_have_started(fake: FakeServer, tmp_path: Path) -> None:
    def slow(request: RecordedRequest) -> FakeResponse:
        time.sleep(1.6)
        return hf_api.image(1024, 1024)

    fake.on("POST", IMAGE_PATH, slow)
    started = time.monotonic()
    with pytest.raises(base.Unavailable) as caught:
        _generate(_provider(fake, tmp_path, provider_timeout_seconds=1))
    assert time.monotonic() - started < 1.5
    assert caught.value.may_have_started  # sent and unanswered: never resubmitted
    assert len(_inferences(fake)) == 1


@pytest.mark.parametrize(
    "response",
    [
        FakeResponse.json({"generated": "an image, trust me"}),
        FakeResponse(body=b"<html>gateway login</html>", headers={"Content-Type": "text/html"}),
        FakeResponse(body=encoded(64, 64, "PNG")[:80], headers={"Content-Type": "image/png"}),
        FakeResponse(body=b"", headers={"Content-Type": "image/png"}),
    ],
    ids=["json", "html", "truncated-png", "empty"],
)
def test_a_200_that_is_not_an_image_is_malformed(
    response: FakeResponse, fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", IMAGE_PATH, response)
    with pytest.raises(base.MalformedResponse):
        _generate(_provider(fake, tmp_path))
    assert len(_inferences(fake)) == 1


def test_an_unknown_model_is_unavailable_and_never_reaches_the_router(
    fake: FakeServer, tmp_path: Path
) -> None:
    with pytest.raises(base.ModelUnavailable, match="unknown model 'nobody/no-such-model'"):
        _generate(_provider(fake, tmp_path, hf_image_model="nobody/no-such-model"))
    assert [r.path for r in _lookups(fake)] == ["/api/models/nobody/no-such-model"]
    assert _inferences(fake) == []


def test_a_model_that_does_not_make_images_is_unavailable(fake: FakeServer, tmp_path: Path) -> None:
    with pytest.raises(base.ModelUnavailable, match="doesn't support task 'text-to-image'"):
        _generate(_provider(fake, tmp_path, hf_image_model=hf_api.CHAT_MODEL))
    assert _inferences(fake) == []


def test_a_failing_hub_is_unavailable_after_one_lookup(fake: FakeServer, tmp_path: Path) -> None:
    fake.on("GET", hf_api.MODEL_INFO_PATH, hf_api.error(502, "Bad Gateway"))
    with pytest.raises(base.Unavailable) as caught:
        _generate(_provider(fake, tmp_path))
    assert not caught.value.may_have_started  # a Hub lookup bills nothing: retried
    assert (len(_lookups(fake)), len(_inferences(fake))) == (1, 0)


# --- checking a model --------------------------------------------------------------------


def _check(fake: FakeServer, tmp_path: Path, model: str, **overrides: object) -> None:
    aio.run(_provider(fake, tmp_path, **overrides).check_model(model))


def test_check_model_reads_the_hubs_model_info_with_its_providers(
    fake: FakeServer, tmp_path: Path
) -> None:
    _check(fake, tmp_path, hf_api.DEV_MODEL)
    [lookup] = _lookups(fake)
    assert lookup.path.startswith(f"/api/models/{hf_api.DEV_MODEL}?")
    assert "expand=inferenceProviderMapping" in lookup.path
    assert lookup.headers["authorization"] == f"Bearer {TOKEN}"
    assert _inferences(fake) == []


@pytest.mark.parametrize(
    ("model", "reason"),
    [
        ("nobody/no-such-model", "unknown model"),
        (hf_api.GONE_MODEL, "not served by hf-inference"),
        (hf_api.CHAT_MODEL, "doesn't support task"),
    ],
    ids=["404-on-the-hub", "no-longer-served", "not-an-image-model"],
)
def test_check_model_says_when_a_model_is_gone(
    model: str, reason: str, fake: FakeServer, tmp_path: Path
) -> None:
    with pytest.raises(base.ModelUnavailable, match=reason):
        _check(fake, tmp_path, model)
    assert _inferences(fake) == []


def test_check_model_with_a_gone_repository_is_unavailable(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("GET", hf_api.MODEL_INFO_PATH, hf_api.error(410, "This repository is gone"))
    with pytest.raises(base.ModelUnavailable):
        _check(fake, tmp_path, hf_api.IMAGE_MODEL)


def test_check_model_with_a_rejected_token_cannot_tell(fake: FakeServer, tmp_path: Path) -> None:
    fake.on("GET", hf_api.MODEL_INFO_PATH, hf_api.error(401, "Invalid credentials"))
    with pytest.raises(base.AuthFailed):
        _check(fake, tmp_path, hf_api.IMAGE_MODEL)


# --- chat (prompt enhancement) -----------------------------------------------------------

MESSAGES = [
    {"role": "system", "content": "Rewrite the prompt for an image model."},
    {"role": "user", "content": "a lighthouse"},
]


def _chat(fake: FakeServer, tmp_path: Path, **overrides: object) -> str:
    provider = _provider(fake, tmp_path, **overrides)
    return aio.run(provider.chat(MESSAGES, timeout=5))


def test_chat_asks_the_router_and_returns_the_assistant_text(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", CHAT_PATH, hf_api.chat_reply("A lighthouse at dawn, watercolour"))
    assert _provider(fake, tmp_path).chat_model == hf_api.CHAT_MODEL
    assert _chat(fake, tmp_path) == "A lighthouse at dawn, watercolour"
    [sent] = _inferences(fake)
    # The router's OpenAI-compatible endpoint picks the provider ("auto"): no Hub lookup.
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    body = sent.json()
    assert (body["model"], body["messages"], body["max_tokens"], body["reasoning_effort"]) == (
        hf_api.CHAT_MODEL,
        MESSAGES,
        1024,
        "low",
    )
    assert _lookups(fake) == []


@pytest.mark.parametrize(
    "response",
    [
        hf_api.chat_model_not_supported(),
        hf_api.chat_error(404, "Model openai/gpt-oss-20b not found", "model_not_found"),
        hf_api.chat_error(410, "Model openai/gpt-oss-20b has been retired"),
    ],
    ids=["400-not-supported", "404", "410"],
)
def test_chat_with_a_model_that_has_gone_is_model_unavailable(
    response: FakeResponse, fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", CHAT_PATH, response)
    with pytest.raises(base.ModelUnavailable):
        _chat(fake, tmp_path)
    assert len(_inferences(fake)) == 1


def test_chat_without_credits_is_quota_exhausted(fake: FakeServer, tmp_path: Path) -> None:
    fake.on("POST", CHAT_PATH, hf_api.chat_error(402, MONTHLY_CREDITS))
    with pytest.raises(base.QuotaExhausted):
        _chat(fake, tmp_path)
    assert len(_inferences(fake)) == 1


def test_chat_rate_limit_is_one_request_and_rate_limited(fake: FakeServer, tmp_path: Path) -> None:
    fake.on("POST", CHAT_PATH, hf_api.error(429, "Rate limit reached.", **{"Retry-After": "3"}))
    with pytest.raises(base.RateLimited) as caught:
        _chat(fake, tmp_path)
    assert caught.value.retry_after == 3.0
    assert len(_inferences(fake)) == 1


def test_a_slow_chat_is_unavailable_within_its_timeout(fake: FakeServer, tmp_path: Path) -> None:
    def slow(request: RecordedRequest) -> FakeResponse:
        time.sleep(1.5)
        return hf_api.chat_reply("late")

    fake.on("POST", CHAT_PATH, slow)
    provider = _provider(fake, tmp_path)
    started = time.monotonic()
    with pytest.raises(base.Unavailable):
        aio.run(provider.chat(MESSAGES, timeout=0.5))
    assert time.monotonic() - started < 1.4
    assert len(_inferences(fake)) == 1


@pytest.mark.parametrize(
    "response",
    [
        FakeResponse.json({"id": "x", "choices": []}),
        hf_api.chat_reply(""),
        FakeResponse(body=b"<html>", headers={"Content-Type": "text/html"}),
    ],
    ids=["no-choices", "empty-text", "not-json"],
)
def test_chat_without_text_is_malformed(
    response: FakeResponse, fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", CHAT_PATH, response)
    with pytest.raises(base.MalformedResponse):
        _chat(fake, tmp_path)


def test_chat_without_a_token_sends_nothing(fake: FakeServer, tmp_path: Path) -> None:
    with pytest.raises(base.NotConfigured):
        _chat(fake, tmp_path, hf_token="")
    assert fake.requests == []


# --- edits -------------------------------------------------------------------------------

EDIT_PATH = hf_api.image_path(hf_api.EDIT_MODEL)
SOURCE_COLOR = (200, 60, 30)


def _source(tier: str = "standard") -> SourcePicture:
    """A one-colour picture fitted to the tier, as the edit path hands it over."""
    size = (get_tier(tier).width, get_tier(tier).height)
    picture = Image.new("RGB", size, SOURCE_COLOR)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return SourcePicture(data=buffer.getvalue(), width=size[0], height=size[1], picture=picture)


def _edit(
    provider: HuggingFaceProvider, tier: str = "standard", source: SourcePicture | None = None
) -> ProviderImage:
    request = ImageRequest(prompt=PROMPT, tier=get_tier(tier), source=source or _source(tier))
    return aio.run(provider.generate(request))


def _is_the_edited_colour(pixel: tuple[int, ...]) -> bool:
    """The source's colour blended with the fake edit model's tint (to within rounding)."""
    share = hf_api.EDIT_TINT_SHARE
    expected = [
        mine * (1 - share) + tint * share
        for mine, tint in zip(SOURCE_COLOR, hf_api.EDIT_TINT, strict=True)
    ]
    return all(abs(got - want) <= 1 for got, want in zip(pixel, expected, strict=True))


@pytest.mark.parametrize("tier", list(TIER_SIZES))
def test_an_edit_sends_the_source_to_the_edit_model_and_returns_the_tiers_size(
    tier: str, fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", EDIT_PATH, hf_api.kontext_edits)
    provider = _provider(fake, tmp_path)
    # FLUX.1 takes no picture: whatever the generation model, the edit model edits.
    assert provider.edit_unavailable() == provider.edit_unavailable(hf_api.DEV_MODEL) == ""
    source = _source(tier)
    width, height = TIER_SIZES[tier]

    image = _edit(provider, tier, source)

    [sent] = _inferences(fake)
    assert sent.path == f"/hf-inference/models/{hf_api.EDIT_MODEL}"
    body = sent.json()
    assert base64.b64decode(body["inputs"]) == source.data
    assert body["parameters"] == {
        "prompt": PROMPT,
        "target_size": {"width": width, "height": height},
    }
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["accept"] == "image/png"
    assert sent.headers["content-type"] == "application/json"
    # The Hub is asked first whether hf-inference serves the edit model.
    [lookup] = _lookups(fake)
    assert lookup.path.startswith(f"/api/models/{hf_api.EDIT_MODEL}?")
    assert "expand=inferenceProviderMapping" in lookup.path
    # The model that made the edit is the one recorded on the creation.
    assert (image.width, image.height, image.model) == (width, height, hf_api.EDIT_MODEL)
    generation.check_delivered_size(get_tier(tier), image.width, image.height)
    with Image.open(io.BytesIO(image.data)) as edited:
        assert edited.size == (width, height)
        pixel = edited.convert("RGB").getpixel((width // 2, height // 2))
        assert isinstance(pixel, tuple) and _is_the_edited_colour(pixel)


def test_the_hub_is_asked_about_the_edit_model_once_per_process(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", EDIT_PATH, hf_api.kontext_edits)
    provider = _provider(fake, tmp_path)
    _edit(provider)
    _edit(provider, "premium")
    assert (len(_lookups(fake)), len(_inferences(fake))) == (1, 2)


def test_without_an_edit_model_edits_are_unavailable_and_send_nothing(
    fake: FakeServer, tmp_path: Path
) -> None:
    provider = _provider(fake, tmp_path, hf_edit_model="")
    assert provider.edit_unavailable() == "no edit model is set (STUDIO_HF_EDIT_MODEL)"
    with pytest.raises(base.NotConfigured):
        _edit(provider)
    assert fake.requests == []


def test_an_edit_model_the_provider_does_not_serve_is_refused_before_any_inference(
    fake: FakeServer, tmp_path: Path
) -> None:
    hf_api.serve_edit_model(fake, providers=("replicate", "fal-ai"))
    provider = _provider(fake, tmp_path)

    with pytest.raises(base.NotConfigured, match="not served by hf-inference"):
        _edit(provider)

    assert _inferences(fake) == []
    # From then on the studio says why, and an edit asked anyway sends nothing.
    assert "not served by hf-inference" in provider.edit_unavailable()
    with pytest.raises(base.NotConfigured):
        _edit(provider)
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    ("response", "error_class", "started"),
    [
        (hf_api.model_loading(hf_api.EDIT_MODEL), base.Unavailable, False),
        (hf_api.error(400, "cannot identify image file <_io.BytesIO>"), base.BadRequest, False),
        (hf_api.error(401, "Invalid credentials in Authorization header"), base.AuthFailed, False),
        (hf_api.no_permission(), base.AuthFailed, False),
        (hf_api.error(402, MONTHLY_CREDITS), base.QuotaExhausted, False),
        (hf_api.error(500, "Internal Server Error"), base.Unavailable, True),
        # The edit model gone: the operator's setting, never the generation model's fault.
        (hf_api.error(404, "Model not found"), base.NotConfigured, False),
        (hf_api.gone(hf_api.EDIT_MODEL), base.NotConfigured, False),
    ],
    ids=["503-loading", "400", "401", "403", "402-credits", "500", "404", "410-gone"],
)
def test_each_edit_failure_maps_to_one_taxonomy_error_after_one_request(
    response: FakeResponse,
    error_class: type[base.ProviderError],
    started: bool,
    fake: FakeServer,
    tmp_path: Path,
) -> None:
    fake.on("POST", EDIT_PATH, response)
    with pytest.raises(base.ProviderError) as caught:
        _edit(_provider(fake, tmp_path))
    assert type(caught.value) is error_class
    assert caught.value.may_have_started is started
    assert len(_inferences(fake)) == 1
    assert TOKEN not in caught.value.detail


def test_a_loading_edit_model_is_unavailable_for_its_estimated_time(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", EDIT_PATH, hf_api.model_loading(hf_api.EDIT_MODEL, estimated_time=12.0))
    with pytest.raises(base.Unavailable) as caught:
        _edit(_provider(fake, tmp_path))
    assert caught.value.retry_after == 12.0
    assert "currently loading" in caught.value.detail


def test_a_source_that_is_not_a_picture_is_a_bad_request(fake: FakeServer, tmp_path: Path) -> None:
    fake.on("POST", EDIT_PATH, hf_api.kontext_edits)
    broken = SourcePicture(data=b"not a picture", width=1024, height=1024)
    with pytest.raises(base.BadRequest, match="cannot identify image file"):
        _edit(_provider(fake, tmp_path), source=broken)
    assert len(_inferences(fake)) == 1


def test_an_edit_model_that_has_gone_leaves_generations_alone(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", EDIT_PATH, hf_api.gone(hf_api.EDIT_MODEL))
    fake.on("POST", IMAGE_PATH, hf_api.flux_draws)
    provider = _provider(fake, tmp_path)

    with pytest.raises(base.NotConfigured, match="STUDIO_HF_EDIT_MODEL"):
        _edit(provider)

    assert "no longer supported" in provider.edit_unavailable()
    assert _generate(provider).model == hf_api.IMAGE_MODEL


# --- the SDK's public API only -------------------------------------------------------------


def test_the_adapter_uses_only_public_huggingface_hub_modules() -> None:
    tree = ast.parse(Path(huggingface_provider.__file__).read_text())
    modules = [
        node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("huggingface_hub")
    ]
    assert modules and all(not part.startswith("_") for m in modules for part in m.split("."))
    names = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("huggingface_hub")
        for alias in node.names
    ]
    assert "set_async_client_factory" not in names and "set_client_factory" not in names


# Another Inference Provider than hf-inference: the SDK's own routing to the real router,
# reached here through the SDK's public HTTP client factory (the only way in for a test).
TOGETHER_MODEL = "black-forest-labs/FLUX.1-schnell"
TOGETHER_EDIT_MODEL = "black-forest-labs/FLUX.1-Kontext-dev"


@pytest.fixture
def together_wire() -> Iterator[list[httpx2.Request]]:
    sent: list[httpx2.Request] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        sent.append(request)
        if request.url.path == f"/api/models/{TOGETHER_MODEL}":
            return httpx2.Response(
                200,
                json={
                    "id": TOGETHER_MODEL,
                    "pipeline_tag": "text-to-image",
                    "inferenceProviderMapping": {
                        "together": {
                            "status": "live",
                            "providerId": "flux-schnell-on-together",
                            "task": "text-to-image",
                        }
                    },
                },
            )
        if request.url.path == f"/api/models/{TOGETHER_EDIT_MODEL}":
            return httpx2.Response(
                200,
                json={
                    "id": TOGETHER_EDIT_MODEL,
                    "pipeline_tag": "image-to-image",
                    "inferenceProviderMapping": {
                        "together": {
                            "status": "live",
                            "providerId": "black-forest-labs/FLUX.1-kontext-dev",
                            "task": "image-to-image",
                        }
                    },
                },
            )
        if request.url.path == "/together/v1/images/generations":
            body = json.loads(request.content)
            if "image_url" in body:
                picture = base64.b64decode(body["image_url"].partition(",")[2])
                with Image.open(io.BytesIO(picture)) as given:
                    size = (body["target_size"]["width"], body["target_size"]["height"])
                    made = hf_api.edited_png(given, size)
            else:
                made = encoded(body["width"], body["height"], "PNG")
            png = base64.b64encode(made).decode()
            return httpx2.Response(200, json={"data": [{"b64_json": png}]})
        return httpx2.Response(404, json={"error": "not on this wire"})

    huggingface_hub.set_client_factory(
        lambda: httpx2.Client(transport=httpx2.MockTransport(answer))
    )
    yield sent
    huggingface_hub.set_client_factory(default_client_factory)


def test_another_inference_provider_is_routed_by_the_sdk(
    together_wire: list[httpx2.Request], tmp_path: Path
) -> None:
    provider = HuggingFaceProvider(
        Settings(  # type: ignore[call-arg]
            database_url="sqlite://",
            images_dir=tmp_path,
            hf_token=TOKEN,
            hf_inference_provider="together",
            hf_image_model=TOGETHER_MODEL,
        )
    )
    image = aio.run(provider.generate(ImageRequest(prompt=PROMPT, tier=get_tier("premium"))))
    assert (image.width, image.height, image.model) == (1536, 1024, TOGETHER_MODEL)
    inference = together_wire[-1]
    assert str(inference.url) == "https://router.huggingface.co/together/v1/images/generations"
    assert json.loads(inference.content)["model"] == "flux-schnell-on-together"
    assert inference.headers["authorization"] == f"Bearer {TOKEN}"


def test_another_inference_provider_edits_through_the_sdks_routing(
    together_wire: list[httpx2.Request], tmp_path: Path
) -> None:
    provider = HuggingFaceProvider(
        Settings(  # type: ignore[call-arg]
            database_url="sqlite://",
            images_dir=tmp_path,
            hf_token=TOKEN,
            hf_inference_provider="together",
        )
    )
    source = _source("premium")
    image = aio.run(
        provider.generate(ImageRequest(prompt=PROMPT, tier=get_tier("premium"), source=source))
    )
    assert (image.width, image.height, image.model) == (1536, 1024, TOGETHER_EDIT_MODEL)
    inference = together_wire[-1]
    assert str(inference.url) == "https://router.huggingface.co/together/v1/images/generations"
    sent = json.loads(inference.content)
    assert (sent["model"], sent["prompt"]) == ("black-forest-labs/FLUX.1-kontext-dev", PROMPT)
    assert base64.b64decode(sent["image_url"].partition(",")[2]) == source.data


def test_a_gateway_with_another_inference_provider_is_refused_and_sends_nothing(
    together_wire: list[httpx2.Request], fake: FakeServer, tmp_path: Path
) -> None:
    provider = _provider(fake, tmp_path, hf_inference_provider="together")
    with pytest.raises(base.NotConfigured, match="HF_INFERENCE_BASE_URL"):
        _generate(provider)
    assert together_wire == [] and fake.requests == []


# --- through the whole generation path ----------------------------------------------------


@pytest.fixture
def hf_env(migrated_db: Settings, fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setenv("HF_INFERENCE_BASE_URL", fake.url)
    return reload_settings()


def _run_generation(user_id: int, tier: str = "premium") -> str:
    return run_generation(user_id, provider="huggingface", prompt=PROMPT, tier=tier)


def test_the_registry_builds_the_adapter_from_the_environment(hf_env: Settings) -> None:
    provider = get_provider("huggingface")
    assert isinstance(provider, HuggingFaceProvider)
    assert (provider.label, provider.model, provider.is_configured()) == (
        "Hugging Face",
        hf_api.IMAGE_MODEL,
        True,
    )


@pytest.mark.parametrize(
    ("tier", "balance"), [("standard", 4), ("premium", 3), ("premium-wide", 1)]
)
def test_each_tier_is_stored_at_the_size_flux_really_made_and_charged(
    tier: str, balance: int, hf_env: Settings, fake: FakeServer
) -> None:
    fake.on("POST", IMAGE_PATH, hf_api.flux_draws)
    user = make_user(credits=5)
    assert _run_generation(user, tier) == "succeeded"
    row = last_generation()
    size = TIER_SIZES[tier]
    assert (row.status, row.model, row.width, row.height) == (
        "succeeded",
        hf_api.IMAGE_MODEL,
        *size,
    )
    with Image.open(io.BytesIO(image_store().read(row.image_key))) as stored:
        assert (stored.format, stored.size) == ("PNG", size)
    assert credit_summary(user) == ledger.CreditSummary(balance=balance, held=0)
    assert len(_inferences(fake)) == 1


def test_a_model_that_has_gone_fails_once_and_costs_nothing(
    hf_env: Settings, fake: FakeServer
) -> None:
    fake.on("POST", IMAGE_PATH, hf_api.gone(hf_api.IMAGE_MODEL))
    user = make_user(credits=5)
    assert _run_generation(user) == "failed"
    row = last_generation()
    assert (row.error_code, row.error_message) == (
        "model_unavailable",
        base.ModelUnavailable.user_message,
    )
    assert len(_inferences(fake)) == 1
    assert credit_summary(user) == ledger.CreditSummary(balance=5, held=0)


def test_a_model_unknown_to_the_hub_fails_before_any_inference_and_costs_nothing(
    hf_env: Settings, fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_HF_IMAGE_MODEL", "nobody/no-such-model")
    reload_settings()
    user = make_user(credits=5)
    assert _run_generation(user) == "failed"
    assert last_generation().error_code == "model_unavailable"
    assert (len(_lookups(fake)), len(_inferences(fake))) == (1, 0)
    assert credit_summary(user) == ledger.CreditSummary(balance=5, held=0)


def test_a_rate_limit_that_persists_fails_after_our_three_attempts(
    hf_env: Settings, fake: FakeServer
) -> None:
    fake.on("POST", IMAGE_PATH, hf_api.error(429, "Rate limit reached.", **{"Retry-After": "0"}))
    user = make_user(credits=5)
    assert _run_generation(user) == "failed"
    row = last_generation()
    assert (row.status, row.error_code) == ("failed", "rate_limited")
    assert row.error_message == base.RateLimited.user_message
    assert len(_inferences(fake)) == generation.PROVIDER_ATTEMPTS == 3
    assert credit_summary(user) == ledger.CreditSummary(balance=5, held=0)


def test_exhausted_monthly_credits_are_never_retried(hf_env: Settings, fake: FakeServer) -> None:
    fake.on("POST", IMAGE_PATH, hf_api.error(402, MONTHLY_CREDITS))
    user = make_user(credits=5)
    assert _run_generation(user) == "failed"
    assert last_generation().error_code == "quota_exhausted"
    assert len(_inferences(fake)) == 1
    assert credit_summary(user) == ledger.CreditSummary(balance=5, held=0)


def test_a_rate_limit_then_an_image_succeeds_on_the_second_request(
    hf_env: Settings, fake: FakeServer
) -> None:
    fake.on(
        "POST",
        IMAGE_PATH,
        hf_api.error(429, "Rate limit reached.", **{"Retry-After": "0"}),
        hf_api.flux_draws,
    )
    user = make_user(credits=5)
    assert _run_generation(user, "standard") == "succeeded"
    row = last_generation()
    assert (row.width, row.height) == (1024, 1024)
    assert len(_inferences(fake)) == 2
    assert credit_summary(user) == ledger.CreditSummary(balance=4, held=0)
