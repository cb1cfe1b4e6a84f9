"""Cancelling a request: what is not made yet is not made, costs nothing, and the provider
is told to stop (a Replicate prediction is cancelled at Replicate)."""

from __future__ import annotations

import asyncio

import pytest

from studio_app.providers.registry import get_provider
from studio_app.services import cancellation, generation, jobs, ledger
from studio_app.services.db import read_session
from studio_app.services.errors import NotFound
from studio_app.services.generation import GenerationRequest
from studio_app.settings import Settings, reload_settings
from studio_app.storage import image_store
from tests import aio
from tests.factories import make_user
from tests.fakes import replicate_api
from tests.fakes.replicate_api import CANCEL_PATH
from tests.fakes.server import FakeServer
from tests.generation_helpers import use_replicate_at


@pytest.fixture(autouse=True)
def fault_provider_enabled(migrated_db: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("STUDIO_ENABLE_FAULT_PROVIDER", "1")
    return reload_settings()


def _statuses(request_id: str) -> list[tuple[str, str | None]]:
    with read_session() as db:
        return [(row.status, row.error_code) for row in generation.request_rows(db, request_id)]


def _summary(user_id: int) -> ledger.CreditSummary:
    with read_session() as db:
        return ledger.summary(db, user_id)


async def _until(condition, what: str, within_s: float = 30) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(within_s / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {within_s} s: {what}")


def test_a_cancel_mid_call_cancels_the_predictions_at_replicate_and_charges_nothing(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    replicate_api.processing_forever(fake)
    use_replicate_at(fake, monkeypatch)
    user = make_user(credits=10)

    async def go() -> tuple[generation.Ticket, list[str]]:
        request = GenerationRequest(prompt="Lanterns", provider="replicate", count=2)
        ticket = await jobs.submit(user, request)
        await _until(lambda: len(replicate_api.creates(fake)) == 2, "both predictions made")
        cancelled = await jobs.cancel(user, ticket.public_id)
        await asyncio.wait_for(jobs.wait(ticket.public_id), 30)
        return ticket, cancelled

    ticket, cancelled = aio.run(go())
    assert cancelled == [image.public_id for image in ticket.images]
    assert _statuses(ticket.public_id) == [("failed", "cancelled")] * 2
    assert len(fake.requests_to(CANCEL_PATH)) == 2  # Replicate was told to stop both
    assert _summary(user) == ledger.CreditSummary(balance=10, held=0)
    assert list(image_store().listing()) == []


def test_a_request_cancelled_before_its_call_asks_the_provider_for_nothing() -> None:
    user = make_user(credits=10)
    prompt = "Kites in the wind"
    ticket = generation.start(user, GenerationRequest(prompt=prompt, provider="fault", count=3))
    assert cancellation.cancel_request(user, ticket.public_id) == [
        image.public_id for image in ticket.images
    ]
    assert _summary(user) == ledger.CreditSummary(balance=10, held=0)
    # The job runs later (it was queued): nothing is asked for, nothing charged.
    assert aio.run(generation.run(ticket)) == "failed"
    assert get_provider("fault").calls[prompt] == 0
    assert _statuses(ticket.public_id) == [("failed", "cancelled")] * 3
    assert _summary(user) == ledger.CreditSummary(balance=10, held=0)


def test_only_the_owner_cancels_and_a_finished_request_stays_as_it_is() -> None:
    owner, stranger = make_user(credits=10), make_user(credits=10)
    ticket = generation.start(owner, GenerationRequest(prompt="Moths", count=2))
    with pytest.raises(NotFound):
        cancellation.cancel_request(stranger, ticket.public_id)
    with pytest.raises(NotFound):
        cancellation.cancel_request(owner, "no-such-request")
    assert _statuses(ticket.public_id) == [("pending", None)] * 2

    assert aio.run(generation.run(ticket)) == "succeeded"
    assert cancellation.cancel_request(owner, ticket.public_id) == []
    assert _statuses(ticket.public_id) == [("succeeded", None)] * 2
    assert _summary(owner) == ledger.CreditSummary(balance=8, held=0)
