"""A user's credit statement in plain words, newest first, with the running balance.

The ledger's own `reference` texts are for operators (they may name row ids),
so the words here are derived from what each entry is about: the payment it
came from, or the image (tier) a debit or a refund belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from studio_app.models import CreditEntry, CreditHold, EntryKind, GeneratedImage, Payment
from studio_app.services import ledger
from studio_app.services.db import read_session
from studio_app.services.errors import InvalidInput
from studio_app.tiers import tiers

_TIER_NAMES = {tier.id: f"{tier.label} {tier.aspect_ratio}" for tier in tiers()}
MAX_LINES = 500


@dataclass
class StatementRow:
    """One line as a page shows it (no ids)."""

    when: str = ""
    description: str = ""
    kind: str = ""
    amount: int = 0
    # "+50" / "−2": the sign is part of what a person reads.
    amount_label: str = ""
    balance_after: int = 0


def format_when(moment: datetime) -> str:
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def _amount_label(amount: int) -> str:
    return f"+{amount}" if amount > 0 else f"−{-amount}"


def _tier_names(db: Session, entries: list[CreditEntry]) -> dict[int, str]:
    """Entry id → the tier name of the image a capture paid for or a refund gave back."""
    refunded_ids = {e.refunds_entry_id for e in entries if e.refunds_entry_id is not None}
    hold_of_capture: dict[int, int | None] = {e.id or 0: e.hold_id for e in entries}
    if refunded_ids:
        refunded = select(CreditEntry.id, CreditEntry.hold_id).where(
            col(CreditEntry.id).in_(refunded_ids)
        )
        for capture_id, hold_id in db.exec(refunded):
            hold_of_capture[capture_id or 0] = hold_id
    hold_ids = {hold_id for hold_id in hold_of_capture.values() if hold_id is not None}
    if not hold_ids:
        return {}
    query = (
        select(CreditHold.id, GeneratedImage.tier)
        .join(GeneratedImage, col(GeneratedImage.id) == CreditHold.generation_id)
        .where(col(CreditHold.id).in_(hold_ids))
    )
    tier_by_hold: dict[int | None, str] = dict(db.exec(query).all())
    tier_names: dict[int, str] = {}
    for entry in entries:
        capture_id = entry.refunds_entry_id if entry.refunds_entry_id is not None else entry.id
        tier_id = tier_by_hold.get(hold_of_capture.get(capture_id or 0) or 0, "")
        if tier_id:
            tier_names[entry.id or 0] = _TIER_NAMES.get(tier_id, "")
    return tier_names


def _payments(db: Session, entries: list[CreditEntry]) -> dict[int, Payment]:
    """Payment id → the payment, for the purchases among `entries`."""
    ids = {e.payment_id for e in entries if e.payment_id is not None}
    if not ids:
        return {}
    return {p.id or 0: p for p in db.exec(select(Payment).where(col(Payment.id).in_(ids)))}


def _describe(
    entry: CreditEntry, user_id: int, payments: dict[int, Payment], tier_names: dict[int, str]
) -> str:
    kind = entry.kind
    if kind == EntryKind.GRANT.value:
        if entry.idempotency_key == f"grant:u{user_id}:signup":
            return "Welcome credits"
        return (
            f"Credits from Studio — {entry.reference}" if entry.reference else "Credits from Studio"
        )
    if kind == EntryKind.PURCHASE.value:
        payment = payments.get(entry.payment_id) if entry.payment_id is not None else None
        if payment is not None:
            return f"Bought {payment.credits} credits (₹{payment.amount_rupees})"
        return f"Bought {entry.amount} credits"
    tier = tier_names.get(entry.id or 0, "")
    if kind == EntryKind.CAPTURE.value:
        return f"Image — {tier}" if tier else "Image"
    if kind == EntryKind.REFUND.value:
        return f"Refund — {tier} image" if tier else "Refund"
    return "Adjustment"


def statement(user_id: int, *, limit: int = MAX_LINES) -> list[StatementRow]:
    """The user's ledger entries, newest first, each with the balance after it."""
    return statement_page(user_id, limit=limit).rows


@dataclass
class StatementPage:
    rows: list[StatementRow] = field(default_factory=list)
    # Pass back as `before` for older lines; None when there are no more.
    next_before: int | None = None


def statement_page(
    user_id: int, *, before: int | None = None, limit: int = MAX_LINES
) -> StatementPage:
    """One page of the statement, newest first: the lines older than the entry `before`.

    A keyset query reads the page's entries (and one more, to know whether older
    ones remain); one SUM gives the balance before the page's oldest entry, and
    the running balance is counted up from there. The ledger is never read whole.
    """
    if type(user_id) is not int:
        raise InvalidInput("No such account.")
    if limit < 1:
        return StatementPage()
    query = select(CreditEntry).where(CreditEntry.user_id == user_id)
    if before is not None:
        query = query.where(col(CreditEntry.id) < before)
    with read_session() as db:
        entries = list(db.exec(query.order_by(col(CreditEntry.id).desc()).limit(limit + 1)))
        more = len(entries) > limit
        entries = entries[:limit]
        if not entries:
            return StatementPage()
        running = ledger.balance_before(db, user_id, entries[-1].id or 0)
        payments = _payments(db, entries)
        tier_names = _tier_names(db, entries)
    rows: list[StatementRow] = []
    for entry in reversed(entries):
        running += entry.amount
        rows.append(
            StatementRow(
                when=format_when(entry.created_at),
                description=_describe(entry, user_id, payments, tier_names),
                kind=entry.kind,
                amount=entry.amount,
                amount_label=_amount_label(entry.amount),
                balance_after=running,
            )
        )
    rows.reverse()
    return StatementPage(rows, entries[-1].id if more else None)
