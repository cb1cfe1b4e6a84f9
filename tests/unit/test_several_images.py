"""Several images per request: each its own creation, hold and charge; one job."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops, ImageStat
from sqlmodel import col, func, select

from studio_app.models import CreditEntry, CreditHold, GeneratedImage, HoldStatus
from studio_app.services import generation, ledger
from studio_app.services.db import read_session
from studio_app.services.errors import InsufficientCredits, InvalidInput
from studio_app.services.generation import GenerationRequest, TooManyJobs
from studio_app.services.throttle import Throttled
from studio_app.settings import Settings, reload_settings
from studio_app.storage import image_store
from tests import aio
from tests.factories import make_user
from tests.fakes import openai_api, replicate_api
from tests.fakes.server import FakeServer
from tests.generation_helpers import use_replicate_at


@pytest.fixture(autouse=True)
def fault_provider_enabled(migrated_db: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("STUDIO_ENABLE_FAULT_PROVIDER", "1")
    return reload_settings()


def _make(user_id: int, request: GenerationRequest) -> tuple[generation.Ticket, str]:
    async def go() -> tuple[generation.Ticket, str]:
        ticket = generation.start(user_id, request)
        return ticket, await generation.run(ticket)

    return aio.run(go())


def _rows(request_id: str) -> list[GeneratedImage]:
    with read_session() as db:
        return generation.request_rows(db, request_id)


def _summary(user_id: int) -> ledger.CreditSummary:
    with read_session() as db:
        return ledger.summary(db, user_id)


def _charges(user_id: int) -> list[int]:
    with read_session() as db:
        return list(
            db.exec(
                select(CreditEntry.amount).where(
                    CreditEntry.user_id == user_id, CreditEntry.kind == "capture"
                )
            ).all()
        )


def _grey(key: str | None) -> Image.Image:
    assert key is not None
    data = image_store().read(key)
    assert data is not None
    with Image.open(io.BytesIO(data)) as picture:
        return picture.convert("L").resize((32, 32))


def test_four_images_are_four_creations_each_charged_once() -> None:
    user = make_user(credits=10)
    ticket, status = _make(user, GenerationRequest(prompt="A lighthouse at dawn", count=4))
    assert status == "succeeded"
    assert ticket.cost == 4 and len(ticket.images) == 4
    rows = _rows(ticket.public_id)
    assert [row.request_index for row in rows] == [0, 1, 2, 3]
    assert rows[0].public_id == ticket.public_id  # the request's id is its first image's
    assert len({row.public_id for row in rows}) == 4
    assert all(row.status == "succeeded" and row.image_key for row in rows)
    assert _charges(user) == [-1, -1, -1, -1]
    assert _summary(user) == ledger.CreditSummary(balance=6, held=0)
    # Four candidates, not one picture four times.
    pictures = [_grey(row.image_key) for row in rows]
    for first in range(4):
        for second in range(first + 1, 4):
            difference = ImageChops.difference(pictures[first], pictures[second])
            assert ImageStat.Stat(difference).mean[0] > 5, (first, second)


def test_three_of_four_delivered_charge_three_and_release_the_fourth() -> None:
    user = make_user(credits=10)
    request = GenerationRequest(
        prompt="A kite #fail=safety_refused #fail_image=2",
        provider="fault",
        tier="premium",
        count=4,
    )
    ticket, status = _make(user, request)
    assert status == "succeeded"
    rows = _rows(ticket.public_id)
    assert [row.status for row in rows] == ["succeeded", "succeeded", "failed", "succeeded"]
    assert (rows[2].error_code, rows[2].image_key) == ("safety_refused", None)
    assert _charges(user) == [-2, -2, -2]
    assert _summary(user) == ledger.CreditSummary(balance=10 - 3 * 2, held=0)
    with read_session() as db:
        holds = db.exec(
            select(CreditHold.status).where(col(CreditHold.generation_id).in_([r.id for r in rows]))
        ).all()
    assert sorted(holds) == sorted([HoldStatus.CAPTURED.value] * 3 + [HoldStatus.RELEASED.value])


def test_none_delivered_charges_nothing_and_says_why_for_each() -> None:
    user = make_user(credits=10)
    request = GenerationRequest(prompt="Ink #fail=bad_request", provider="fault", count=3)
    ticket, status = _make(user, request)
    assert status == "failed"
    assert [row.error_code for row in _rows(ticket.public_id)] == ["bad_request"] * 3
    assert _summary(user) == ledger.CreditSummary(balance=10, held=0)


def test_too_few_credits_for_every_image_starts_nothing() -> None:
    user = make_user(credits=3)
    with pytest.raises(InsufficientCredits) as refused:
        generation.start(user, GenerationRequest(prompt="Four gulls", count=4))
    assert str(refused.value) == "This needs 4 credits, but you have 3 available."
    with read_session() as db:
        assert db.exec(select(func.count()).select_from(GeneratedImage)).one() == 0
        assert db.exec(select(func.count()).select_from(CreditHold)).one() == 0
    assert _summary(user) == ledger.CreditSummary(balance=3, held=0)


@pytest.mark.parametrize("count", [0, 5, -1, 2.0, "2", None, True])
def test_a_count_outside_one_to_four_is_refused(count: object) -> None:
    user = make_user(credits=10)
    with pytest.raises(InvalidInput) as refused:
        generation.start(user, GenerationRequest(prompt="Gulls", count=count))  # type: ignore[arg-type]
    assert refused.value.field == "count"
    assert str(refused.value) == "Ask for 1 to 4 images at a time."
    assert _summary(user) == ledger.CreditSummary(balance=10, held=0)


def test_n_images_count_n_per_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_GENERATIONS_PER_MINUTE", "5")
    reload_settings()
    user = make_user(credits=20)
    generation.start(user, GenerationRequest(prompt="Owls", count=4))
    with pytest.raises(Throttled):
        generation.start(user, GenerationRequest(prompt="Owls", count=2))
    generation.start(user, GenerationRequest(prompt="Owls", count=1))  # the fifth


def test_a_request_for_four_is_one_job_in_the_concurrent_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STUDIO_MAX_CONCURRENT_GENERATIONS", "2")
    reload_settings()
    user = make_user(credits=20)
    generation.start(user, GenerationRequest(prompt="Foxes", count=4))
    generation.start(user, GenerationRequest(prompt="Foxes", count=4))
    with pytest.raises(TooManyJobs):
        generation.start(user, GenerationRequest(prompt="Foxes"))


def test_a_second_run_of_the_job_makes_only_what_is_still_pending() -> None:
    """A job may run twice (a worker's message redelivered): nothing is made or charged
    twice."""
    user = make_user(credits=10)
    ticket, _ = _make(user, GenerationRequest(prompt="Herons", count=2))
    before = [row.image_key for row in _rows(ticket.public_id)]
    assert aio.run(generation.run(ticket)) == "succeeded"
    assert [row.image_key for row in _rows(ticket.public_id)] == before
    assert _charges(user) == [-1, -1]


def test_openai_draws_several_in_one_call_and_fewer_delivered_are_charged_fewer(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, openai_api.generations(at_most=3))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-batch")
    monkeypatch.setenv("OPENAI_BASE_URL", f"{fake.url}{openai_api.BASE_PATH}")
    reload_settings()
    user = make_user(credits=10)
    ticket, status = _make(user, GenerationRequest(prompt="Bees", provider="openai", count=4))
    assert status == "succeeded"
    calls = fake.requests_to(openai_api.GENERATIONS_PATH)
    assert [call.json()["n"] for call in calls] == [4]
    rows = _rows(ticket.public_id)
    assert [row.status for row in rows] == ["succeeded"] * 3 + ["failed"]
    assert rows[3].error_code == "no_image"
    assert _charges(user) == [-1, -1, -1]
    assert _summary(user) == ledger.CreditSummary(balance=7, held=0)


def test_more_images_than_the_per_minute_limit_is_refused_clearly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STUDIO_GENERATIONS_PER_MINUTE", "3")
    reload_settings()
    user = make_user(credits=20)
    with pytest.raises(Throttled) as refused:
        generation.start(user, GenerationRequest(prompt="Owls", count=4))
    assert str(refused.value) == (
        "That is more than the limit of 3 images per minute: ask for 3 or fewer."
    )
    generation.start(user, GenerationRequest(prompt="Owls", count=3))


@pytest.mark.parametrize(("seed", "calls"), [(None, [(2, None)]), (7, [(1, 7), (1, 8)])])
def test_flux_1_batches_unless_a_seed_makes_each_image_its_own_call(
    seed: int | None,
    calls: list[tuple[int, int | None]],
    fake: FakeServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    replicate_api.create_answers(fake, replicate_api.draws(fake))
    monkeypatch.setenv("STUDIO_REPLICATE_MODEL", replicate_api.SCHNELL)
    use_replicate_at(fake, monkeypatch)
    user = make_user(credits=10)
    request = GenerationRequest(prompt="Moths", provider="replicate", count=2, seed=seed)
    ticket, status = _make(user, request)
    assert status == "succeeded"
    sent = sorted(
        (call.json()["input"]["num_outputs"], call.json()["input"].get("seed"))
        for call in replicate_api.creates(fake)
    )
    assert sent == calls
    # Each image records the seed that made it: it can be made again alone.
    assert [row.seed for row in _rows(ticket.public_id)] == (
        [None, None] if seed is None else [7, 8]
    )
    assert _summary(user) == ledger.CreditSummary(balance=8, held=0)
