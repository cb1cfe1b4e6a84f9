"""The credit ledger: append-only entries plus holds.

balance   = SUM(entry.amount)            (grants, purchases, refunds > 0; captures < 0)
available = balance - SUM(open holds)

Each entry names what it is about in a column: a capture the hold it took
(`hold_id`), a refund the capture it gives back (`refunds_entry_id`), a purchase
the payment it credits (`payment_id`). Unique indexes make "at most once" a
rule of the database too. The idempotency keys stay the retry keys.

Every function takes the caller's session. Functions that change money must
run inside `db.write_session()`: on SQLite that transaction owns the write
lock from its first statement, on PostgreSQL the user's row is locked, so two
concurrent holds can never both spend the same credit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from studio_app.clock import utcnow
from studio_app.models import CreditEntry, CreditHold, EntryKind, HoldStatus, User
from studio_app.services.db import read_session
from studio_app.services.errors import (
    HoldNotOpen,
    IdempotencyConflict,
    InsufficientCredits,
    InvalidInput,
    NotFound,
)
from studio_app.settings import get_settings

MAX_IDEMPOTENCY_KEY_LENGTH = 120


@dataclass(frozen=True)
class CreditSummary:
    balance: int
    held: int

    @property
    def available(self) -> int:
        return self.balance - self.held


@dataclass(frozen=True)
class StatementLine:
    entry_id: int
    created_at: datetime
    kind: str
    amount: int
    reference: str
    balance_after: int


def _require_positive_credits(amount: object) -> int:
    # bool is an int subclass; True is not "1 credit".
    if type(amount) is not int or amount <= 0:
        raise InvalidInput("Credit amounts must be whole numbers above zero.", field="amount")
    return amount


def _lock_user(db: Session, user_id: int) -> User:
    user = db.exec(select(User).where(User.id == user_id).with_for_update()).first()
    if user is None:
        raise NotFound("No such user.")
    return user


def balance(db: Session, user_id: int) -> int:
    total = db.exec(
        select(func.coalesce(func.sum(CreditEntry.amount), 0)).where(CreditEntry.user_id == user_id)
    ).one()
    return int(total)


def balance_before(db: Session, user_id: int, entry_id: int) -> int:
    """The user's balance just before the entry `entry_id`: the SUM of their older entries.

    "Older" is id order, the order the entries were written in (ids only grow),
    which is the statements' order too.
    """
    total = db.exec(
        select(func.coalesce(func.sum(CreditEntry.amount), 0)).where(
            CreditEntry.user_id == user_id, col(CreditEntry.id) < entry_id
        )
    ).one()
    return int(total)


def held(db: Session, user_id: int) -> int:
    total = db.exec(
        select(func.coalesce(func.sum(CreditHold.amount), 0)).where(
            CreditHold.user_id == user_id, CreditHold.status == HoldStatus.OPEN.value
        )
    ).one()
    return int(total)


def credit_summary(user_id: int) -> CreditSummary:
    """The user's balance and open holds, now (opens its own session)."""
    with read_session() as db:
        return summary(db, user_id)


def summary(db: Session, user_id: int) -> CreditSummary:
    return CreditSummary(balance=balance(db, user_id), held=held(db, user_id))


def _add_credit(
    db: Session,
    user_id: int,
    amount: object,
    kind: EntryKind,
    idempotency_key: str,
    reference: str,
    *,
    payment_id: int | None = None,
) -> CreditEntry:
    amount = _require_positive_credits(amount)
    if not isinstance(idempotency_key, str) or not idempotency_key.strip():
        raise InvalidInput("An idempotency key is required.", field="idempotency_key")
    if len(idempotency_key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise InvalidInput("The idempotency key is too long.", field="idempotency_key")
    # Keys are per user and per kind: one user's key never collides with another's.
    stored_key = f"{kind.value}:u{user_id}:{idempotency_key}"
    _lock_user(db, user_id)
    existing = _entry_by_key(db, stored_key)
    if existing is None:
        entry = CreditEntry(
            user_id=user_id,
            amount=amount,
            kind=kind.value,
            reference=reference[:200],
            idempotency_key=stored_key,
            payment_id=payment_id,
        )
        try:
            with db.begin_nested():
                db.add(entry)
            return entry
        except IntegrityError:
            # A concurrent request with the same key won the race (PostgreSQL).
            existing = _entry_by_key(db, stored_key)
            if existing is None:
                raise
    if existing.amount != amount:
        raise IdempotencyConflict("This idempotency key was already used for a different amount.")
    return existing


def _entry_by_key(db: Session, stored_key: str) -> CreditEntry | None:
    return db.exec(select(CreditEntry).where(CreditEntry.idempotency_key == stored_key)).first()


def grant(
    db: Session, user_id: int, amount: int, *, idempotency_key: str, reference: str = ""
) -> CreditEntry:
    """Give free credits (signup grant, admin grant). The same key credits once."""
    return _add_credit(db, user_id, amount, EntryKind.GRANT, idempotency_key, reference)


def purchase(
    db: Session,
    user_id: int,
    amount: int,
    *,
    idempotency_key: str,
    reference: str = "",
    payment_id: int | None = None,
) -> CreditEntry:
    """Record paid credits (for `payment_id`). The same key credits once, however often it is
    retried; a payment is credited by one entry at most."""
    return _add_credit(
        db,
        user_id,
        amount,
        EntryKind.PURCHASE,
        idempotency_key,
        reference,
        payment_id=payment_id,
    )


def place_hold(
    db: Session,
    user_id: int,
    amount: int,
    *,
    generation_id: int | None = None,
    now: datetime | None = None,
) -> CreditHold:
    """Set `amount` credits aside, or raise InsufficientCredits."""
    amount = _require_positive_credits(amount)
    now = now or utcnow()
    _lock_user(db, user_id)
    _release_expired(db, now, user_id=user_id)
    current = summary(db, user_id)
    if current.available < amount:
        raise InsufficientCredits(needed=amount, available=max(current.available, 0))
    hold = CreditHold(
        user_id=user_id,
        amount=amount,
        generation_id=generation_id,
        created_at=now,
        expires_at=now + timedelta(seconds=get_settings().hold_expiry_seconds),
    )
    db.add(hold)
    db.flush()
    return hold


def _open_hold(db: Session, hold_id: int) -> CreditHold:
    hold = db.exec(select(CreditHold).where(CreditHold.id == hold_id).with_for_update()).first()
    if hold is None:
        raise NotFound("No such hold.")
    return hold


def capture(
    db: Session, hold_id: int, *, reference: str = "", now: datetime | None = None
) -> CreditEntry:
    """Turn an open, unexpired hold into one debit entry."""
    now = now or utcnow()
    hold = _open_hold(db, hold_id)
    if hold.status != HoldStatus.OPEN.value:
        raise HoldNotOpen(f"This hold was already {hold.status}.")
    if hold.expires_at <= now:
        raise HoldNotOpen("This hold has expired.")
    hold.status = HoldStatus.CAPTURED.value
    hold.closed_at = now
    entry = CreditEntry(
        user_id=hold.user_id,
        amount=-hold.amount,
        kind=EntryKind.CAPTURE.value,
        reference=reference[:200],
        idempotency_key=f"capture:hold{hold.id}",
        hold_id=hold.id,
    )
    db.add(hold)
    db.add(entry)
    db.flush()
    return entry


def release(db: Session, hold_id: int, *, now: datetime | None = None) -> CreditHold:
    """Give held credits back. Releasing a released hold changes nothing."""
    hold = _open_hold(db, hold_id)
    if hold.status == HoldStatus.CAPTURED.value:
        raise HoldNotOpen("This hold was already captured.")
    if hold.status == HoldStatus.OPEN.value:
        hold.status = HoldStatus.RELEASED.value
        hold.closed_at = now or utcnow()
        db.add(hold)
        db.flush()
    return hold


def refund(db: Session, capture_entry_id: int, *, reference: str = "") -> CreditEntry:
    """Give back what a capture took. A capture is refunded at most once."""
    capture_entry = db.get(CreditEntry, capture_entry_id)
    if capture_entry is None or capture_entry.kind != EntryKind.CAPTURE.value:
        raise NotFound("No such charge to refund.")
    _lock_user(db, capture_entry.user_id)
    existing = refund_of(db, capture_entry_id)
    if existing is not None:
        return existing
    entry = CreditEntry(
        user_id=capture_entry.user_id,
        amount=-capture_entry.amount,
        kind=EntryKind.REFUND.value,
        reference=reference[:200],
        idempotency_key=f"refund:entry{capture_entry.id}",
        refunds_entry_id=capture_entry.id,
    )
    db.add(entry)
    db.flush()
    return entry


def capture_of(db: Session, hold_id: int) -> CreditEntry | None:
    """The entry that captured this hold, if it was captured."""
    return db.exec(select(CreditEntry).where(CreditEntry.hold_id == hold_id)).first()


def refund_of(db: Session, capture_entry_id: int) -> CreditEntry | None:
    """The entry that refunded this capture, if it was refunded."""
    return db.exec(
        select(CreditEntry).where(CreditEntry.refunds_entry_id == capture_entry_id)
    ).first()


def _release_expired(db: Session, now: datetime, *, user_id: int | None = None) -> list[int]:
    query = select(CreditHold.id).where(
        CreditHold.status == HoldStatus.OPEN.value, CreditHold.expires_at <= now
    )
    if user_id is not None:
        query = query.where(CreditHold.user_id == user_id)
    expired_ids = [hold_id for hold_id in db.exec(query).all() if hold_id is not None]
    if expired_ids:
        db.exec(
            update(CreditHold)
            .where(
                col(CreditHold.id).in_(expired_ids),
                col(CreditHold.status) == HoldStatus.OPEN.value,
            )
            .values(status=HoldStatus.RELEASED.value, closed_at=now)
        )
    return expired_ids


def sweep_expired_holds(db: Session, *, now: datetime | None = None) -> list[int]:
    """Release every open hold past its expiry; returns their ids."""
    return _release_expired(db, now or utcnow())


def statement(db: Session, user_id: int) -> list[StatementLine]:
    """Every entry of the user, oldest first, with the balance after each."""
    entries = db.exec(
        select(CreditEntry).where(CreditEntry.user_id == user_id).order_by(col(CreditEntry.id))
    ).all()
    lines: list[StatementLine] = []
    running = 0
    for entry in entries:
        running += entry.amount
        lines.append(
            StatementLine(
                entry_id=entry.id or 0,
                created_at=entry.created_at,
                kind=entry.kind,
                amount=entry.amount,
                reference=entry.reference,
                balance_after=running,
            )
        )
    return lines
