"""The Replicate adapter, running the real `replicate` SDK against a local fake of its API."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from studio_app.providers.base import (
    AuthFailed,
    BadRequest,
    ImageRequest,
    MalformedResponse,
    ModelUnavailable,
    NotConfigured,
    ProviderError,
    ProviderImage,
    QuotaExhausted,
    RateLimited,
    SafetyRefused,
    SourcePicture,
    Unavailable,
)
from studio_app.providers.registry import get_provider
from studio_app.providers.replicate_provider import DATA_URI_MAX_BYTES, ReplicateProvider
from studio_app.services import generation, ledger
from studio_app.services.db import read_session
from studio_app.services.tiers import get_tier
from studio_app.settings import Settings, reload_settings
from studio_app.storage import image_store
from tests import aio
from tests.factories import make_user
from tests.fakes import replicate_api
from tests.fakes.images import encoded, png_bytes
from tests.fakes.replicate_api import (
    CANCEL_PATH,
    FLUX_2_DEV,
    MODEL,
    POLL_PATH,
    PREDICTION_ID,
    SCHNELL,
    VERSION,
    problem,
)
from tests.fakes.server import FakeResponse, FakeServer, RecordedRequest
from tests.generation_helpers import last_generation, run_generation

TOKEN = "r8_Kx9TestTokenNotReal0123456789abcdef"
PROMPT = "A lighthouse at dusk, watercolour"
# What FLUX.2 [pro] is asked for per tier (multiples of 32, at least the tier's pixels at
# its aspect) and so makes.
FLUX_2_SIZES = {
    "standard": (1024, 1024),
    "premium": (1536, 1024),
    "premium-wide": (1824, 1024),
}


@pytest.fixture(autouse=True)
def fast_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    # The SDK reads its poll interval (default 0.5 s) when a client is built.
    monkeypatch.setenv("REPLICATE_POLL_INTERVAL", "0.01")


@pytest.fixture
def cdn() -> Iterator[FakeServer]:
    """Another host serving output files (replicate.delivery is not api.replicate.com)."""
    server = FakeServer().start()
    yield server
    server.stop()


def _provider(fake: FakeServer, **settings: object) -> ReplicateProvider:
    values = {"replicate_api_token": TOKEN, "replicate_base_url": fake.url, **settings}
    return ReplicateProvider(
        Settings(database_url="sqlite://", images_dir=Path("unused"), **values)  # type: ignore[arg-type]
    )


def _generate(
    provider: ReplicateProvider, tier: str = "standard", **fields: object
) -> ProviderImage:
    request = ImageRequest(prompt=PROMPT, tier=get_tier(tier), **fields)  # type: ignore[arg-type]
    return aio.run(provider.generate(request))


def _failure(
    provider: ReplicateProvider, tier: str = "standard", **fields: object
) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        _generate(provider, tier, **fields)
    return caught.value


# --- success -------------------------------------------------------------------------------


@pytest.mark.parametrize("tier", list(FLUX_2_SIZES))
def test_flux_2_pro_is_asked_for_each_tiers_pixels_and_returns_the_real_size(
    tier: str, fake: FakeServer
) -> None:
    replicate_api.create_answers(fake, replicate_api.draws(fake))
    width, height = FLUX_2_SIZES[tier]

    result = _generate(_provider(fake), tier, seed=42)

    [create] = replicate_api.creates(fake)
    assert create.path == "/v1/models/black-forest-labs/flux-2-pro/predictions"
    assert create.headers["authorization"] == f"Bearer {TOKEN}"
    assert create.headers["prefer"] == "wait=60"
    assert create.json() == {
        "input": {
            "prompt": PROMPT,
            "aspect_ratio": "custom",
            "width": width,
            "height": height,
            "output_format": "png",
            "seed": 42,
        }
    }
    assert (result.width, result.height, result.mime_type, result.model) == (
        width,
        height,
        "image/png",
        MODEL,
    )
    with Image.open(io.BytesIO(result.data)) as decoded:
        assert decoded.size == (width, height)
    tier_pixels = get_tier(tier).width * get_tier(tier).height
    assert width * height >= tier_pixels
    assert len(replicate_api.downloads(fake)) == 1
    assert replicate_api.polls(fake) == []


def test_no_seed_is_sent_unless_chosen_and_a_negative_prompt_never_is(fake: FakeServer) -> None:
    provider = _provider(fake)
    assert (provider.supports_seed, provider.supports_negative_prompt) == (True, False)
    replicate_api.create_answers(fake, replicate_api.draws(fake))

    _generate(provider, negative_prompt="blurry hands")

    sent = replicate_api.creates(fake)[0].json()["input"]
    assert "seed" not in sent
    assert "blurry" not in json.dumps(sent)


def test_current_models_are_listed_first_and_the_default_offers_every_tier(
    fake: FakeServer,
) -> None:
    provider = _provider(fake)
    assert provider.model == MODEL == provider.known_models[0]
    assert provider.known_models[:3] == (MODEL, FLUX_2_DEV, SCHNELL)
    assert provider.is_configured()
    assert provider.unavailable_tiers() == {}
    assert provider.unavailable_tiers(MODEL) == {}


@pytest.mark.parametrize(
    ("model", "reason"),
    [
        (SCHNELL, "FLUX.1 [schnell] makes about 1 megapixel"),
        ("black-forest-labs/flux-dev", "FLUX.1 [dev] makes about 1 megapixel"),
        (FLUX_2_DEV, "FLUX.2 [dev] makes at most 1440 pixels a side"),
        (f"someone/flux-finetune:{VERSION}", "This model makes about 1 megapixel"),
    ],
)
def test_a_model_that_cannot_make_the_premium_pixels_greys_those_tiers_out(
    model: str, reason: str, fake: FakeServer
) -> None:
    unavailable = _provider(fake).unavailable_tiers(model)

    assert set(unavailable) == {"premium", "premium-wide"}
    assert all(text.startswith(reason) for text in unavailable.values())
    # Asked anyway, it refuses before sending anything (nothing is charged).
    with pytest.raises(BadRequest, match=r"megapixel|pixels a side"):
        _generate(_provider(fake), "premium", model=model)
    assert fake.requests == []


def test_flux_schnell_makes_the_standard_tier_at_its_one_megapixel_size(fake: FakeServer) -> None:
    replicate_api.create_answers(fake, replicate_api.draws(fake))

    result = _generate(_provider(fake), "standard", model=SCHNELL, seed=7)

    [create] = replicate_api.creates(fake)
    assert create.path == "/v1/models/black-forest-labs/flux-schnell/predictions"
    assert create.json()["input"] == {
        "prompt": PROMPT,
        "aspect_ratio": "1:1",
        "num_outputs": 1,
        "megapixels": "1",
        "output_format": "png",
        "seed": 7,
        # FLUX.1 honours a seed deterministically only off its fast path.
        "go_fast": False,
    }
    assert (result.width, result.height, result.model) == (1024, 1024, SCHNELL)


def test_flux_1_makes_several_images_in_one_prediction(fake: FakeServer) -> None:
    replicate_api.create_answers(fake, replicate_api.draws(fake))
    provider = _provider(fake)
    assert (provider.batch_size(SCHNELL), provider.batch_size(MODEL)) == (4, 1)
    request = ImageRequest(prompt=PROMPT, tier=get_tier("standard"), model=SCHNELL)

    images = aio.run(provider.generate_batch(request, 3))

    [create] = replicate_api.creates(fake)
    assert create.json()["input"]["num_outputs"] == 3
    assert [(image.width, image.height) for image in images] == [(1024, 1024)] * 3
    downloads = [r.path for r in fake.requests if r.method == "GET" and "/delivery/" in r.path]
    assert [path.rsplit("/", 1)[-1] for path in downloads] == [
        "out-0.png",
        "out-1.png",
        "out-2.png",
    ]


def test_the_requests_model_wins_over_the_configured_one(fake: FakeServer) -> None:
    replicate_api.create_answers(fake, replicate_api.draws(fake))

    result = _generate(_provider(fake, replicate_model=SCHNELL), "premium", model=MODEL)

    [create] = replicate_api.creates(fake)
    assert create.path == f"/v1/models/{MODEL}/predictions"
    assert (result.model, result.width, result.height) == (MODEL, 1536, 1024)


def test_a_version_id_creates_the_prediction_by_version(fake: FakeServer) -> None:
    replicate_api.create_answers(fake, replicate_api.draws(fake))
    model = f"someone/flux-finetune:{VERSION}"

    result = _generate(_provider(fake, replicate_model=model))

    [create] = replicate_api.creates(fake)
    assert create.path == "/v1/predictions"
    assert create.json()["version"] == VERSION
    assert create.json()["input"]["prompt"] == PROMPT
    assert (result.model, result.width, result.height) == (model, 1024, 1024)


def test_a_prediction_still_running_after_the_wait_is_polled_until_it_succeeds(
    fake: FakeServer,
) -> None:
    url = replicate_api.serve_file(fake, png_bytes(1536, 1024))
    starting = replicate_api.prediction(fake, status="starting")
    replicate_api.create_answers(fake, FakeResponse.json(starting, 201))
    fake.on(
        "GET",
        POLL_PATH,
        FakeResponse.json(replicate_api.prediction(fake, status="processing")),
        FakeResponse.json(replicate_api.prediction(fake, output=url)),
    )

    result = _generate(_provider(fake), "premium")

    assert (result.width, result.height) == (1536, 1024)
    assert len(replicate_api.creates(fake)) == 1
    assert [r.path for r in replicate_api.polls(fake)] == [f"/v1/predictions/{PREDICTION_ID}"] * 2
    assert replicate_api.polls(fake)[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert replicate_api.cancellations(fake) == []


def test_a_single_inline_webp_output_keeps_its_real_format(fake: FakeServer) -> None:
    webp = encoded(1824, 1024, "WEBP")
    data_url = "data:image/webp;base64," + base64.b64encode(webp).decode()
    replicate_api.create_answers(fake, replicate_api.succeeded_with(fake, data_url))

    result = _generate(_provider(fake), "premium-wide")

    assert (result.data, result.mime_type) == (webp, "image/webp")
    assert (result.width, result.height) == (1824, 1024)
    assert replicate_api.downloads(fake) == []


# --- downloads of the output ---------------------------------------------------------------


def test_an_output_on_another_host_is_fetched_without_our_token(
    fake: FakeServer, cdn: FakeServer
) -> None:
    replicate_api.create_answers(fake, replicate_api.draws(fake, cdn=cdn))

    result = _generate(_provider(fake), "premium")

    assert (result.width, result.height) == (1536, 1024)
    [download] = replicate_api.downloads(cdn)
    assert "authorization" not in download.headers
    assert TOKEN not in json.dumps(download.headers)
    assert replicate_api.creates(fake)[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_a_redirect_to_another_host_drops_our_token(fake: FakeServer, cdn: FakeServer) -> None:
    cdn_url = replicate_api.serve_file(cdn, png_bytes(1024, 1024))
    # An output URL on the API's own origin (like api.replicate.com/v1/files/...) gets
    # the token; the signed URL it redirects to does not.
    fake.on("GET", r"^/v1/files/abc/download$", FakeResponse(302, headers={"Location": cdn_url}))
    replicate_api.create_answers(
        fake, replicate_api.succeeded_with(fake, f"{fake.url}/v1/files/abc/download")
    )

    result = _generate(_provider(fake))

    assert (result.width, result.height) == (1024, 1024)
    [first] = fake.requests_to(r"^/v1/files/")
    assert first.headers["authorization"] == f"Bearer {TOKEN}"
    [second] = replicate_api.downloads(cdn)
    assert "authorization" not in second.headers


def test_a_plain_http_output_on_a_foreign_host_is_refused(
    fake: FakeServer, cdn: FakeServer
) -> None:
    url = replicate_api.serve_file(cdn, png_bytes(1024, 1024)).replace("127.0.0.1", "localhost")
    replicate_api.create_answers(fake, replicate_api.succeeded_with(fake, url))

    error = _failure(_provider(fake))

    assert isinstance(error, MalformedResponse)
    assert "refused to download" in error.detail
    assert cdn.requests == []


def test_an_output_larger_than_the_cap_is_refused(fake: FakeServer) -> None:
    replicate_api.succeed(fake, png_bytes(1024, 1024))

    error = _failure(_provider(fake, provider_download_max_bytes=1000))

    assert isinstance(error, MalformedResponse)
    assert "larger than 1000 bytes" in error.detail
    assert len(replicate_api.downloads(fake)) == 1


def test_an_output_download_slower_than_the_cap_is_abandoned(fake: FakeServer) -> None:
    image = png_bytes(1024, 1024)

    def slow(_request: RecordedRequest) -> FakeResponse:
        time.sleep(1.6)
        return FakeResponse(body=image, headers={"Content-Type": "image/png"})

    url = replicate_api.succeed(fake, image)
    fake.on("GET", f"^{url.removeprefix(fake.url)}$", slow)
    started = time.monotonic()

    error = _failure(_provider(fake, provider_download_timeout_seconds=1))

    assert time.monotonic() - started < 1.5
    assert isinstance(error, Unavailable)
    assert error.may_have_started  # the prediction ran: never resubmitted
    assert len(replicate_api.creates(fake)) == 1


# --- errors --------------------------------------------------------------------------------

BILLING_DETAIL = (
    "You have insufficient credit to run this model. Go to "
    "https://replicate.com/account/billing#billing to purchase credit."
)


@pytest.mark.parametrize(
    ("answer", "expected", "started"),
    [
        (
            problem(401, "Unauthenticated", "You did not pass a valid authentication token"),
            AuthFailed,
            False,
        ),
        (problem(402, "Insufficient credit", BILLING_DETAIL), QuotaExhausted, False),
        (problem(500, "Internal Server Error", "Something went wrong"), Unavailable, True),
        (problem(503, "Service Unavailable", "Please try again later"), Unavailable, False),
        (replicate_api.not_found(), ModelUnavailable, False),
        (
            problem(
                422,
                "Input validation failed",
                "- input.width: Must be less than or equal to 2048",
            ),
            BadRequest,
            False,
        ),
    ],
    ids=["401", "402", "500", "503", "404-model", "422"],
)
def test_api_errors_map_to_one_taxonomy_error_after_exactly_one_request(
    answer: FakeResponse, expected: type[ProviderError], started: bool, fake: FakeServer
) -> None:
    replicate_api.create_answers(fake, answer)

    error = _failure(_provider(fake))

    assert type(error) is expected
    assert error.may_have_started is started
    assert error.retry_after is None
    assert TOKEN not in str(error)
    assert len(replicate_api.creates(fake)) == 1
    assert len(fake.requests) == 1


def test_a_version_that_is_gone_is_model_unavailable(fake: FakeServer) -> None:
    replicate_api.create_answers(fake, replicate_api.version_gone())

    error = _failure(_provider(fake, replicate_model=f"someone/flux-finetune:{VERSION}"))

    assert isinstance(error, ModelUnavailable)
    assert "version does not exist" in error.detail
    assert len(replicate_api.creates(fake)) == 1


def test_a_rate_limit_carries_its_retry_after(fake: FakeServer) -> None:
    replicate_api.create_answers(
        fake,
        problem(
            429, "Request was throttled", "Expected available in 7 seconds.", **{"Retry-After": "7"}
        ),
    )

    error = _failure(_provider(fake))

    assert isinstance(error, RateLimited)
    assert error.retry_after == 7.0
    assert len(replicate_api.creates(fake)) == 1


def test_an_outage_while_polling_is_reported_after_one_poll_and_the_prediction_cancelled(
    fake: FakeServer,
) -> None:
    # The SDK's own transport would retry this GET up to 10 times.
    processing = replicate_api.prediction(fake, status="processing")
    replicate_api.create_answers(fake, FakeResponse.json(processing, 201))
    fake.on(
        "GET", POLL_PATH, problem(503, "Service Unavailable", "Try again", **{"Retry-After": "0"})
    )
    fake.on("POST", CANCEL_PATH, replicate_api.cancels(fake))

    error = _failure(_provider(fake))

    assert isinstance(error, Unavailable)
    assert error.may_have_started  # the prediction exists: never created again
    assert (len(replicate_api.creates(fake)), len(replicate_api.polls(fake))) == (1, 1)
    [cancel] = replicate_api.cancellations(fake)
    assert cancel.path == f"/v1/predictions/{PREDICTION_ID}/cancel"


def test_a_prediction_that_outlasts_our_deadline_is_cancelled_at_replicate(
    fake: FakeServer,
) -> None:
    replicate_api.processing_forever(fake)
    started = time.monotonic()

    error = _failure(_provider(fake, provider_timeout_seconds=1))

    assert time.monotonic() - started < 3
    assert isinstance(error, Unavailable)
    assert error.may_have_started
    assert len(replicate_api.creates(fake)) == 1
    [cancel] = replicate_api.cancellations(fake)
    assert cancel.path == f"/v1/predictions/{PREDICTION_ID}/cancel"
    assert cancel.headers["authorization"] == f"Bearer {TOKEN}"
    assert replicate_api.downloads(fake) == []


def test_a_prediction_whose_caller_gives_up_is_cancelled_at_replicate(fake: FakeServer) -> None:
    replicate_api.processing_forever(fake)
    provider = _provider(fake)

    async def give_up_after_half_a_second() -> None:
        request = ImageRequest(prompt=PROMPT, tier=get_tier("standard"))
        await asyncio.wait_for(provider.generate(request), timeout=0.5)

    with pytest.raises(TimeoutError):
        aio.run(give_up_after_half_a_second())

    assert len(replicate_api.creates(fake)) == 1
    assert len(replicate_api.cancellations(fake)) == 1


@pytest.mark.parametrize(
    ("download", "expected"),
    [
        (FakeResponse(status=503, body=b"upstream unavailable"), Unavailable),
        (FakeResponse(status=404, body=b"Not Found"), MalformedResponse),
    ],
    ids=["503", "404"],
)
def test_a_failed_output_download_is_reported_after_one_download(
    download: FakeResponse, expected: type[ProviderError], fake: FakeServer
) -> None:
    url = replicate_api.succeed(fake, b"")
    fake.on("GET", "/delivery/", download)

    error = _failure(_provider(fake))

    assert type(error) is expected
    assert error.may_have_started  # the prediction ran (and is billed): not created again
    assert len(replicate_api.creates(fake)) == 1
    assert [r.path for r in replicate_api.downloads(fake)] == [url.removeprefix(fake.url)]


def test_a_connection_dropped_after_the_create_was_sent_may_have_started(
    fake: FakeServer,
) -> None:
    replicate_api.create_answers(fake, FakeResponse(drop=True))

    error = _failure(_provider(fake))

    assert isinstance(error, Unavailable)
    assert error.may_have_started
    assert len(replicate_api.creates(fake)) == 1


def test_a_create_that_outlasts_its_wait_times_out_as_may_have_started(
    fake: FakeServer,
) -> None:
    def too_slow(request: RecordedRequest) -> FakeResponse:
        time.sleep(2.5)
        return FakeResponse.json(replicate_api.prediction(fake, status="starting"), 201)

    replicate_api.create_answers(fake, too_slow)
    provider = _provider(fake)
    provider.sync_wait_seconds = 1  # the SDK's read timeout becomes 1.5 s

    error = _failure(provider)

    assert isinstance(error, Unavailable)
    assert "timed out" in error.detail
    assert error.may_have_started
    [create] = replicate_api.creates(fake)
    assert create.headers["prefer"] == "wait=1"


@pytest.mark.parametrize(
    ("status", "message", "expected"),
    [
        (
            "failed",
            "NSFW content detected. Try running it again, or try a different prompt.",
            SafetyRefused,
        ),
        (
            "failed",
            "E005: The input or output was flagged as sensitive. Please try again with different inputs.",
            SafetyRefused,
        ),
        ("failed", "CUDA out of memory. Tried to allocate 2.00 GiB", Unavailable),
        ("canceled", None, Unavailable),
    ],
    ids=["nsfw", "sensitive", "model-crash", "canceled"],
)
def test_a_prediction_that_did_not_succeed(
    status: str, message: str | None, expected: type[ProviderError], fake: FakeServer
) -> None:
    ended = replicate_api.prediction(fake, status=status, error=message)
    replicate_api.create_answers(fake, FakeResponse.json(ended, 201))

    error = _failure(_provider(fake))

    assert type(error) is expected
    if message:
        assert message in error.detail
    assert len(replicate_api.creates(fake)) == 1
    assert replicate_api.downloads(fake) == []
    assert replicate_api.cancellations(fake) == []


def _not_json(fake: FakeServer) -> FakeResponse:
    return FakeResponse(
        status=201, body=b"<html>502 Bad Gateway</html>", headers={"Content-Type": "text/html"}
    )


@pytest.mark.parametrize(
    "answer",
    [
        lambda fake: replicate_api.succeeded_with(fake, None),
        lambda fake: replicate_api.succeeded_with(fake, []),
        lambda fake: replicate_api.succeeded_with(fake, ["out-0.png"]),
        lambda fake: replicate_api.succeeded_with(
            fake, [replicate_api.serve_file(fake, b"<html>not an image</html>")]
        ),
        lambda fake: replicate_api.succeeded_with(fake, ["data:image/png;base64,@@@"]),
        lambda fake: FakeResponse.json({"id": PREDICTION_ID, "status": "succeeded"}, 201),
        _not_json,
    ],
    ids=[
        "no-output",
        "empty-output",
        "not-a-url",
        "file-not-an-image",
        "broken-data-url",
        "fields-missing",
        "not-json",
    ],
)
def test_an_unusable_answer_is_malformed(answer: object, fake: FakeServer) -> None:
    replicate_api.create_answers(fake, answer(fake))  # type: ignore[operator]

    assert isinstance(_failure(_provider(fake)), MalformedResponse)
    assert len(replicate_api.creates(fake)) == 1


# --- edits ---------------------------------------------------------------------------------

SOURCE_COLOR = (30, 90, 200)


def _source(tier: str = "standard", *, noise: bool = False) -> SourcePicture:
    """A picture fitted to the tier, as the edit path hands it over: one colour, or noise
    (a PNG of several megabytes)."""
    size = (get_tier(tier).width, get_tier(tier).height)
    if noise:
        picture = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        picture = Image.new("RGB", size, SOURCE_COLOR)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return SourcePicture(data=buffer.getvalue(), width=size[0], height=size[1], picture=picture)


def _edit(
    provider: ReplicateProvider,
    tier: str = "standard",
    source: SourcePicture | None = None,
    **fields: object,
) -> ProviderImage:
    return _generate(provider, tier, source=source or _source(tier), **fields)


def _is_the_edited_colour(pixel: tuple[int, ...]) -> bool:
    """The source's colour blended with the fake edit model's tint (to within rounding)."""
    share = replicate_api.EDIT_TINT_SHARE
    expected = [
        mine * (1 - share) + tint * share
        for mine, tint in zip(SOURCE_COLOR, replicate_api.EDIT_TINT, strict=True)
    ]
    return all(abs(got - want) <= 1 for got, want in zip(pixel, expected, strict=True))


def _data_uri(source: SourcePicture) -> str:
    return f"data:image/png;base64,{base64.b64encode(source.data).decode()}"


@pytest.mark.parametrize("tier", list(FLUX_2_SIZES))
def test_an_edit_sends_the_source_to_flux_2_pro_and_returns_the_tiers_size(
    tier: str, fake: FakeServer
) -> None:
    replicate_api.create_answers(fake, replicate_api.draws(fake))
    source = _source(tier)
    provider = _provider(fake)
    assert provider.edit_unavailable() == ""

    result = _edit(provider, tier, source, seed=42)

    [create] = replicate_api.creates(fake)
    assert create.path == f"/v1/models/{MODEL}/predictions"
    width, height = FLUX_2_SIZES[tier]
    assert create.json() == {
        "input": {
            "prompt": PROMPT,
            "input_images": [_data_uri(source)],
            "aspect_ratio": "custom",
            "width": width,
            "height": height,
            "output_format": "png",
            "seed": 42,
        }
    }
    assert replicate_api.references(create) == [source.data]
    assert (result.width, result.height, result.model) == (width, height, MODEL)
    generation.check_delivered_size(get_tier(tier), result.width, result.height)
    with Image.open(io.BytesIO(result.data)) as edited:
        assert edited.size == (width, height)
        pixel = edited.convert("RGB").getpixel((width // 2, height // 2))
        assert isinstance(pixel, tuple) and _is_the_edited_colour(pixel)
    assert replicate_api.uploads(fake) == []


def test_a_source_of_a_megabyte_or_more_is_uploaded_then_deleted(fake: FakeServer) -> None:
    replicate_api.serve_files(fake)
    replicate_api.create_answers(fake, replicate_api.draws(fake))
    source = _source(noise=True)
    assert len(source.data) >= DATA_URI_MAX_BYTES

    result = _edit(_provider(fake), source=source)

    [upload] = replicate_api.uploads(fake)
    assert upload.headers["authorization"] == f"Bearer {TOKEN}"
    assert upload.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'name="content"; filename="source.png"' in upload.body
    [create] = replicate_api.creates(fake)
    [url] = create.json()["input"]["input_images"]
    assert url.startswith(f"{fake.url}/v1/files/")
    assert replicate_api.references(create) == [source.data]
    [delete] = replicate_api.deletions(fake)
    assert delete.path == url.removeprefix(fake.url)
    assert delete.headers["authorization"] == f"Bearer {TOKEN}"
    order = [fake.requests.index(r) for r in (upload, create, delete)]
    assert order == sorted(order)
    assert result.data == replicate_api.edited_png(source.picture, (1024, 1024))  # type: ignore[arg-type]


def test_a_model_that_takes_no_picture_leaves_the_edit_to_the_edit_model(
    fake: FakeServer,
) -> None:
    replicate_api.create_answers(fake, replicate_api.draws(fake))
    provider = _provider(fake, replicate_model=SCHNELL)
    assert provider.edit_unavailable() == ""

    result = _edit(provider)

    [create] = replicate_api.creates(fake)
    assert create.path == f"/v1/models/{MODEL}/predictions"
    assert create.json()["input"]["input_images"]
    # The model that made the edit is the one recorded on the creation.
    assert (result.model, result.width, result.height) == (MODEL, 1024, 1024)


def test_flux_2_dev_edits_with_its_own_inputs(fake: FakeServer) -> None:
    replicate_api.create_answers(fake, replicate_api.draws(fake))

    result = _edit(_provider(fake), model=FLUX_2_DEV)

    [create] = replicate_api.creates(fake)
    assert create.path == f"/v1/models/{FLUX_2_DEV}/predictions"
    assert (result.model, result.width, result.height) == (FLUX_2_DEV, 1024, 1024)


def test_without_a_model_that_takes_pictures_edits_are_unavailable(fake: FakeServer) -> None:
    assert _provider(fake, replicate_edit_model="").edit_unavailable(SCHNELL) == (
        "FLUX.1 [schnell] takes no picture to edit"
    )
    assert _provider(fake, replicate_edit_model="").edit_unavailable() == ""
    kontext = _provider(
        fake, replicate_model=SCHNELL, replicate_edit_model="black-forest-labs/flux-kontext-pro"
    )
    assert "STUDIO_REPLICATE_EDIT_MODEL" in kontext.edit_unavailable()

    # Asked anyway, it refuses before sending anything (nothing is charged).
    with pytest.raises(BadRequest, match="takes no picture to edit"):
        _edit(kontext)
    assert fake.requests == []


def test_a_refused_reference_is_a_bad_request_after_one_create(fake: FakeServer) -> None:
    replicate_api.create_answers(fake, replicate_api.reference_refused())

    error = _failure(_provider(fake), source=_source())

    assert isinstance(error, BadRequest)
    assert "Does not match format 'uri'" in error.detail
    assert not error.may_have_started
    assert len(replicate_api.creates(fake)) == 1


def test_a_source_that_is_not_a_picture_fails_its_prediction(fake: FakeServer) -> None:
    replicate_api.create_answers(fake, replicate_api.draws(fake))
    broken = SourcePicture(data=b"not a picture", width=1024, height=1024)

    error = _failure(_provider(fake), source=broken)

    assert isinstance(error, Unavailable)
    assert "cannot identify image file" in error.detail
    assert len(replicate_api.creates(fake)) == 1
    assert replicate_api.downloads(fake) == []


def test_a_failed_upload_is_one_taxonomy_error_and_creates_nothing(fake: FakeServer) -> None:
    fake.on("POST", replicate_api.FILES_PATH, problem(401, "Unauthenticated", "Invalid token"))

    error = _failure(_provider(fake), source=_source(noise=True))

    assert isinstance(error, AuthFailed)
    assert not error.may_have_started
    assert len(replicate_api.uploads(fake)) == 1
    assert replicate_api.creates(fake) == []


def test_a_gateway_without_the_files_api_is_not_the_model_gone(fake: FakeServer) -> None:
    # No files route on this fake: its 404 for POST /v1/files.
    error = _failure(_provider(fake), source=_source(noise=True))

    assert isinstance(error, NotConfigured)
    assert "files API answered HTTP 404" in error.detail
    assert replicate_api.creates(fake) == []


def test_an_edit_whose_caller_gives_up_is_cancelled_and_its_upload_deleted(
    fake: FakeServer,
) -> None:
    replicate_api.serve_files(fake)
    replicate_api.processing_forever(fake)
    provider = _provider(fake)
    request = ImageRequest(prompt=PROMPT, tier=get_tier("standard"), source=_source(noise=True))

    async def give_up_after_half_a_second() -> None:
        await asyncio.wait_for(provider.generate(request), timeout=0.5)

    with pytest.raises(TimeoutError):
        aio.run(give_up_after_half_a_second())

    assert len(replicate_api.creates(fake)) == 1
    [cancel] = replicate_api.cancellations(fake)
    assert cancel.path == f"/v1/predictions/{PREDICTION_ID}/cancel"
    [upload] = replicate_api.uploads(fake)
    [delete] = replicate_api.deletions(fake)
    assert fake.requests.index(upload) < fake.requests.index(delete)


def test_an_edit_that_outlasts_our_deadline_is_cancelled_at_replicate(fake: FakeServer) -> None:
    replicate_api.processing_forever(fake)

    error = _failure(_provider(fake, provider_timeout_seconds=1), source=_source())

    assert isinstance(error, Unavailable)
    assert error.may_have_started
    assert len(replicate_api.cancellations(fake)) == 1


def test_an_edit_model_that_is_gone_leaves_the_members_model_alone(fake: FakeServer) -> None:
    replicate_api.create_answers(fake, replicate_api.not_found())

    # Made by the edit model: an operator setting, not the model members pick.
    error = _failure(_provider(fake, replicate_model=SCHNELL), source=_source())
    assert isinstance(error, NotConfigured)
    assert f"STUDIO_REPLICATE_EDIT_MODEL {MODEL}" in error.detail
    # Made by the members' model itself: that model is gone.
    error = _failure(_provider(fake), source=_source())
    assert isinstance(error, ModelUnavailable)
    assert len(replicate_api.creates(fake)) == 2


# --- checking a model ----------------------------------------------------------------------


def _check(provider: ReplicateProvider, model: str) -> None:
    aio.run(provider.check_model(model))


def test_check_model_asks_the_models_api(fake: FakeServer) -> None:
    replicate_api.serve_models(fake)

    _check(_provider(fake), MODEL)

    [lookup] = fake.requests
    assert (lookup.method, lookup.path) == ("GET", f"/v1/models/{MODEL}")
    assert lookup.headers["authorization"] == f"Bearer {TOKEN}"
    assert replicate_api.creates(fake) == []


@pytest.mark.parametrize(
    "model",
    [
        "black-forest-labs/flux-9-imaginary",
        f"{MODEL}:{'0' * 64}",
        "not-an-owner-slash-name",
    ],
    ids=["unknown-model", "unknown-version", "not-a-model-id"],
)
def test_check_model_says_when_a_model_is_gone(model: str, fake: FakeServer) -> None:
    replicate_api.serve_models(fake)

    with pytest.raises(ModelUnavailable):
        _check(_provider(fake), model)
    assert replicate_api.creates(fake) == []


def test_check_model_accepts_a_version_that_exists(fake: FakeServer) -> None:
    replicate_api.serve_models(fake)

    _check(_provider(fake), f"{MODEL}:{VERSION}")

    assert [r.path for r in fake.requests] == [
        f"/v1/models/{MODEL}",
        f"/v1/models/{MODEL}/versions/{VERSION}",
    ]


def test_check_model_with_a_rejected_token_cannot_tell(fake: FakeServer) -> None:
    fake.on("GET", replicate_api.MODEL_PATH, problem(401, "Unauthenticated", "Invalid token"))

    with pytest.raises(AuthFailed):
        _check(_provider(fake), MODEL)


# --- configuration -------------------------------------------------------------------------


def test_without_a_token_it_is_not_configured_and_sends_nothing(fake: FakeServer) -> None:
    provider = _provider(fake, replicate_api_token="")

    assert not provider.is_configured()
    with pytest.raises(NotConfigured):
        _generate(provider)
    assert fake.requests == []


def test_a_model_id_that_is_not_owner_slash_name_is_not_configured(fake: FakeServer) -> None:
    provider = _provider(fake, replicate_model="flux-schnell")

    assert not provider.is_configured()
    with pytest.raises(NotConfigured):
        _generate(provider)
    assert fake.requests == []


# --- through the whole generation path -----------------------------------------------------


@pytest.fixture
def studio(migrated_db: Settings, fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> FakeServer:
    monkeypatch.setenv("REPLICATE_API_TOKEN", TOKEN)
    monkeypatch.setenv("REPLICATE_BASE_URL", fake.url)
    reload_settings()
    return fake


def _run_generation(user_id: int, tier: str = "standard") -> str:
    return run_generation(user_id, provider="replicate", prompt=PROMPT, tier=tier)


def _credits(user_id: int) -> ledger.CreditSummary:
    with read_session() as db:
        return ledger.summary(db, user_id)


def _throttled() -> FakeResponse:
    return problem(
        429, "Request was throttled", "Expected available in 0 seconds.", **{"Retry-After": "0"}
    )


def test_the_registry_builds_it_from_the_environment(studio: FakeServer) -> None:
    provider = get_provider("replicate")
    assert isinstance(provider, ReplicateProvider)
    assert provider.is_configured()
    assert provider.model == MODEL


@pytest.mark.parametrize(
    ("tier", "balance"), [("standard", 4), ("premium", 3), ("premium-wide", 1)]
)
def test_each_tier_is_stored_at_the_size_flux_2_pro_really_made_and_charged(
    tier: str, balance: int, studio: FakeServer
) -> None:
    user = make_user(credits=5)
    replicate_api.create_answers(studio, replicate_api.draws(studio))

    assert _run_generation(user, tier) == "succeeded"

    row = last_generation()
    width, height = FLUX_2_SIZES[tier]
    assert (row.provider, row.model, row.width, row.height) == ("replicate", MODEL, width, height)
    with Image.open(io.BytesIO(image_store().read(row.image_key))) as original:
        assert (original.format, original.size) == ("PNG", (width, height))
    assert _credits(user) == ledger.CreditSummary(balance=balance, held=0)
    assert len(replicate_api.creates(studio)) == 1


def test_a_model_that_has_gone_fails_once_and_costs_nothing(studio: FakeServer) -> None:
    user = make_user(credits=5)
    replicate_api.create_answers(studio, replicate_api.not_found())

    assert _run_generation(user) == "failed"

    row = last_generation()
    assert row.error_code == "model_unavailable"
    assert row.error_message == ModelUnavailable.user_message
    assert len(replicate_api.creates(studio)) == 1
    assert _credits(user) == ledger.CreditSummary(balance=5, held=0)


def test_an_oversize_output_is_refused_and_costs_nothing(
    studio: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_PROVIDER_DOWNLOAD_MAX_BYTES", "2000")
    reload_settings()
    user = make_user(credits=5)
    replicate_api.create_answers(studio, replicate_api.draws(studio))

    assert _run_generation(user) == "failed"

    row = last_generation()
    assert row.error_code == "malformed_response"
    assert row.image_key is None
    assert len(replicate_api.creates(studio)) == 1  # never created twice
    assert _credits(user) == ledger.CreditSummary(balance=5, held=0)


def test_a_generation_that_times_out_cancels_its_prediction_and_costs_nothing(
    studio: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    replicate_api.processing_forever(studio)
    # Our timeout per provider call (services.generation), below what the provider waits.
    fast = reload_settings().model_copy(update={"provider_timeout_seconds": 0.8})
    monkeypatch.setattr(generation, "get_settings", lambda: fast)
    user = make_user(credits=5)

    assert _run_generation(user) == "failed"

    assert last_generation().error_code == "unavailable"
    assert len(replicate_api.creates(studio)) == 1  # may have started: never resubmitted
    assert len(replicate_api.cancellations(studio)) == 1
    assert _credits(user) == ledger.CreditSummary(balance=5, held=0)


def test_a_rate_limit_that_persists_fails_after_three_attempts(studio: FakeServer) -> None:
    user = make_user(credits=5)
    replicate_api.create_answers(studio, _throttled())

    assert _run_generation(user) == "failed"

    assert last_generation().error_code == "rate_limited"
    assert len(replicate_api.creates(studio)) == generation.PROVIDER_ATTEMPTS == 3
    assert _credits(user) == ledger.CreditSummary(balance=5, held=0)


def test_a_quota_error_is_never_retried(studio: FakeServer) -> None:
    user = make_user(credits=5)
    replicate_api.create_answers(studio, problem(402, "Insufficient credit", BILLING_DETAIL))

    assert _run_generation(user) == "failed"

    assert last_generation().error_code == "quota_exhausted"
    assert len(replicate_api.creates(studio)) == 1
    assert _credits(user) == ledger.CreditSummary(balance=5, held=0)


def test_a_safety_refusal_is_never_retried(studio: FakeServer) -> None:
    user = make_user(credits=5)
    nsfw = replicate_api.prediction(studio, status="failed", error="NSFW content detected.")
    replicate_api.create_answers(studio, FakeResponse.json(nsfw, 201))

    assert _run_generation(user) == "failed"

    assert last_generation().error_code == "safety_refused"
    assert len(replicate_api.creates(studio)) == 1
    assert _credits(user) == ledger.CreditSummary(balance=5, held=0)


def test_a_rate_limit_then_success_succeeds_on_the_second_request(studio: FakeServer) -> None:
    user = make_user(credits=5)
    replicate_api.create_answers(studio, _throttled(), replicate_api.draws(studio))

    assert _run_generation(user) == "succeeded"

    assert len(replicate_api.creates(studio)) == 2
    assert _credits(user) == ledger.CreditSummary(balance=4, held=0)
    assert (last_generation().width, last_generation().height) == (1024, 1024)
