"""Real concurrency against the real SQLite file: no overdraft, no double credit."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from sqlmodel import func, select

from studio_app.models import CreditEntry, CreditHold, HoldStatus
from studio_app.services import ledger
from studio_app.services.db import read_session, write_session
from studio_app.services.errors import InsufficientCredits
from tests.factories import make_user

pytestmark = pytest.mark.usefixtures("migrated_db")


def _run_together(count: int, work: Callable[[int], object]) -> list[object]:
    """Run `work(i)` in `count` threads released at the same instant."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def runner(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # the test inspects every outcome
            results[i] = exc

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_twenty_concurrent_holds_never_overdraw() -> None:
    user = make_user(credits=5)

    def take_one(_i: int) -> int:
        with write_session() as db:
            return ledger.place_hold(db, user, 1).id

    results = _run_together(20, take_one)
    outcomes = Counter(type(r).__name__ for r in results)
    assert outcomes == {"int": 5, "InsufficientCredits": 15}, results
    assert all(isinstance(r, (int, InsufficientCredits)) for r in results)

    hold_ids = [r for r in results if isinstance(r, int)]
    with write_session() as db:
        for hold_id in hold_ids[:3]:
            ledger.capture(db, hold_id)
        for hold_id in hold_ids[3:]:
            ledger.release(db, hold_id)
    with write_session() as db:
        for _ in hold_ids[3:]:
            hold = ledger.place_hold(db, user, 1)
            ledger.capture(db, hold.id)

    with read_session() as db:
        summary = ledger.summary(db, user)
        open_holds = db.exec(
            select(func.count())
            .select_from(CreditHold)
            .where(CreditHold.status == HoldStatus.OPEN.value)
        ).one()
        entry_sum = db.exec(select(func.sum(CreditEntry.amount))).one()
        captures = db.exec(
            select(func.count()).select_from(CreditEntry).where(CreditEntry.kind == "capture")
        ).one()
    assert open_holds == 0
    assert summary == ledger.CreditSummary(balance=0, held=0)
    assert entry_sum == 0
    assert captures == 5


def test_same_idempotency_key_used_concurrently_credits_once() -> None:
    user = make_user()

    def buy(_i: int) -> int:
        with write_session() as db:
            return ledger.purchase(db, user, 10, idempotency_key="checkout-1").id

    results = _run_together(12, buy)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(set(results)) == 1
    with read_session() as db:
        assert ledger.balance(db, user) == 10


def test_concurrent_purchases_and_captures_keep_exact_totals() -> None:
    users = [make_user(credits=5) for _ in range(4)]

    def mixed(i: int) -> str:
        user = users[(i // 2) % len(users)]
        if i % 2:
            with write_session() as db:
                ledger.purchase(db, user, 2, idempotency_key=f"order-{i}")
            return "bought"
        with write_session() as db:
            hold = ledger.place_hold(db, user, 1)
        with write_session() as db:
            ledger.capture(db, hold.id)
        return "spent"

    results = _run_together(40, mixed)
    assert Counter(results) == {"bought": 20, "spent": 20}
    with read_session() as db:
        total = sum(ledger.balance(db, u) for u in users)
    assert total == 4 * 5 + 20 * 2 - 20
