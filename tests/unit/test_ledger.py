"""The credit ledger's operations, one behaviour at a time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import func, select

from studio_app.clock import utcnow
from studio_app.models import CreditEntry, CreditHold, HoldStatus
from studio_app.services import ledger
from studio_app.services.db import read_session, write_session
from studio_app.services.errors import (
    HoldNotOpen,
    IdempotencyConflict,
    InsufficientCredits,
    InvalidInput,
)
from studio_app.services.tiers import get_tier
from studio_app.tiers import rupees_for, tiers
from tests.factories import make_user

pytestmark = pytest.mark.usefixtures("migrated_db")


def _summary(user_id: int) -> ledger.CreditSummary:
    with read_session() as db:
        return ledger.summary(db, user_id)


def test_tier_prices_follow_the_price_table() -> None:
    assert [(t.id, t.aspect_ratio, t.width, t.height, t.credits) for t in tiers()] == [
        ("standard", "1:1", 1024, 1024, 1),
        ("premium", "3:2", 1536, 1024, 2),
        ("premium-wide", "16:9", 1792, 1008, 4),
    ]
    assert get_tier("premium-wide").rupees == 20
    assert rupees_for(10) == 50
    with pytest.raises(InvalidInput, match="Unknown size tier"):
        get_tier("ultra")


def test_grant_and_purchase_add_to_balance() -> None:
    user = make_user()
    with write_session() as db:
        ledger.grant(db, user, 5, idempotency_key="signup")
        ledger.purchase(db, user, 10, idempotency_key="order-1", reference="pack of 10")
    assert _summary(user) == ledger.CreditSummary(balance=15, held=0)


def test_same_idempotency_key_credits_once() -> None:
    user = make_user()
    for _ in range(3):
        with write_session() as db:
            entry = ledger.purchase(db, user, 10, idempotency_key="order-42")
    assert _summary(user).balance == 10
    with read_session() as db:
        assert ledger.statement(db, user)[0].entry_id == entry.id
        assert len(ledger.statement(db, user)) == 1


def test_reused_key_with_another_amount_is_refused() -> None:
    user = make_user()
    with write_session() as db:
        ledger.purchase(db, user, 10, idempotency_key="order-7")
    with pytest.raises(IdempotencyConflict), write_session() as db:
        ledger.purchase(db, user, 50, idempotency_key="order-7")
    assert _summary(user).balance == 10


def test_one_users_key_does_not_block_another_user() -> None:
    alice, bob = make_user(), make_user()
    with write_session() as db:
        ledger.purchase(db, alice, 10, idempotency_key="same-key")
        ledger.purchase(db, bob, 10, idempotency_key="same-key")
    assert _summary(alice).balance == 10
    assert _summary(bob).balance == 10


@pytest.mark.parametrize("amount", [0, -5, 2.5, True, "3", None])
def test_bad_amounts_are_refused_and_write_nothing(amount: object) -> None:
    user = make_user()
    with pytest.raises(InvalidInput), write_session() as db:
        ledger.purchase(db, user, amount, idempotency_key="k")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput), write_session() as db:
        ledger.place_hold(db, user, amount)  # type: ignore[arg-type]
    with read_session() as db:
        assert db.exec(select(func.count()).select_from(CreditEntry)).one() == 0
        assert db.exec(select(func.count()).select_from(CreditHold)).one() == 0


def test_missing_idempotency_key_is_refused() -> None:
    user = make_user()
    with pytest.raises(InvalidInput, match="idempotency key"), write_session() as db:
        ledger.grant(db, user, 5, idempotency_key="  ")
    assert _summary(user).balance == 0


def test_hold_reduces_available_not_balance() -> None:
    user = make_user(credits=5)
    with write_session() as db:
        ledger.place_hold(db, user, 4)
    summary = _summary(user)
    assert (summary.balance, summary.held, summary.available) == (5, 4, 1)


def test_hold_refused_when_available_cannot_cover_it() -> None:
    user = make_user(credits=5)
    with write_session() as db:
        ledger.place_hold(db, user, 4)
    with pytest.raises(InsufficientCredits) as refused, write_session() as db:
        ledger.place_hold(db, user, 2)
    assert refused.value.needed == 2
    assert refused.value.available == 1
    assert "you have 1 available" in refused.value.message
    assert _summary(user).held == 4


def test_capture_debits_exactly_the_hold_once() -> None:
    user = make_user(credits=5)
    with write_session() as db:
        hold = ledger.place_hold(db, user, 2)
    with write_session() as db:
        entry = ledger.capture(db, hold.id, reference="image abc")
    assert entry.amount == -2
    assert _summary(user) == ledger.CreditSummary(balance=3, held=0)
    with pytest.raises(HoldNotOpen), write_session() as db:
        ledger.capture(db, hold.id)
    assert _summary(user).balance == 3


def test_release_returns_the_credits_and_cannot_then_be_captured() -> None:
    user = make_user(credits=5)
    with write_session() as db:
        hold = ledger.place_hold(db, user, 4)
    with write_session() as db:
        ledger.release(db, hold.id)
        ledger.release(db, hold.id)  # a second release changes nothing
    assert _summary(user) == ledger.CreditSummary(balance=5, held=0)
    with pytest.raises(HoldNotOpen), write_session() as db:
        ledger.capture(db, hold.id)
    assert _summary(user).balance == 5


def test_captured_hold_cannot_be_released() -> None:
    user = make_user(credits=5)
    with write_session() as db:
        hold = ledger.place_hold(db, user, 1)
        ledger.capture(db, hold.id)
    with pytest.raises(HoldNotOpen), write_session() as db:
        ledger.release(db, hold.id)
    assert _summary(user).balance == 4


def test_refund_gives_a_capture_back_once() -> None:
    user = make_user(credits=5)
    with write_session() as db:
        hold = ledger.place_hold(db, user, 4)
        charge = ledger.capture(db, hold.id)
    with write_session() as db:
        ledger.refund(db, charge.id, reference="provider returned a blank image")
        ledger.refund(db, charge.id)
    assert _summary(user).balance == 5


def test_entries_name_the_hold_they_captured_and_the_charge_they_refunded() -> None:
    user = make_user(credits=5)
    with write_session() as db:
        hold = ledger.place_hold(db, user, 4)
        charge = ledger.capture(db, hold.id)
        refund = ledger.refund(db, charge.id or 0)
    assert (charge.hold_id, charge.refunds_entry_id) == (hold.id, None)
    assert (refund.hold_id, refund.refunds_entry_id) == (None, charge.id)
    with read_session() as db:
        found = ledger.capture_of(db, hold.id or 0)
        assert found is not None and found.id == charge.id
        refunded = ledger.refund_of(db, charge.id or 0)
        assert refunded is not None and refunded.id == refund.id
        assert ledger.refund_of(db, refund.id or 0) is None


def test_expired_holds_are_swept_and_cannot_be_captured() -> None:
    alice, bob = make_user(credits=5), make_user(credits=5)
    start = utcnow()
    with write_session() as db:
        stale = ledger.place_hold(db, alice, 3, now=start - timedelta(hours=2))
        fresh = ledger.place_hold(db, bob, 1, now=start)
    # Until the sweeper runs, an expired hold still counts as held.
    assert _summary(alice).available == 2
    with pytest.raises(HoldNotOpen, match="expired"), write_session() as db:
        ledger.capture(db, stale.id, now=start)
    with write_session() as db:
        released = ledger.sweep_expired_holds(db, now=start)
    assert released == [stale.id]
    with read_session() as db:
        assert db.get(CreditHold, stale.id).status == HoldStatus.RELEASED.value
        assert db.get(CreditHold, fresh.id).status == HoldStatus.OPEN.value
    assert _summary(alice) == ledger.CreditSummary(balance=5, held=0)
    assert _summary(bob) == ledger.CreditSummary(balance=5, held=1)
    with pytest.raises(HoldNotOpen), write_session() as db:
        ledger.capture(db, stale.id, now=start)


def test_a_new_hold_may_use_credits_of_an_expired_one() -> None:
    user = make_user(credits=4)
    start = utcnow()
    with write_session() as db:
        ledger.place_hold(db, user, 4, now=start - timedelta(hours=2))
    with write_session() as db:
        ledger.place_hold(db, user, 4, now=start)
    assert _summary(user) == ledger.CreditSummary(balance=4, held=4)


def test_statement_lists_entries_with_running_balance() -> None:
    user = make_user()
    with write_session() as db:
        ledger.grant(db, user, 5, idempotency_key="signup", reference="Welcome credits")
        ledger.purchase(db, user, 10, idempotency_key="o1", reference="10 credits")
        hold = ledger.place_hold(db, user, 4)
        ledger.capture(db, hold.id, reference="Image")
    with read_session() as db:
        lines = ledger.statement(db, user)
    assert [(line.kind, line.amount, line.balance_after) for line in lines] == [
        ("grant", 5, 5),
        ("purchase", 10, 15),
        ("capture", -4, 11),
    ]


def test_failed_transaction_leaves_no_trace() -> None:
    user = make_user(credits=5)
    with pytest.raises(RuntimeError), write_session() as db:
        ledger.place_hold(db, user, 3)
        ledger.purchase(db, user, 10, idempotency_key="o1")
        raise RuntimeError("crash in the middle")
    assert _summary(user) == ledger.CreditSummary(balance=5, held=0)
