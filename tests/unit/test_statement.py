"""The statement a user reads: plain words, newest first, running balance."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from studio_app.models import GeneratedImage
from studio_app.services import ledger, payments
from studio_app.services.db import write_session
from studio_app.services.statement import format_when, statement
from studio_app.settings import Settings, reload_settings
from tests.factories import make_account, make_user


@pytest.fixture
def gateway_on(migrated_db: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("STUDIO_TEST_PAYMENT_GATEWAY", "1")
    return reload_settings()


def _charge_image(user_id: int, tier: str, price: int) -> int:
    """An image paid for (hold → capture); returns the capture entry id."""
    with write_session() as db:
        row = GeneratedImage(
            public_id=f"pub{tier}{price}",
            user_id=user_id,
            prompt="p",
            provider="offline",
            tier=tier,
        )
        db.add(row)
        db.flush()
        hold = ledger.place_hold(db, user_id, price, generation_id=row.id)
        return ledger.capture(db, hold.id, reference=f"Image {row.public_id} ({tier})").id or 0


def test_every_entry_in_plain_words_newest_first_with_running_balance(
    gateway_on: Settings,
) -> None:
    signed = make_account()  # 5 welcome credits
    user = signed.user_id
    payments.buy_pack(user, 50, "statement-key-00001")
    _charge_image(user, "premium", 2)
    wide = _charge_image(user, "premium-wide", 4)
    with write_session() as db:
        ledger.refund(db, wide, reference="Image pubpremium-wide4 was lost")
        ledger.grant(db, user, 3, idempotency_key="sorry", reference="Sorry for the outage")

    rows = statement(user)

    assert [(r.description, r.amount_label, r.balance_after) for r in rows] == [
        ("Credits from Studio — Sorry for the outage", "+3", 56),
        ("Refund — Premium wide 16:9 image", "+4", 53),
        ("Image — Premium wide 16:9", "−4", 49),
        ("Image — Premium 3:2", "−2", 53),
        ("Bought 50 credits (₹250)", "+50", 55),
        ("Welcome credits", "+5", 5),
    ]
    # What a person reads never carries the internal references (row ids).
    assert not any("pub" in r.description for r in rows)


def test_statement_shows_only_the_users_own_entries(gateway_on: Settings) -> None:
    alice, bob = make_user(credits=7), make_user()
    payments.buy_pack(bob, 10, "bobs-purchase-key-001")
    assert [(r.description, r.balance_after) for r in statement(bob)] == [
        ("Bought 10 credits (₹50)", 10)
    ]
    assert [r.amount for r in statement(alice)] == [7]


def test_an_empty_account_has_an_empty_statement(migrated_db: Settings) -> None:
    assert statement(make_user()) == []


def test_dates_are_plain_and_say_their_time_zone() -> None:
    assert format_when(datetime(2026, 1, 3, 14, 5, tzinfo=UTC)) == "3 Jan 2026, 14:05 UTC"
