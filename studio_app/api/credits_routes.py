"""Credits over HTTP: balance, statement, packs and buying one through the payment gateway."""

from __future__ import annotations

from fastapi import APIRouter, Header, Query

from studio_app.api import schemas
from studio_app.api.callers import Caller
from studio_app.api.cursors import ID_CURSOR_PATTERN, id_cursor, parse_id_cursor
from studio_app.api.errors import responses
from studio_app.services import ledger, payments, statement
from studio_app.settings import get_settings

router = APIRouter(prefix="/api/studio/credits", tags=["credits"])

_STATEMENT_PAGE_MAX = 200


@router.get("", responses=responses(401))
def credits(viewer: Caller) -> schemas.Credits:
    """Your balance, and what is available now: the balance less the credits held for
    images still in progress (the number the studio shows)."""
    summary = ledger.credit_summary(viewer.id)
    return schemas.Credits(
        balance=summary.balance,
        available=summary.available,
        rupees_per_credit=get_settings().rupees_per_credit,
    )


@router.get("/statement", responses=responses(401, 422))
def credit_statement(
    viewer: Caller,
    limit: int = Query(default=50, ge=1, le=_STATEMENT_PAGE_MAX),
    cursor: str | None = Query(default=None, pattern=ID_CURSOR_PATTERN),
) -> schemas.StatementPage:
    """Every change to your balance, newest first, with the balance after it."""
    page = statement.statement_page(viewer.id, before=parse_id_cursor(cursor), limit=limit)
    return schemas.StatementPage(
        items=[
            schemas.StatementLine(
                when=row.when,
                description=row.description,
                kind=row.kind,
                amount=row.amount,
                balance_after=row.balance_after,
            )
            for row in page.rows
        ],
        next_cursor=id_cursor(page.next_before),
    )


@router.get("/packs", responses=responses(401))
def credit_packs(_viewer: Caller) -> list[schemas.CreditPack]:
    return [schemas.CreditPack(credits=p.credits, rupees=p.rupees) for p in payments.credit_packs()]


@router.post("/purchase", responses=responses(401, 402, 403, 404, 409, 422, 503))
def purchase(
    viewer: Caller,
    body: schemas.PurchaseRequest,
    idempotency_key: str = Header(
        alias="Idempotency-Key",
        pattern=schemas.PURCHASE_KEY_PATTERN,
        description="16–100 letters, digits, '-' or '_'; the same key pays at most once",
    ),
) -> schemas.Purchase:
    """Buy a pack through the payment gateway; a retry with the same key never pays twice."""
    outcome = payments.buy_pack(viewer.id, body.credits, idempotency_key)
    return schemas.Purchase(
        status=outcome.status.value,
        credits=outcome.credits,
        amount_rupees=outcome.amount_rupees,
        newly_credited=outcome.newly_credited,
        redirect_url=outcome.redirect_url or None,
        balance=ledger.credit_summary(viewer.id).balance,
    )
