"""A hundred people generating and buying credits at the same moment, on the SQLite default.

Real threads, each with its own event loop for the provider call, all released at once
by a barrier: every person starts two generations (offline provider), buys a pack through
the test gateway, and runs both generations to their end. At soak size (1,000 people) the
people outnumber the threads ten to one, as they outnumber a server's worker threads: a
server takes more requests than it has threads and queues the rest, it does not start a
thousand threads that each wait for one of the database's connections. No error of any kind may
reach any of them ("database is locked" included), and the ledger must add up exactly:
every hold captured, every purchase credited once, Σ entries equal to what was promised.

The offline provider's drawing is swapped for a tiny PNG: this test is about the
database under contention, not about Pillow's speed on two shared cores.
"""

from __future__ import annotations

import asyncio
import io
import logging
import threading
import time
from collections import Counter

import pytest
from PIL import Image
from sqlmodel import func, select

from studio_app.models import CreditEntry, CreditHold, GeneratedImage, Payment
from studio_app.providers import offline
from studio_app.providers.base import ImageRequest, ProviderImage
from studio_app.services import generation, ledger, payments
from studio_app.services.db import read_session
from studio_app.services.generation import GenerationRequest
from studio_app.settings import Settings, reload_settings
from tests.factories import make_user
from tests.soak import scaled

USERS = scaled(100, 1000)
THREADS = min(USERS, 100)
START = 3
PACK = 10
COSTS = {"standard": 1, "premium": 2}


@pytest.fixture
def busy_studio(migrated_db: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("STUDIO_TEST_PAYMENT_GATEWAY", "1")

    def flat_png(request: ImageRequest) -> ProviderImage:
        buffer = io.BytesIO()
        # One flat colour at the tier's real size: cheap to encode, honest to the size check.
        width, height = request.tier.width, request.tier.height
        Image.new("RGB", (width, height), (len(request.prompt) % 255, 90, 160)).save(buffer, "PNG")
        return ProviderImage(buffer.getvalue(), width, height, offline.MODEL)

    monkeypatch.setattr(offline, "_render_png", flat_png)
    return reload_settings()


def _one_person(user_id: int, index: int) -> list[str]:
    """What one person's browser tabs do; returns the final statuses."""
    buy_first = index % 2 == 0
    if buy_first:
        payments.buy_pack(user_id, PACK, f"contention-key-{index:04d}-xxxxxxxx")
    tickets = [
        generation.start(user_id, GenerationRequest(prompt=f"Person {index} {tier}", tier=tier))
        for tier in COSTS
    ]
    if not buy_first:
        payments.buy_pack(user_id, PACK, f"contention-key-{index:04d}-xxxxxxxx")

    async def finish() -> list[str]:
        return list(await asyncio.gather(*(generation.run(t) for t in tickets)))

    return asyncio.run(finish())  # this thread's own event loop


def test_a_hundred_people_generating_and_buying_at_once_lose_nothing(
    busy_studio: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    users = [make_user(credits=START) for _ in range(USERS)]
    barrier = threading.Barrier(THREADS)
    outcomes: list[object] = [None] * USERS

    def serve(first: int) -> None:
        barrier.wait()
        for index in range(first, USERS, THREADS):
            try:
                outcomes[index] = _one_person(users[index], index)
            except BaseException as exc:  # every error is an error a user would see
                outcomes[index] = exc

    threads = [threading.Thread(target=serve, args=(i,)) for i in range(THREADS)]
    # A hang guard, not a speed check: ~70 ms of CPU a person on 2 cores, with a wide margin.
    deadline = time.monotonic() + 30 + 0.3 * USERS
    with caplog.at_level(logging.WARNING):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
    assert not [t for t in threads if t.is_alive()], "some people were still waiting: a hang"

    errors = [o for o in outcomes if not isinstance(o, list)]
    assert errors == [], errors[:5]
    assert Counter(s for o in outcomes for s in o) == {"succeeded": 2 * USERS}  # type: ignore[union-attr]
    assert "locked" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

    spent = sum(COSTS.values())
    with read_session() as db:
        for user in users:
            assert ledger.summary(db, user) == ledger.CreditSummary(START + PACK - spent, 0)
        assert db.exec(select(func.sum(CreditEntry.amount))).one() == USERS * (START + PACK - spent)
        kinds = Counter(db.exec(select(CreditEntry.kind)).all())
        assert kinds == {"grant": USERS, "purchase": USERS, "capture": 2 * USERS}
        holds = Counter(db.exec(select(CreditHold.status)).all())
        assert holds == {"captured": 2 * USERS}
        assert Counter(db.exec(select(Payment.status)).all()) == {"completed": USERS}
        assert Counter(db.exec(select(GeneratedImage.status)).all()) == {"succeeded": 2 * USERS}
