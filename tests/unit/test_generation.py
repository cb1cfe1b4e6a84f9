"""The generation path with the offline and the fault-injecting provider."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat
from sqlmodel import func, select

from studio_app.models import CreditHold, GeneratedImage, HoldStatus, ImageTemplate
from studio_app.providers.base import ERROR_CLASSES
from studio_app.providers.registry import get_provider
from studio_app.services import catalog, generation, jobs, ledger
from studio_app.services.db import read_session, write_session
from studio_app.services.errors import InsufficientCredits, InvalidInput
from studio_app.services.generation import GenerationRequest, TooManyJobs
from studio_app.settings import Settings, get_settings, reload_settings
from studio_app.storage import image_store
from tests import aio
from tests.app_server import free_port
from tests.factories import make_user


@pytest.fixture(autouse=True)
def fault_provider_enabled(migrated_db: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("STUDIO_ENABLE_FAULT_PROVIDER", "1")
    return reload_settings()


def _generate(user_id: int, request: GenerationRequest) -> str:
    async def go() -> str:
        ticket = generation.start(user_id, request)
        return await generation.run(ticket)

    return aio.run(go())


def _row(public_id: str | None = None) -> GeneratedImage:
    with read_session() as db:
        query = select(GeneratedImage).order_by(GeneratedImage.id.desc())
        if public_id:
            query = query.where(GeneratedImage.public_id == public_id)
        return db.exec(query).first()


def _summary(user_id: int) -> ledger.CreditSummary:
    with read_session() as db:
        return ledger.summary(db, user_id)


def _counts() -> tuple[int, int]:
    with read_session() as db:
        rows = db.exec(select(func.count()).select_from(GeneratedImage)).one()
        holds = db.exec(select(func.count()).select_from(CreditHold)).one()
    return rows, holds


@pytest.mark.parametrize(
    ("tier", "size", "price"),
    [
        ("standard", (1024, 1024), 1),
        ("premium", (1536, 1024), 2),
        ("premium-wide", (1792, 1008), 4),
    ],
)
def test_success_stores_the_image_and_captures_exactly_the_price(
    tier: str, size: tuple[int, int], price: int, migrated_db: Settings
) -> None:
    user = make_user(credits=5)
    status = _generate(user, GenerationRequest(prompt="A red kite over a green hill", tier=tier))
    assert status == "succeeded"
    row = _row()
    assert (row.status, row.width, row.height, row.cost_credits) == ("succeeded", *size, price)
    assert row.finished_at is not None and row.duration_ms is not None
    with Image.open(io.BytesIO(image_store().read(row.image_key))) as original:
        assert (original.format, original.size) == ("PNG", size)
    with Image.open(io.BytesIO(image_store().read(row.thumbnail_key))) as thumb:
        assert thumb.format == "WEBP"
        assert max(thumb.size) <= 384
    assert _summary(user) == ledger.CreditSummary(balance=5 - price, held=0)
    with read_session() as db:
        hold = db.exec(select(CreditHold).where(CreditHold.generation_id == row.id)).one()
    assert hold.status == HoldStatus.CAPTURED.value


def test_different_prompts_give_different_images() -> None:
    user = make_user(credits=5)
    _generate(user, GenerationRequest(prompt="Lighthouse at dawn, calm sea"))
    first = image_store().read(_row().image_key)
    _generate(user, GenerationRequest(prompt="Neon city street in the rain"))
    second = image_store().read(_row().image_key)
    with Image.open(io.BytesIO(first)) as a, Image.open(io.BytesIO(second)) as b:
        small_a = a.convert("L").resize((32, 32))
        small_b = b.convert("L").resize((32, 32))
        mean_difference = ImageStat.Stat(ImageChops.difference(small_a, small_b)).mean[0]
    assert mean_difference > 10


@pytest.mark.parametrize("code", sorted(ERROR_CLASSES))
def test_every_provider_error_releases_the_hold_and_records_its_code(code: str) -> None:
    user = make_user(credits=5)
    status = _generate(
        user, GenerationRequest(prompt=f"A cat #fail={code}", provider="fault", tier="premium")
    )
    assert status == "failed"
    row = _row()
    assert (row.status, row.error_code) == ("failed", code)
    assert row.error_message == ERROR_CLASSES[code].user_message
    assert row.image_key is None
    assert _summary(user) == ledger.CreditSummary(balance=5, held=0)
    expected_calls = generation.PROVIDER_ATTEMPTS if ERROR_CLASSES[code].retryable else 1
    assert get_provider("fault").calls[f"A cat #fail={code}"] == expected_calls


def test_a_transient_error_is_retried_and_then_succeeds() -> None:
    user = make_user(credits=5)
    prompt = "A boat #fail=rate_limited #fail_times=1"
    assert _generate(user, GenerationRequest(prompt=prompt, provider="fault")) == "succeeded"
    assert get_provider("fault").calls[prompt] == 2
    assert _summary(user).balance == 4


def test_a_provider_that_does_not_answer_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_PROVIDER_TIMEOUT_SECONDS", "1")
    monkeypatch.setattr(generation, "PROVIDER_ATTEMPTS", 1)
    reload_settings()
    user = make_user(credits=5)
    _generate(user, GenerationRequest(prompt="Slow #delay=5", provider="fault"))
    assert _row().error_code == "unavailable"
    assert _summary(user) == ledger.CreditSummary(balance=5, held=0)


def test_bytes_that_are_not_an_image_are_refused() -> None:
    user = make_user(credits=5)
    _generate(user, GenerationRequest(prompt="Junk #return=garbage", provider="fault"))
    row = _row()
    assert (row.status, row.error_code) == ("failed", "malformed_response")
    assert _summary(user).balance == 5
    assert list(image_store().keys()) == []


def test_storage_failure_releases_the_hold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if get_settings().storage_url:  # the scaled pass: the bucket's server does not answer
        monkeypatch.setenv("STUDIO_S3_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    else:
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("a file where the image folder should be")
        monkeypatch.setenv("STUDIO_IMAGES_DIR", str(blocker / "images"))
    reload_settings()
    user = make_user(credits=5)
    _generate(user, GenerationRequest(prompt="A quiet forest"))
    row = _row()
    assert (row.status, row.error_code) == ("failed", "storage_failed")
    assert "could not save" in row.error_message
    assert _summary(user) == ledger.CreditSummary(balance=5, held=0)


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (GenerationRequest(prompt="   "), "prompt"),
        (GenerationRequest(prompt="x" * 2001), "prompt"),
        (GenerationRequest(prompt="bell \x07 character"), "prompt"),
        (GenerationRequest(prompt="ok", tier="huge"), "tier"),
        (GenerationRequest(prompt="ok", provider="dall-e-9"), "provider"),
        (GenerationRequest(prompt="ok", template_id=99999), "template_id"),
        (GenerationRequest(prompt="ok", seed=-1), "seed"),
        (GenerationRequest(prompt="ok", negative_prompt="n" * 1001), "negative_prompt"),
    ],
)
def test_bad_requests_are_refused_and_write_nothing(
    request_: GenerationRequest, field: str
) -> None:
    user = make_user(credits=5)
    with pytest.raises(InvalidInput) as refused:
        generation.start(user, request_)
    assert refused.value.field == field
    assert _counts() == (0, 0)
    assert _summary(user).balance == 5


def test_emoji_and_right_to_left_prompts_are_fine() -> None:
    user = make_user(credits=5)
    prompt = "غروب الشمس فوق البحر 🌅 with a small boat"
    assert _generate(user, GenerationRequest(prompt=prompt)) == "succeeded"
    assert _row().prompt == prompt


def test_an_inactive_template_cannot_be_used() -> None:
    with write_session() as db:
        catalog.seed_catalog(db)
        template = db.exec(select(ImageTemplate)).first()
        template.is_active = False
        db.add(template)
        template_id = template.id
    user = make_user(credits=5)
    with pytest.raises(InvalidInput, match="not available"):
        generation.start(user, GenerationRequest(prompt="ok", template_id=template_id))


def test_not_enough_credits_writes_nothing() -> None:
    user = make_user(credits=3)
    with pytest.raises(InsufficientCredits):
        generation.start(user, GenerationRequest(prompt="A wide view", tier="premium-wide"))
    assert _counts() == (0, 0)


def test_the_concurrent_job_limit() -> None:
    user = make_user(credits=20)

    async def scenario() -> list[str]:
        tickets = [
            await jobs.submit(
                user, GenerationRequest(prompt=f"Slow {i} #delay=0.5", provider="fault")
            )
            for i in range(3)
        ]
        with pytest.raises(TooManyJobs, match="3 generations in progress"):
            await jobs.submit(user, GenerationRequest(prompt="One too many"))
        for ticket in tickets:
            await jobs.wait(ticket.public_id)
        await jobs.submit(user, GenerationRequest(prompt="Now there is room"))
        await asyncio.sleep(0)
        statuses = []
        while jobs.running_jobs():
            await asyncio.sleep(0.05)
        with read_session() as db:
            statuses = [r.status for r in db.exec(select(GeneratedImage)).all()]
        return statuses

    assert aio.run(scenario()) == ["succeeded"] * 4
    assert _summary(user).balance == 16


def test_a_job_keeps_running_when_its_waiter_goes_away() -> None:
    user = make_user(credits=5)

    async def scenario() -> str:
        ticket = await jobs.submit(
            user, GenerationRequest(prompt="Slow #delay=0.3", provider="fault")
        )
        waiter = asyncio.create_task(jobs.wait(ticket.public_id))
        await asyncio.sleep(0.05)
        waiter.cancel()  # the browser tab closed
        while jobs.running_jobs():
            await asyncio.sleep(0.05)
        return ticket.public_id

    public_id = aio.run(scenario())
    assert _row(public_id).status == "succeeded"
    assert _summary(user).balance == 4
