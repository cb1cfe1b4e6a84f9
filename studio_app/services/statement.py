"""A user's credit statement in plain words, newest first, with the running balance.

The ledger's own `reference` texts are for operators (they may name row ids),
so the words here are derived from what each entry is about: the payment it
came from, or the image (tier) a debit or a refund belongs to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from studio_app.models import CreditEntry, CreditHold, EntryKind, GeneratedImage, Payment
from studio_app.services import ledger
from studio_app.services.db import read_session
from studio_app.services.errors import InvalidInput
from studio_app.tiers import tiers

_CAPTURE_KEY = re.compile(r"^capture:hold(\d+)$")
_REFUND_KEY = re.compile(r"^refund:entry(\d+)$")
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


def _hold_ids(entries: list[CreditEntry], captures_by_id: dict[int, CreditEntry]) -> set[int]:
    ids = set()
    for entry in [*entries, *captures_by_id.values()]:
        match = _CAPTURE_KEY.match(entry.idempotency_key)
        if match:
            ids.add(int(match.group(1)))
    return ids


def _tier_of_images(db: Session, entries: list[CreditEntry]) -> dict[int, str]:
    """capture entry id → the tier name of the image it paid for."""
    refunded_ids = {int(m.group(1)) for e in entries if (m := _REFUND_KEY.match(e.idempotency_key))}
    captures_by_id: dict[int, CreditEntry] = {}
    if refunded_ids:
        captures_by_id = {
            c.id or 0: c
            for c in db.exec(select(CreditEntry).where(col(CreditEntry.id).in_(refunded_ids)))
        }
    hold_ids = _hold_ids(entries, captures_by_id)
    if not hold_ids:
        return {}
    query = (
        select(CreditHold.id, GeneratedImage.tier)
        .join(GeneratedImage, GeneratedImage.id == CreditHold.generation_id)
        .where(col(CreditHold.id).in_(hold_ids))
    )
    tier_by_hold: dict[int, str] = dict(db.exec(query).all())  # type: ignore[arg-type]
    tiers: dict[int, str] = {}
    for entry in [*entries, *captures_by_id.values()]:
        match = _CAPTURE_KEY.match(entry.idempotency_key)
        if match and entry.id is not None:
            tier_id = tier_by_hold.get(int(match.group(1)), "")
            tiers[entry.id] = _TIER_NAMES.get(tier_id, "")
    return tiers


def _payments(db: Session, user_id: int) -> dict[str, Payment]:
    """Ledger key → the payment it credited."""
    rows = db.exec(select(Payment).where(Payment.user_id == user_id)).all()
    return {f"{EntryKind.PURCHASE.value}:u{user_id}:{p.idempotency_key}": p for p in rows}


def _describe(
    entry: CreditEntry, user_id: int, payments: dict[str, Payment], tiers: dict[int, str]
) -> str:
    kind = entry.kind
    if kind == EntryKind.GRANT.value:
        if entry.idempotency_key == f"grant:u{user_id}:signup":
            return "Welcome credits"
        return (
            f"Credits from Studio — {entry.reference}" if entry.reference else "Credits from Studio"
        )
    if kind == EntryKind.PURCHASE.value:
        payment = payments.get(entry.idempotency_key)
        if payment is not None:
            return f"Bought {payment.credits} credits (₹{payment.amount_rupees})"
        return f"Bought {entry.amount} credits"
    if kind == EntryKind.CAPTURE.value:
        tier = tiers.get(entry.id or 0, "")
        return f"Image — {tier}" if tier else "Image"
    if kind == EntryKind.REFUND.value:
        match = _REFUND_KEY.match(entry.idempotency_key)
        tier = tiers.get(int(match.group(1)), "") if match else ""
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
    """One page of the statement, newest first: the lines older than the entry `before`."""
    if type(user_id) is not int:
        raise InvalidInput("No such account.")
    with read_session() as db:
        lines = ledger.statement(db, user_id)[::-1]
        if before is not None:
            lines = [line for line in lines if line.entry_id < before]
        newest = lines[:limit]
        more = len(lines) > limit
        ids = [line.entry_id for line in newest]
        entries = list(db.exec(select(CreditEntry).where(col(CreditEntry.id).in_(ids))))
        payments = _payments(db, user_id)
        tiers = _tier_of_images(db, entries)
    by_id = {entry.id: entry for entry in entries}
    rows = [
        StatementRow(
            when=format_when(line.created_at),
            description=_describe(by_id[line.entry_id], user_id, payments, tiers),
            kind=line.kind,
            amount=line.amount,
            amount_label=_amount_label(line.amount),
            balance_after=line.balance_after,
        )
        for line in newest
    ]
    return StatementPage(rows, newest[-1].entry_id if more and newest else None)
