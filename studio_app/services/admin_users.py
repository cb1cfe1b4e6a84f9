"""Admins' work on accounts: list, grant credits, refund a generation, disable/enable.

Every function takes the acting user and refuses anyone but an admin, and
every change writes its audit entry in the same transaction.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from studio_app.clock import utcnow
from studio_app.models import (
    CreditEntry,
    CreditHold,
    GeneratedImage,
    GenerationStatus,
    HoldStatus,
    ImageTemplate,
    User,
)
from studio_app.services import audit, auth, ledger
from studio_app.services.admin_guard import require_admin
from studio_app.services.auth import CurrentUser
from studio_app.services.db import read_session, write_session
from studio_app.services.errors import InvalidInput, NotFound, PermissionDenied

PAGE_SIZE = 20
MAX_GRANT = 100_000
MAX_REASON_CHARS = 200
MAX_QUERY_CHARS = 254
REFUND_CHOICES = 10


@dataclass(frozen=True)
class UserRow:
    id: int
    email: str
    role: str
    is_active: bool
    available: int
    created_at: datetime


@dataclass(frozen=True)
class UserPage:
    rows: list[UserRow]
    total: int
    page: int
    page_count: int


@dataclass(frozen=True)
class GrantResult:
    credited: bool  # False: this key had already granted (a double click)
    available: int


@dataclass(frozen=True)
class RefundChoice:
    generation_id: int
    created_at: datetime
    template_name: str
    prompt: str
    provider: str
    tier: str
    cost: int
    refunded: bool


@dataclass(frozen=True)
class RefundResult:
    refunded: bool  # False: it had been refunded before
    credits: int


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_users(actor: CurrentUser, *, query: object = "", page: object = 0) -> UserPage:
    """One page of accounts, newest first, optionally those whose email contains `query`."""
    require_admin(actor)
    text = query.strip().lower()[:MAX_QUERY_CHARS] if isinstance(query, str) else ""
    page_number = page if type(page) is int and page >= 0 else 0
    balance = (
        select(func.coalesce(func.sum(CreditEntry.amount), 0))
        .where(CreditEntry.user_id == User.id)
        .scalar_subquery()
    )
    held = (
        select(func.coalesce(func.sum(CreditHold.amount), 0))
        .where(CreditHold.user_id == User.id, CreditHold.status == HoldStatus.OPEN.value)
        .scalar_subquery()
    )
    condition = col(User.email).like(f"%{_escape_like(text)}%", escape="\\") if text else True
    with read_session() as db:
        total = int(db.exec(select(func.count()).select_from(User).where(condition)).one())
        page_count = max(1, -(-total // PAGE_SIZE))
        page_number = min(page_number, page_count - 1)
        rows = db.exec(
            select(User, balance - held)
            .where(condition)
            .order_by(col(User.created_at).desc(), col(User.id).desc())
            .offset(page_number * PAGE_SIZE)
            .limit(PAGE_SIZE)
        ).all()
    return UserPage(
        rows=[
            UserRow(
                id=user.id or 0,
                email=user.email,
                role=user.role,
                is_active=user.is_active,
                available=int(available),
                created_at=user.created_at,
            )
            for user, available in rows
        ],
        total=total,
        page=page_number,
        page_count=page_count,
    )


def _user(db: Session, user_id: object) -> User:
    user = db.get(User, user_id) if type(user_id) is int else None
    if user is None:
        raise NotFound("That account does not exist any more.")
    return user


def account_id(actor: CurrentUser, email: object) -> int:
    """The id of the account with this address (admins only; NotFound otherwise)."""
    require_admin(actor)
    try:
        normalized = auth.normalize_email(email)
    except InvalidInput as error:
        raise NotFound(f"No account with the email {email}.") from error
    with read_session() as db:
        user_id = db.exec(select(User.id).where(User.email == normalized)).first()
    if user_id is None:
        raise NotFound(f"No account with the email {normalized}.")
    return user_id


def parse_credits(text: object) -> int:
    """What an admin typed as an amount: a positive whole number, or InvalidInput."""
    if type(text) is int:
        amount = text
    elif isinstance(text, str) and text.strip().isascii() and text.strip().isdigit():
        # ASCII only: "²" is a digit to isdigit() but not to int(). Too many digits is
        # simply too much (and int() refuses more than 4300 of them).
        if len(text.strip()) > len(str(MAX_GRANT)) + 6:
            raise InvalidInput(f"Grant at most {MAX_GRANT:,} credits at a time.", field="amount")
        amount = int(text.strip())
    else:
        raise InvalidInput("Enter the credits as a whole number above zero.", field="amount")
    if amount <= 0:
        raise InvalidInput("Enter the credits as a whole number above zero.", field="amount")
    if amount > MAX_GRANT:
        raise InvalidInput(f"Grant at most {MAX_GRANT:,} credits at a time.", field="amount")
    return amount


def grant_credits(
    actor: CurrentUser, user_id: int, amount: object, reason: object, *, idempotency_key: str
) -> GrantResult:
    """Give an account free credits. The same key (one dialog) grants once."""
    admin = require_admin(actor)
    credits = parse_credits(amount)
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("Say why you are granting these credits.", field="reason")
    reason = " ".join(reason.split())
    if any(unicodedata.category(ch) == "Cc" for ch in reason):
        # The reason is shown on the user's statement: no terminal escapes or NULs.
        raise InvalidInput("The reason contains control characters.", field="reason")
    if len(reason) > MAX_REASON_CHARS:
        raise InvalidInput(f"Keep the reason under {MAX_REASON_CHARS} characters.", field="reason")
    with write_session() as db:
        user = _user(db, user_id)
        before = ledger.balance(db, user_id)
        ledger.grant(
            db, user_id, credits, idempotency_key=f"admin:{idempotency_key}", reference=reason
        )
        after = ledger.balance(db, user_id)
        credited = after != before
        if credited:
            audit.record(
                db,
                admin.id,
                "user.grant_credits",
                f"user {user.email}",
                before={"balance": before},
                after={"balance": after, "granted": credits, "reason": reason},
            )
        available = after - ledger.held(db, user_id)
    return GrantResult(credited=credited, available=available)


def _captured_generations(db: Session, user_id: int, limit: int) -> list[RefundChoice]:
    charge = aliased(CreditEntry)
    refund = aliased(CreditEntry)
    rows = db.exec(
        select(GeneratedImage, ImageTemplate.name, refund.id)
        .join(CreditHold, col(CreditHold.generation_id) == col(GeneratedImage.id))
        .join(charge, col(charge.hold_id) == col(CreditHold.id))
        .join(refund, col(refund.refunds_entry_id) == col(charge.id), isouter=True)
        .join(ImageTemplate, col(ImageTemplate.id) == col(GeneratedImage.template_id), isouter=True)
        .where(
            GeneratedImage.user_id == user_id,
            GeneratedImage.status == GenerationStatus.SUCCEEDED.value,
            CreditHold.status == HoldStatus.CAPTURED.value,
        )
        .order_by(col(GeneratedImage.created_at).desc(), col(GeneratedImage.id).desc())
        .limit(limit)
    ).all()
    return [
        RefundChoice(
            generation_id=row.id or 0,
            created_at=row.created_at,
            template_name=template_name or "",
            prompt=row.prompt,
            provider=row.provider,
            tier=row.tier,
            cost=row.cost_credits,
            refunded=refund_id is not None,
        )
        for row, template_name, refund_id in rows
    ]


def refund_choices(
    actor: CurrentUser, user_id: int, *, limit: int = REFUND_CHOICES
) -> list[RefundChoice]:
    """The account's most recent charged generations, newest first, marked when refunded."""
    require_admin(actor)
    with read_session() as db:
        _user(db, user_id)
        return _captured_generations(db, user_id, limit)


def refund_generation(actor: CurrentUser, generation_id: int, reason: object = "") -> RefundResult:
    """Give back what a generation cost. A generation is refunded at most once."""
    admin = require_admin(actor)
    note = " ".join(reason.split())[:MAX_REASON_CHARS] if isinstance(reason, str) else ""
    with write_session() as db:
        generation = db.get(GeneratedImage, generation_id) if type(generation_id) is int else None
        if generation is None:
            raise NotFound("That generation does not exist.")
        hold_id = db.exec(
            select(CreditHold.id).where(
                CreditHold.generation_id == generation.id,
                CreditHold.status == HoldStatus.CAPTURED.value,
            )
        ).first()
        capture = ledger.capture_of(db, hold_id) if hold_id is not None else None
        if capture is None:
            raise InvalidInput("That generation was never charged, so there is nothing to refund.")
        owner = _user(db, generation.user_id)
        before = ledger.balance(db, owner.id or 0)
        entry = ledger.refund(
            db, capture.id or 0, reference=note or f"Refund of a {generation.tier} image"
        )
        after = ledger.balance(db, owner.id or 0)
        refunded = after != before
        if refunded:
            audit.record(
                db,
                admin.id,
                "user.refund_generation",
                f"user {owner.email}",
                before={"balance": before},
                after={"balance": after, "refunded": entry.amount, "reason": note},
            )
    return RefundResult(refunded=refunded, credits=entry.amount)


def set_active(actor: CurrentUser, user_id: int, active: object) -> bool:
    """Disable or re-enable an account. Returns whether anything changed.

    Disabling also revokes the account's sessions and API tokens, so re-enabling it
    later does not bring old sign-ins back to life.
    """
    admin = require_admin(actor)
    if not isinstance(active, bool):
        raise InvalidInput("Choose enable or disable.", field="active")
    if user_id == admin.id and not active:
        raise PermissionDenied("You cannot disable your own account.")
    with write_session() as db:
        user = _user(db, user_id)
        if user.is_active == active:
            return False
        user.is_active = active
        db.add(user)
        if not active:
            auth.revoke_credentials(db, user_id, utcnow())
        audit.record(
            db,
            admin.id,
            "user.enable" if active else "user.disable",
            f"user {user.email}",
            before={"active": not active},
            after={"active": active},
        )
        return True
