"""The Replicate adapter, running the real `replicate` SDK against a local fake of its API."""

from __future__ import annotations

import base64
import io
import json
import time
from pathlib import Path

import pytest
from PIL import Image

from studio_app.providers.base import (
    AuthFailed,
    BadRequest,
    ImageRequest,
    MalformedResponse,
    NotConfigured,
    ProviderError,
    ProviderImage,
    QuotaExhausted,
    RateLimited,
    SafetyRefused,
    Unavailable,
)
from studio_app.providers.registry import get_provider
from studio_app.providers.replicate_provider import ReplicateProvider
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
    FLUX_SIZES,
    MODEL,
    POLL_PATH,
    PREDICTION_ID,
    VERSION,
    problem,
)
from tests.fakes.server import FakeResponse, FakeServer, RecordedRequest
from tests.generation_helpers import last_generation, run_generation

TOKEN = "r8_Kx9TestTokenNotReal0123456789abcdef"
PROMPT = "A lighthouse at dusk, watercolour"


@pytest.fixture(autouse=True)
def fast_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    # The SDK reads its poll interval (default 0.5 s) when a client is built.
    monkeypatch.setenv("REPLICATE_POLL_INTERVAL", "0.01")


def _provider(fake: FakeServer, **settings: str) -> ReplicateProvider:
    values = {"replicate_api_token": TOKEN, "replicate_base_url": fake.url, **settings}
    return ReplicateProvider(
        Settings(database_url="sqlite://", images_dir=Path("unused"), **values)  # type: ignore[arg-type]
    )


def _generate(
    provider: ReplicateProvider, tier: str = "standard", **fields: object
) -> ProviderImage:
    request = ImageRequest(prompt=PROMPT, tier=get_tier(tier), **fields)  # type: ignore[arg-type]
    return aio.run(provider.generate(request))


def _failure(provider: ReplicateProvider, tier: str = "standard") -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        _generate(provider, tier)
    return caught.value


# --- success -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "aspect_ratio"), [("standard", "1:1"), ("premium", "3:2"), ("premium-wide", "16:9")]
)
def test_each_tier_is_made_at_its_aspect_and_returned_at_the_real_size(
    tier: str, aspect_ratio: str, fake: FakeServer
) -> None:
    width, height = FLUX_SIZES[aspect_ratio]
    image = png_bytes(width, height)
    replicate_api.succeed(fake, image)

    result = _generate(_provider(fake), tier, seed=42)

    assert (result.width, result.height) == (width, height)
    assert (result.data, result.mime_type, result.model) == (image, "image/png", MODEL)
    [create] = replicate_api.creates(fake)
    assert create.path == "/v1/models/black-forest-labs/flux-schnell/predictions"
    assert create.headers["authorization"] == f"Bearer {TOKEN}"
    assert create.headers["prefer"] == "wait=60"
    assert create.json() == {
        "input": {
            "prompt": PROMPT,
            "aspect_ratio": aspect_ratio,
            "output_format": "png",
            "num_outputs": 1,
            "seed": 42,
        }
    }
    assert len(replicate_api.downloads(fake)) == 1
    assert replicate_api.polls(fake) == []


def test_no_seed_is_sent_unless_chosen_and_a_negative_prompt_never_is(fake: FakeServer) -> None:
    provider = _provider(fake)
    assert (provider.supports_seed, provider.supports_negative_prompt) == (True, False)
    replicate_api.succeed(fake, png_bytes(1024, 1024))

    _generate(provider, negative_prompt="blurry hands")

    sent = replicate_api.creates(fake)[0].json()["input"]
    assert "seed" not in sent
    assert "blurry" not in json.dumps(sent)


def test_every_tier_is_offered_with_the_configured_model(fake: FakeServer) -> None:
    provider = _provider(fake, replicate_model="black-forest-labs/flux-dev")
    assert provider.is_configured()
    assert provider.unavailable_tiers() == {}
    assert provider.model == "black-forest-labs/flux-dev"


def test_a_version_id_creates_the_prediction_by_version(fake: FakeServer) -> None:
    replicate_api.succeed(fake, png_bytes(1024, 1024))
    model = f"someone/flux-finetune:{VERSION}"

    result = _generate(_provider(fake, replicate_model=model))

    [create] = replicate_api.creates(fake)
    assert create.path == "/v1/predictions"
    assert create.json()["version"] == VERSION
    assert create.json()["input"]["prompt"] == PROMPT
    assert result.model == model


def test_a_prediction_still_running_after_the_wait_is_polled_until_it_succeeds(
    fake: FakeServer,
) -> None:
    url = replicate_api.serve_file(fake, png_bytes(1216, 832))
    starting = replicate_api.prediction(fake, status="starting")
    replicate_api.create_answers(fake, FakeResponse.json(starting, 201))
    fake.on(
        "GET",
        POLL_PATH,
        FakeResponse.json(replicate_api.prediction(fake, status="processing")),
        FakeResponse.json(replicate_api.prediction(fake, output=[url])),
    )

    result = _generate(_provider(fake), "premium")

    assert (result.width, result.height) == (1216, 832)
    assert len(replicate_api.creates(fake)) == 1
    assert [r.path for r in replicate_api.polls(fake)] == [f"/v1/predictions/{PREDICTION_ID}"] * 2
    assert replicate_api.polls(fake)[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_a_single_inline_webp_output_keeps_its_real_format(fake: FakeServer) -> None:
    webp = encoded(1344, 768, "WEBP")
    data_url = "data:image/webp;base64," + base64.b64encode(webp).decode()
    replicate_api.create_answers(fake, replicate_api.succeeded_with(fake, data_url))

    result = _generate(_provider(fake), "premium-wide")

    assert (result.data, result.mime_type) == (webp, "image/webp")
    assert (result.width, result.height) == (1344, 768)
    assert replicate_api.downloads(fake) == []


# --- errors --------------------------------------------------------------------------------

BILLING_DETAIL = (
    "You have insufficient credit to run this model. Go to "
    "https://replicate.com/account/billing#billing to purchase credit."
)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            problem(401, "Unauthenticated", "You did not pass a valid authentication token"),
            AuthFailed,
        ),
        (problem(402, "Insufficient credit", BILLING_DETAIL), QuotaExhausted),
        (problem(500, "Internal Server Error", "Something went wrong"), Unavailable),
        (problem(503, "Service Unavailable", "Please try again later"), Unavailable),
        (problem(404, "Not found", "The requested resource could not be found."), BadRequest),
        (
            problem(
                422,
                "Input validation failed",
                "- input.aspect_ratio: aspect_ratio must be one of the following: ...",
            ),
            BadRequest,
        ),
    ],
    ids=["401", "402", "500", "503", "404", "422"],
)
def test_api_errors_map_to_one_taxonomy_error_after_exactly_one_request(
    answer: FakeResponse, expected: type[ProviderError], fake: FakeServer
) -> None:
    replicate_api.create_answers(fake, answer)

    error = _failure(_provider(fake))

    assert type(error) is expected
    assert error.retry_after is None
    assert TOKEN not in str(error)
    assert len(replicate_api.creates(fake)) == 1
    assert len(fake.requests) == 1


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


def test_an_outage_while_polling_is_reported_after_one_poll(fake: FakeServer) -> None:
    # The SDK's own transport would retry this GET up to 10 times.
    processing = replicate_api.prediction(fake, status="processing")
    replicate_api.create_answers(fake, FakeResponse.json(processing, 201))
    fake.on(
        "GET", POLL_PATH, problem(503, "Service Unavailable", "Try again", **{"Retry-After": "0"})
    )

    assert isinstance(_failure(_provider(fake)), Unavailable)
    assert (len(replicate_api.creates(fake)), len(replicate_api.polls(fake))) == (1, 1)


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

    assert type(_failure(_provider(fake))) is expected
    assert len(replicate_api.creates(fake)) == 1
    assert [r.path for r in replicate_api.downloads(fake)] == [url.removeprefix(fake.url)]


def test_a_dropped_connection_is_unavailable(fake: FakeServer) -> None:
    replicate_api.create_answers(fake, FakeResponse(drop=True))

    assert isinstance(_failure(_provider(fake)), Unavailable)
    assert len(replicate_api.creates(fake)) == 1


def test_a_create_that_outlasts_its_wait_times_out_as_unavailable(fake: FakeServer) -> None:
    def too_slow(request: RecordedRequest) -> FakeResponse:
        time.sleep(2.5)
        return FakeResponse.json(replicate_api.prediction(fake, status="starting"), 201)

    replicate_api.create_answers(fake, too_slow)
    provider = _provider(fake)
    provider.sync_wait_seconds = 1  # the SDK's read timeout becomes 1.5 s

    error = _failure(provider)

    assert isinstance(error, Unavailable)
    assert "timed out" in error.detail
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


def test_a_success_captures_the_price_and_records_the_real_size(studio: FakeServer) -> None:
    user = make_user(credits=5)
    replicate_api.succeed(studio, png_bytes(1216, 832))

    assert _run_generation(user, "premium") == "succeeded"

    row = last_generation()
    assert (row.provider, row.model, row.width, row.height) == ("replicate", MODEL, 1216, 832)
    assert _credits(user) == ledger.CreditSummary(balance=3, held=0)
    with Image.open(io.BytesIO(image_store().read(row.image_key))) as original:
        assert (original.format, original.size) == ("PNG", (1216, 832))
    assert len(replicate_api.creates(studio)) == 1


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
    url = replicate_api.serve_file(studio, png_bytes(1024, 1024))
    replicate_api.create_answers(studio, _throttled(), replicate_api.succeeded_with(studio, [url]))

    assert _run_generation(user) == "succeeded"

    assert len(replicate_api.creates(studio)) == 2
    assert _credits(user) == ledger.CreditSummary(balance=4, held=0)
    assert (last_generation().width, last_generation().height) == (1024, 1024)
