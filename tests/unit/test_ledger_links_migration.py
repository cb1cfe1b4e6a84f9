"""Migration 0011: the ledger's links move from idempotency-key strings into foreign keys.

A database at 0010 holds entries linked only by their keys (captures, refunds,
purchases, as the services of that day wrote them); the upgrade fills the new
columns from those keys, and the unique indexes then refuse a second capture of a
hold, a second refund of a capture or a second entry for a payment.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.sql.sqltypes import UTCDateTime

from studio_app.clock import utcnow
from studio_app.models import CreditEntry, CreditHold, GeneratedImage, HoldStatus, Payment
from studio_app.services import ledger, migrations
from studio_app.services.db import read_session, write_session
from studio_app.services.statement import statement
from studio_app.settings import Settings
from tests.factories import insert_user_as_before

BEFORE = "0010_normalize_emails"

# credit_entry as it was at 0010: no link columns.
_entries_at_0010 = sa.table(
    "credit_entry",
    sa.column("id", sa.Integer),
    sa.column("user_id", sa.Integer),
    sa.column("amount", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("reference", sa.String),
    sa.column("idempotency_key", sa.String),
    sa.column("created_at", UTCDateTime),
)

# generated_image as it was at 0010: no request columns.
_images_at_0010 = sa.table(
    "generated_image",
    sa.column("id", sa.Integer),
    sa.column("public_id", sa.String),
    sa.column("user_id", sa.Integer),
    sa.column("prompt", sa.String),
    sa.column("provider", sa.String),
    sa.column("model", sa.String),
    sa.column("tier", sa.String),
    sa.column("cost_credits", sa.Integer),
    sa.column("status", sa.String),
    sa.column("created_at", UTCDateTime),
)


@dataclass
class Ledger0010:
    """Ids of what the 0010 database holds."""

    alice: int = 0
    bob: int = 0
    alice_hold_premium: int = 0
    alice_hold_standard: int = 0
    alice_hold_open: int = 0
    bob_hold: int = 0
    alice_payment: int = 0
    bob_payment: int = 0
    # entries by what they are
    welcome: int = 0
    capture_premium: int = 0
    capture_standard: int = 0
    refund_premium: int = 0
    bob_capture: int = 0
    purchase: int = 0
    purchase_without_payment: int = 0
    bob_purchase: int = 0
    lookalike_grant: int = 0


def _entry(db, user_id: int, amount: int, kind: str, key: str) -> int:  # type: ignore[no-untyped-def]
    inserted = db.execute(
        _entries_at_0010.insert()
        .values(
            user_id=user_id,
            amount=amount,
            kind=kind,
            reference="",
            idempotency_key=key,
            created_at=utcnow(),
        )
        .returning(_entries_at_0010.c.id)
    )
    return int(inserted.scalar_one())


def _image_hold(db, user_id: int, tier: str, price: int, status: HoldStatus) -> int:  # type: ignore[no-untyped-def]
    image_id = db.execute(
        _images_at_0010.insert()
        .values(
            public_id=f"pub-{user_id}-{tier}-{status.value}",
            user_id=user_id,
            prompt="p",
            provider="offline",
            model="",
            tier=tier,
            cost_credits=price,
            status="succeeded",
            created_at=utcnow(),
        )
        .returning(_images_at_0010.c.id)
    ).scalar_one()
    hold = CreditHold(
        user_id=user_id,
        amount=price,
        status=status.value,
        generation_id=image_id,
        expires_at=utcnow(),
    )
    db.add(hold)
    db.flush()
    return hold.id or 0


def _payment(db, user_id: int, credits: int, key: str) -> int:  # type: ignore[no-untyped-def]
    payment = Payment(
        user_id=user_id,
        credits=credits,
        amount_rupees=credits * 5,
        gateway="test",
        status="completed",
        idempotency_key=key,
    )
    db.add(payment)
    db.flush()
    return payment.id or 0


@pytest.fixture
def ledger_at_0010(fresh_env: Settings) -> Iterator[Ledger0010]:
    """A database at 0010 whose entries are linked only by the strings of that day."""
    command.upgrade(migrations.alembic_config(), BEFORE)
    ids = Ledger0010()
    with write_session() as db:
        for name in ("alice", "bob"):
            setattr(ids, name, insert_user_as_before(db, f"{name}@example.com"))
        a, b = ids.alice, ids.bob
        ids.alice_hold_premium = _image_hold(db, a, "premium", 2, HoldStatus.CAPTURED)
        ids.alice_hold_standard = _image_hold(db, a, "standard", 1, HoldStatus.CAPTURED)
        ids.alice_hold_open = _image_hold(db, a, "premium-wide", 4, HoldStatus.OPEN)
        ids.bob_hold = _image_hold(db, b, "standard", 1, HoldStatus.CAPTURED)
        ids.alice_payment = _payment(db, a, 10, "alice-purchase-key-0001")
        ids.bob_payment = _payment(db, b, 50, "bob-purchase-key-00001")

        ids.welcome = _entry(db, a, 5, "grant", f"grant:u{a}:signup")
        ids.purchase = _entry(db, a, 10, "purchase", f"purchase:u{a}:alice-purchase-key-0001")
        ids.capture_premium = _entry(db, a, -2, "capture", f"capture:hold{ids.alice_hold_premium}")
        ids.capture_standard = _entry(
            db, a, -1, "capture", f"capture:hold{ids.alice_hold_standard}"
        )
        ids.refund_premium = _entry(db, a, 2, "refund", f"refund:entry{ids.capture_premium}")
        # ledger.purchase called without a payment (an operator's script): nothing to link.
        ids.purchase_without_payment = _entry(db, a, 3, "purchase", f"purchase:u{a}:order-1")
        # An admin grant whose own key merely contains a link's spelling links nothing.
        ids.lookalike_grant = _entry(
            db, a, 1, "grant", f"grant:u{a}:admin:capture:hold{ids.alice_hold_open}"
        )
        ids.bob_purchase = _entry(db, b, 50, "purchase", f"purchase:u{b}:bob-purchase-key-00001")
        ids.bob_capture = _entry(db, b, -1, "capture", f"capture:hold{ids.bob_hold}")
    yield ids


def _links() -> dict[int, tuple[int | None, int | None, int | None]]:
    with read_session() as db:
        return {
            e.id or 0: (e.hold_id, e.refunds_entry_id, e.payment_id)
            for e in db.exec(select(CreditEntry)).all()
        }


def test_upgrade_fills_the_links_from_the_keys(ledger_at_0010: Ledger0010) -> None:
    ids = ledger_at_0010
    migrations.upgrade_to_head()

    assert _links() == {
        ids.welcome: (None, None, None),
        ids.purchase: (None, None, ids.alice_payment),
        ids.capture_premium: (ids.alice_hold_premium, None, None),
        ids.capture_standard: (ids.alice_hold_standard, None, None),
        ids.refund_premium: (None, ids.capture_premium, None),
        ids.purchase_without_payment: (None, None, None),
        ids.lookalike_grant: (None, None, None),
        ids.bob_purchase: (None, None, ids.bob_payment),
        ids.bob_capture: (ids.bob_hold, None, None),
    }
    # The keys are untouched: they stay the retry keys.
    with read_session() as db:
        refund = db.get(CreditEntry, ids.refund_premium)
        assert refund is not None and refund.idempotency_key == f"refund:entry{ids.capture_premium}"


def test_the_services_read_the_migrated_links(ledger_at_0010: Ledger0010) -> None:
    ids = ledger_at_0010
    migrations.upgrade_to_head()

    with write_session() as db:
        # Refunded before the migration: refunding again returns that refund.
        assert ledger.refund(db, ids.capture_premium).id == ids.refund_premium
        fresh = ledger.refund(db, ids.capture_standard)
        assert fresh.refunds_entry_id == ids.capture_standard
        charge = ledger.capture_of(db, ids.alice_hold_premium)
        assert charge is not None and charge.id == ids.capture_premium
    assert [(row.description, row.balance_after) for row in statement(ids.alice)] == [
        ("Refund — Standard 1:1 image", 19),
        ("Credits from Studio", 18),
        ("Bought 3 credits", 17),
        ("Refund — Premium 3:2 image", 14),
        ("Image — Standard 1:1", 12),
        ("Image — Premium 3:2", 13),
        ("Bought 10 credits (₹50)", 15),
        ("Welcome credits", 5),
    ]


def _second(entry: CreditEntry) -> None:
    with pytest.raises(IntegrityError), write_session() as db:
        db.add(entry)
        db.flush()


def test_the_database_refuses_a_second_capture_refund_or_purchase_for_one_link(
    ledger_at_0010: Ledger0010,
) -> None:
    ids = ledger_at_0010
    migrations.upgrade_to_head()
    a = ids.alice
    before = _links()

    _second(
        CreditEntry(
            user_id=a,
            amount=-2,
            kind="capture",
            idempotency_key="another-capture-of-the-same-hold",
            hold_id=ids.alice_hold_premium,
        )
    )
    _second(
        CreditEntry(
            user_id=a,
            amount=2,
            kind="refund",
            idempotency_key="another-refund-of-the-same-charge",
            refunds_entry_id=ids.capture_premium,
        )
    )
    _second(
        CreditEntry(
            user_id=a,
            amount=10,
            kind="purchase",
            idempotency_key="another-entry-for-the-same-payment",
            payment_id=ids.alice_payment,
        )
    )
    assert _links() == before
    # Links that are still free are accepted: the indexes are per link, not per column.
    with write_session() as db:
        db.add(
            CreditEntry(
                user_id=a,
                amount=2,
                kind="refund",
                idempotency_key="first-refund-of-the-standard-charge",
                refunds_entry_id=ids.capture_standard,
            )
        )


def test_downgrade_drops_the_columns_and_keeps_the_entries(ledger_at_0010: Ledger0010) -> None:
    migrations.upgrade_to_head()
    linked = _links()
    config = migrations.alembic_config()
    command.downgrade(config, BEFORE)
    with read_session() as db:
        columns = {c["name"] for c in sa.inspect(db.connection()).get_columns("credit_entry")}
        keys = db.execute(sa.select(_entries_at_0010.c.id, _entries_at_0010.c.idempotency_key))
        assert len(keys.all()) == len(linked)
    assert not {"hold_id", "refunds_entry_id", "payment_id"} & columns
    migrations.upgrade_to_head()
    assert _links() == linked


def test_upgrade_makes_each_existing_image_a_request_of_its_own(
    ledger_at_0010: Ledger0010,
) -> None:
    migrations.upgrade_to_head()
    with read_session() as db:
        images = db.exec(select(GeneratedImage)).all()
    assert len(images) == 4
    assert all((image.request_id, image.request_index) == (image.public_id, 0) for image in images)
