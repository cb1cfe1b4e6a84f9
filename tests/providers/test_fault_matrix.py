"""Every provider fault, for every hosted provider, through the whole generation path.

One table per provider: the fake plays the provider's real wire answer for the fault,
the real SDK reads it, and `generation.start` + `generation.run` handle it. For each
case the test checks what a user would notice:

- the generation row's error code and message (what the studio and My Creations show);
- how many requests reached the fake: transient faults are retried, a bounded number
  of times, and the waits honour Retry-After; permanent faults are sent exactly once;
- the ledger: every entry exactly as before (a failure charges nothing) and the hold
  released, or exactly one capture of the price when a retry succeeded.

Backoff waits longer than a quarter second are recorded, not slept, so the table runs
fast; the short Retry-After values the fakes send are really waited for.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import huggingface_hub
import pytest
from sqlmodel import select

from studio_app.models import CreditEntry, CreditHold, HoldStatus
from studio_app.providers import huggingface_provider
from studio_app.providers.base import ERROR_CLASSES
from studio_app.services import generation, ledger, provider_calls
from studio_app.services.db import read_session
from studio_app.settings import Settings, reload_settings
from studio_app.storage import image_store
from tests.factories import make_user
from tests.fakes import gemini_api, openai_api, replicate_api
from tests.fakes import huggingface_api as hf_api
from tests.fakes.images import png_bytes
from tests.fakes.server import FakeResponse, FakeServer, RecordedRequest, Responder
from tests.generation_helpers import credit_summary, last_generation, run_generation

PROMPT = "A lighthouse on a cliff at dawn, watercolour"
START_CREDITS = 5
PRICE = 1  # the standard tier
RETRY_AFTER = "0.2"  # seconds: really waited for
ATTEMPTS = generation.PROVIDER_ATTEMPTS
BACKOFF = [1.0, 2.0]  # our waits between attempts when the provider names none
TIMEOUT_S = 0.8  # our timeout per provider call in the "timeout" rows (else 10 s)
SLOW_S = 2.0  # how long the "timeout" fake takes to answer


def _slow(answer: FakeResponse) -> Responder:
    def respond(_request: RecordedRequest) -> FakeResponse:
        time.sleep(SLOW_S)
        return answer

    return respond


def _cut(answer: FakeResponse) -> FakeResponse:
    """`answer` with its body cut off halfway and the socket closed."""
    return dataclasses.replace(answer, cut_after=max(1, len(answer.body) // 2))


@dataclass(frozen=True)
class Fault:
    """One row of a provider's table."""

    id: str
    answers: tuple[Responder, ...]
    code: str  # the error code the row records ("" when the generation succeeds)
    requests: int  # how many generation requests reach the provider
    waits: tuple[float, ...] = ()  # the waits between those requests


def _table(
    *,
    image: FakeResponse,
    rate_limited: FakeResponse,
    server_error: FakeResponse,
    overloaded: FakeResponse,
    malformed: FakeResponse,
    safety: FakeResponse,
    quota: FakeResponse,
) -> list[Fault]:
    retry_after = float(RETRY_AFTER)
    # A connection lost after the request went out: the provider may have begun (and
    # billed) the work, so it is never resubmitted — as for a timeout or a 500.
    dropped = (1, ())
    return [
        # A timeout or a 500 after the request went out: the provider may be drawing (and
        # billing) the image, so it is never resubmitted (services/provider_calls.py).
        Fault("timeout", (_slow(image),), "unavailable", 1),
        Fault("429-retry-after", (rate_limited,), "rate_limited", ATTEMPTS, (retry_after,) * 2),
        Fault("500", (server_error,), "unavailable", 1),
        Fault("503", (overloaded,), "unavailable", ATTEMPTS, tuple(BACKOFF)),
        Fault("connection-dropped", (FakeResponse(drop=True),), "unavailable", *dropped),
        Fault("dropped-mid-response", (_cut(image),), "unavailable", *dropped),
        Fault("malformed-body", (malformed,), "malformed_response", 1),
        Fault("safety-refusal", (safety,), "safety_refused", 1),
        Fault("quota-exhausted", (quota,), "quota_exhausted", 1),
        Fault("503-then-image", (overloaded, image), "", 2, (1.0,)),
        Fault("429-then-image", (rate_limited, image), "", 2, (retry_after,)),
    ]


# --- the four providers, each as a driver around its fake ---------------------------------


@dataclass
class Driver:
    name: str
    env: dict[str, str]
    script: Callable[[FakeServer, tuple[Responder, ...]], None]
    generations: Callable[[FakeServer], list[RecordedRequest]]


def _openai(fake: FakeServer) -> Driver:
    return Driver(
        "openai",
        {"OPENAI_API_KEY": "sk-test-fault-matrix", "OPENAI_BASE_URL": fake.url + "/v1"},
        lambda server, answers: server.on("POST", openai_api.GENERATIONS_PATH, *answers),
        lambda server: server.requests_to(openai_api.GENERATIONS_PATH),
    )


def _gemini(fake: FakeServer) -> Driver:
    return Driver(
        "gemini",
        {"GEMINI_API_KEY": "AIzaSyFAKE-fault-matrix", "GEMINI_BASE_URL": fake.url},
        lambda server, answers: server.on("POST", gemini_api.GENERATE_PATH, *answers),
        lambda server: server.requests_to(gemini_api.GENERATE_PATH),
    )


def _replicate(fake: FakeServer) -> Driver:
    return Driver(
        "replicate",
        {"REPLICATE_API_TOKEN": "r8_FaultMatrix0123", "REPLICATE_BASE_URL": fake.url},
        lambda server, answers: replicate_api.create_answers(server, *answers),
        replicate_api.creates,
    )


def _huggingface(fake: FakeServer) -> Driver:
    path = hf_api.image_path()
    return Driver(
        "huggingface",
        {"HF_TOKEN": "hf_faultMatrix0123", "HF_INFERENCE_BASE_URL": fake.url},
        lambda server, answers: server.on("POST", path, *answers),
        lambda server: [r for r in server.requests_to(path) if r.method == "POST"],
    )


def _openai_table(fake: FakeServer) -> list[Fault]:
    return _table(
        image=openai_api.image(1024, 1024),
        rate_limited=openai_api.rate_limited(retry_after=RETRY_AFTER),
        server_error=openai_api.server_error(),
        overloaded=openai_api.overloaded(),
        malformed=FakeResponse.json({"created": 1, "data": [{"b64_json": "bm90IGFuIGltYWdl"}]}),
        safety=openai_api.moderation_blocked(),
        quota=openai_api.insufficient_quota(),
    )


def _gemini_table(fake: FakeServer) -> list[Fault]:
    return _table(
        image=gemini_api.image(1024, 1024),
        rate_limited=gemini_api.rate_limited(retry_delay=None, retry_after=RETRY_AFTER),
        server_error=gemini_api.internal_error(),
        overloaded=gemini_api.overloaded(),
        malformed=FakeResponse(
            body=b'{"candidates": [{"content": ', headers={"Content-Type": "application/json"}
        ),
        safety=gemini_api.answer(None, finish_reason="IMAGE_SAFETY"),
        quota=gemini_api.free_tier_has_no_image_quota(),
    )


def _replicate_image(fake: FakeServer) -> FakeResponse:
    url = replicate_api.serve_file(fake, png_bytes(1024, 1024))
    return FakeResponse.json(replicate_api.prediction(fake, output=[url]), 201)


def _replicate_table(fake: FakeServer) -> list[Fault]:
    problem = replicate_api.problem
    return _table(
        image=_replicate_image(fake),
        rate_limited=problem(
            429,
            "Request was throttled",
            "Expected available in 1 second.",
            **{"Retry-After": RETRY_AFTER},
        ),
        server_error=problem(500, "Internal Server Error", "Something went wrong"),
        overloaded=problem(503, "Service Unavailable", "Please try again later"),
        malformed=FakeResponse(
            status=201, body=b"<html>502 Bad Gateway</html>", headers={"Content-Type": "text/html"}
        ),
        safety=FakeResponse.json(
            replicate_api.prediction(fake, status="failed", error="NSFW content detected."), 201
        ),
        quota=problem(402, "Insufficient credit", "You have insufficient credit to run this."),
    )


def _huggingface_table(fake: FakeServer) -> list[Fault]:
    return _table(
        image=hf_api.image(1024, 1024),
        rate_limited=hf_api.error(429, "Rate limit reached.", **{"Retry-After": RETRY_AFTER}),
        server_error=hf_api.error(500, "Internal Server Error"),
        overloaded=hf_api.error(503, "Service Unavailable"),
        malformed=FakeResponse(
            body=b"<html>gateway login</html>", headers={"Content-Type": "text/html"}
        ),
        safety=hf_api.error(400, "Potential NSFW content was detected in one or more images."),
        quota=hf_api.error(402, "You have exceeded your monthly included credits."),
    )


PROVIDERS: dict[str, tuple[Callable[[FakeServer], Driver], Callable[..., list[Fault]]]] = {
    "openai": (_openai, _openai_table),
    "gemini": (_gemini, _gemini_table),
    "replicate": (_replicate, _replicate_table),
    "huggingface": (_huggingface, _huggingface_table),
}
FAULT_IDS = [
    "timeout",
    "429-retry-after",
    "500",
    "503",
    "connection-dropped",
    "dropped-mid-response",
    "malformed-body",
    "safety-refusal",
    "quota-exhausted",
    "503-then-image",
    "429-then-image",
]


class _RecordedSleeps:
    """Stands in for `asyncio` where the retry policy waits (services.provider_calls):
    records every backoff wait.

    Waits up to a quarter second (the fakes' Retry-After) are really slept; longer ones
    (our default backoff) are recorded and skipped, so the table stays fast.
    """

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(seconds if seconds <= 0.25 else 0)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> _RecordedSleeps:
    recorder = _RecordedSleeps()
    monkeypatch.setattr(provider_calls, "asyncio", recorder)
    return recorder


@pytest.fixture
def hf_hub(fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The Hub half of Hugging Face on the same fake (the adapter asks it about the model)."""
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", fake.url)
    huggingface_provider._known_pipelines.clear()
    hf_api.serve_models(fake)
    yield
    huggingface_provider._known_pipelines.clear()


def _ledger_rows(user_id: int) -> list[tuple[Any, ...]]:
    with read_session() as db:
        entries = db.exec(
            select(CreditEntry).where(CreditEntry.user_id == user_id).order_by(CreditEntry.id)
        ).all()
        return [(e.id, e.amount, e.kind, e.idempotency_key) for e in entries]


def _holds(user_id: int) -> list[str]:
    with read_session() as db:
        return [h.status for h in db.exec(select(CreditHold).where(CreditHold.user_id == user_id))]


@pytest.mark.usefixtures("hf_hub")
@pytest.mark.parametrize("fault_id", FAULT_IDS)
@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_a_provider_fault_reaches_the_user_as_its_code_and_costs_nothing(
    provider: str,
    fault_id: str,
    migrated_db: Settings,
    fake: FakeServer,
    sleeps: _RecordedSleeps,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_driver, make_table = PROVIDERS[provider]
    driver = make_driver(fake)
    [fault] = [f for f in make_table(fake) if f.id == fault_id]
    slow_row = fault_id == "timeout"
    for name, value in {
        **driver.env,
        # The SDKs' own timeouts: short where the fake is slow, roomy elsewhere.
        "STUDIO_PROVIDER_TIMEOUT_SECONDS": "1" if slow_row else "10",
        "REPLICATE_POLL_INTERVAL": "0.01",
    }.items():
        monkeypatch.setenv(name, value)
    settings = reload_settings()
    # Our timeout (services.generation) below a second, which the environment cannot say.
    timeout = TIMEOUT_S if slow_row else 10
    fast = settings.model_copy(update={"provider_timeout_seconds": timeout})
    monkeypatch.setattr(generation, "get_settings", lambda: fast)
    driver.script(fake, fault.answers)
    user = make_user(credits=START_CREDITS)
    entries_before = _ledger_rows(user)

    status = run_generation(user, provider=provider, prompt=PROMPT, tier="standard")

    row = last_generation()
    assert len(driver.generations(fake)) == fault.requests
    assert sleeps.waits == pytest.approx(list(fault.waits))
    if fault.code:
        # What the studio and My Creations show: the taxonomy's plain message, no charge.
        assert (status, row.status, row.error_code) == ("failed", "failed", fault.code)
        assert row.error_message == ERROR_CLASSES[fault.code].user_message
        assert row.image_key is None
        assert _ledger_rows(user) == entries_before
        assert _holds(user) == [HoldStatus.RELEASED.value]
        assert credit_summary(user) == ledger.CreditSummary(balance=START_CREDITS, held=0)
        assert list(image_store().keys()) == []
    else:
        assert (status, row.status, row.error_code) == ("succeeded", "succeeded", None)
        new_entries = _ledger_rows(user)[len(entries_before) :]
        assert [(amount, kind) for _, amount, kind, _ in new_entries] == [(-PRICE, "capture")]
        assert _holds(user) == [HoldStatus.CAPTURED.value]
        assert credit_summary(user) == ledger.CreditSummary(balance=START_CREDITS - PRICE, held=0)
