"""The statement a user reads: plain words, newest first, running balance."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlmodel import select

from studio_app.models import CreditEntry, GeneratedImage
from studio_app.services import ledger, payments
from studio_app.services.db import read_session, write_session
from studio_app.services.statement import format_when, statement, statement_page
from studio_app.settings import Settings, reload_settings
from tests.factories import add_credits, make_account, make_user


@pytest.fixture
def gateway_on(migrated_db: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("STUDIO_TEST_PAYMENT_GATEWAY", "1")
    return reload_settings()


def _charge_image(user_id: int, tier: str, price: int, *, public_id: str = "") -> int:
    """An image paid for (hold → capture); returns the capture entry id."""
    with write_session() as db:
        row = GeneratedImage(
            public_id=public_id or f"pub{tier}{price}",
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


def _entries_oldest_first(user_id: int) -> list[CreditEntry]:
    with read_session() as db:
        return list(
            db.exec(
                select(CreditEntry).where(CreditEntry.user_id == user_id).order_by(CreditEntry.id)
            )
        )


@contextmanager
def _counting_loaded_entries() -> Iterator[list[int]]:
    """Counts the ledger rows the services load as objects while it is open."""
    loaded: list[int] = []

    def on_load(_session: Session, instance: object) -> None:
        if isinstance(instance, CreditEntry):
            loaded.append(instance.id or 0)

    event.listen(Session, "loaded_as_persistent", on_load)
    try:
        yield loaded
    finally:
        event.remove(Session, "loaded_as_persistent", on_load)


def test_pages_of_a_long_ledger_carry_the_running_balance_of_the_whole(
    gateway_on: Settings,
) -> None:
    user = make_user(credits=40)
    others = make_user(credits=9)  # another account's entries are interleaved and never counted
    for i in range(12):
        payments.buy_pack(user, 10, f"long-ledger-purchase-{i:04d}")
        charge = _charge_image(user, "premium", 2, public_id=f"long-{i}")
        if i % 3 == 0:
            with write_session() as db:
                ledger.refund(db, charge)
        add_credits(others, 1)
        add_credits(user, i + 1)
    entries = _entries_oldest_first(user)
    assert len(entries) == 1 + 12 * 3 + 4
    expected, running = [], 0
    for entry in entries:
        running += entry.amount
        expected.append((entry.amount, running))
    expected.reverse()

    pages, before = [], None
    with _counting_loaded_entries() as loaded:
        while True:
            page = statement_page(user, before=before, limit=7)
            pages.append([(row.amount, row.balance_after) for row in page.rows])
            # A page reads its own entries and one more, never the ledger whole.
            assert len(loaded) <= 8
            loaded.clear()
            before = page.next_before
            if before is None:
                break

    assert [len(p) for p in pages] == [7] * 5 + [6]
    assert [line for p in pages for line in p] == expected
    whole = statement(user)
    assert [(row.amount, row.balance_after) for row in whole] == expected
    assert whole[0].balance_after == _balance(user)
    assert [(row.description, row.balance_after) for row in whole[:4]] == [
        ("Credits from Studio", expected[0][1]),
        ("Image — Premium 3:2", expected[1][1]),
        ("Bought 10 credits (₹50)", expected[2][1]),
        ("Credits from Studio", expected[3][1]),
    ]
    assert statement_page(user, before=entries[0].id).rows == []
    # A page that ends exactly at the oldest entry says there is nothing older.
    assert statement_page(user, limit=len(entries)).next_before is None
    assert statement_page(user, limit=len(entries) - 1).next_before == entries[1].id


def _balance(user_id: int) -> int:
    with read_session() as db:
        return ledger.balance(db, user_id)
