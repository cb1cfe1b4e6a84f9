"""Buying credit packs through a payment gateway.

A purchase is a `Payment` row that goes `pending` → `completed` (or `failed`).
Completing it and crediting the ledger happen in ONE write transaction, and
both are idempotent: the payment row by its idempotency key (unique; a key
that belongs to another user is refused), the ledger entry by the same key.
So a double click, a retried request or a webhook delivered twice credits once.

The flow, for any gateway:

1. `buy_pack()` validates the pack and the key, then writes (or finds) the
   `pending` payment — nothing leaves the server before that row exists;
2. outside any transaction (a real gateway is a network call) it asks the
   gateway to `start()` the payment with our key as the gateway's own
   idempotency key. The gateway answers with a `CheckoutResult`:
   - `completed` — paid already (the built-in TestGateway does this);
   - `pending` with a `redirect_url` — the buyer must go to the gateway's
     hosted checkout (Razorpay Checkout, Stripe Checkout) and come back;
   - `failed` — refused, with a message for the buyer.
3. A completion that arrives later (the gateway's signed webhook or the
   return from its checkout page) goes through `apply_gateway_callback()`:
   `gateway.confirm(body, headers)` checks the signature and says which of
   our payments it is about and how it ended; the service then completes or
   fails that payment exactly as in step 2.

Adding Razorpay or Stripe is therefore: one class implementing
`PaymentGateway` (start = create the order / checkout session; confirm =
verify the webhook signature and read the event), one line in
`active_gateway()`, and one HTTP route that hands the webhook's raw body and
headers to `apply_gateway_callback()`. This module's rules do not change.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from studio_app.clock import utcnow
from studio_app.models import Payment, PaymentStatus, User
from studio_app.services import ledger
from studio_app.services.db import read_session, write_session
from studio_app.services.errors import (
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    StudioError,
)
from studio_app.settings import get_settings
from studio_app.tiers import rupees_for

# What the page generates: secrets.token_urlsafe(18) is 24 characters.
PURCHASE_KEY = re.compile(r"^[A-Za-z0-9_-]{16,100}$")


class PaymentsUnavailable(StudioError):
    code = "payments_unavailable"


class PaymentFailed(StudioError):
    code = "payment_failed"


@dataclass(frozen=True)
class CreditPack:
    credits: int
    rupees: int

    @property
    def rupees_per_credit(self) -> int:
        return self.rupees // self.credits


@dataclass(frozen=True)
class PaymentRequest:
    """What a gateway is told about a payment (no user id: the gateway needs none)."""

    payment_id: int
    # Our idempotency key: gateways must pass it on as their own, so that a
    # retried start never opens a second charge.
    idempotency_key: str
    credits: int
    amount_rupees: int
    description: str
    customer_email: str


@dataclass(frozen=True)
class CheckoutResult:
    """A gateway's answer to `start()`."""

    status: PaymentStatus
    gateway_reference: str = ""
    # A hosted checkout page to send the buyer to (status pending).
    redirect_url: str = ""
    failure_message: str = ""


@dataclass(frozen=True)
class GatewayConfirmation:
    """A verified statement from the gateway about one of our payments."""

    idempotency_key: str
    status: PaymentStatus
    gateway_reference: str = ""


class PaymentGateway(Protocol):
    name: str
    label: str
    is_test_mode: bool

    def start(self, payment: PaymentRequest) -> CheckoutResult:
        """Open (or, for the same key, reopen) the payment at the gateway."""
        ...

    def confirm(self, body: bytes, headers: Mapping[str, str]) -> GatewayConfirmation:
        """Verify a callback's signature and read it; raise PermissionDenied if forged."""
        ...


class TestGateway:
    """The built-in gateway: every payment succeeds at once and nothing is charged.

    Active only when `STUDIO_TEST_PAYMENT_GATEWAY` is on. Its callbacks are
    signed with a per-process secret, like a real gateway's webhooks.
    """

    __test__ = False  # not a pytest test class
    name = "test"
    label = "Test gateway"
    is_test_mode = True
    SIGNATURE_HEADER = "x-test-gateway-signature"

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)

    def start(self, payment: PaymentRequest) -> CheckoutResult:
        return CheckoutResult(
            status=PaymentStatus.COMPLETED, gateway_reference=f"test_{payment.payment_id}"
        )

    def sign(self, body: bytes) -> str:
        return hmac.new(self._secret, body, hashlib.sha256).hexdigest()

    def confirm(self, body: bytes, headers: Mapping[str, str]) -> GatewayConfirmation:
        signature = {k.lower(): v for k, v in headers.items()}.get(self.SIGNATURE_HEADER, "")
        if not hmac.compare_digest(self.sign(body), signature):
            raise PermissionDenied("The payment notification's signature is not valid.")
        try:
            event = json.loads(body)
            return GatewayConfirmation(
                idempotency_key=str(event["key"]),
                status=PaymentStatus(event["status"]),
                gateway_reference=str(event.get("reference", "")),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInput("The payment notification could not be read.") from exc


_test_gateway = TestGateway()


def active_gateway() -> PaymentGateway | None:
    """The gateway purchases go through now, or None when buying is off."""
    if get_settings().test_payment_gateway:
        return _test_gateway
    return None


def credit_packs() -> list[CreditPack]:
    return [
        CreditPack(credits=size, rupees=rupees_for(size))
        for size in sorted(set(get_settings().credit_pack_sizes))
    ]


def new_purchase_key() -> str:
    """A fresh idempotency key for one purchase intent (the page makes one per pack choice)."""
    return secrets.token_urlsafe(18)


@dataclass(frozen=True)
class PurchaseOutcome:
    status: PaymentStatus
    credits: int
    amount_rupees: int
    # False when this key had already been credited (a double click or a retry).
    newly_credited: bool = False
    redirect_url: str = ""


def _pack_for(credits: object) -> CreditPack:
    # bool is an int subclass and 10.0 is not a pack: only real ints are accepted.
    if type(credits) is not int or credits <= 0:
        raise InvalidInput("Choose one of the credit packs.", field="credits")
    pack = next((p for p in credit_packs() if p.credits == credits), None)
    if pack is None:
        sizes = ", ".join(str(p.credits) for p in credit_packs())
        raise InvalidInput(
            f"There is no pack of {credits} credits; choose {sizes}.", field="credits"
        )
    return pack


def _valid_key(key: object) -> str:
    if not isinstance(key, str) or not PURCHASE_KEY.match(key):
        raise InvalidInput("This purchase request is not valid. Reload the page and try again.")
    return key


def _payment_by_key(db: Session, key: str, *, lock: bool = False) -> Payment | None:
    query = select(Payment).where(Payment.idempotency_key == key)
    if lock:
        query = query.with_for_update()
    return db.exec(query).first()


def _own_payment(payment: Payment, user_id: int, pack: CreditPack) -> Payment:
    if payment.user_id != user_id:
        raise PermissionDenied("This purchase request is not valid. Reload the page and try again.")
    if payment.credits != pack.credits:
        raise IdempotencyConflict(
            "This purchase request was already used for another pack. Reload the page."
        )
    return payment


def _open_payment(
    user_id: int, pack: CreditPack, key: str, gateway: PaymentGateway
) -> tuple[Payment, str]:
    """Find this key's payment or write it as pending; returns it with the buyer's email."""
    with write_session() as db:
        user = db.exec(select(User).where(User.id == user_id).with_for_update()).first()
        if user is None or not user.is_active:
            raise NotFound("No such account.")
        existing = _payment_by_key(db, key)
        if existing is not None:
            return _own_payment(existing, user_id, pack), user.email
        payment = Payment(
            user_id=user_id,
            credits=pack.credits,
            amount_rupees=pack.rupees,
            gateway=gateway.name,
            status=PaymentStatus.PENDING.value,
            idempotency_key=key,
        )
        try:
            with db.begin_nested():
                db.add(payment)
        except IntegrityError:
            # A concurrent request with the same key won the race (PostgreSQL).
            existing = _payment_by_key(db, key)
            if existing is None:
                raise
            return _own_payment(existing, user_id, pack), user.email
        return payment, user.email


def _finish(key: str, result: CheckoutResult) -> tuple[Payment, bool]:
    """Complete (crediting the ledger) or fail the payment; returns it and whether it credited."""
    with write_session() as db:
        payment = _payment_by_key(db, key, lock=True)
        if payment is None:
            raise NotFound("No such payment.")
        if payment.status != PaymentStatus.PENDING.value:
            # Completed or failed before: the first outcome stands.
            return payment, False
        if result.gateway_reference:
            payment.gateway_reference = result.gateway_reference[:120]
        if result.status == PaymentStatus.COMPLETED:
            payment.status = PaymentStatus.COMPLETED.value
            payment.completed_at = utcnow()
            ledger.purchase(
                db,
                payment.user_id,
                payment.credits,
                idempotency_key=key,
                reference=f"Bought {payment.credits} credits (₹{payment.amount_rupees})",
                payment_id=payment.id,
            )
        elif result.status == PaymentStatus.FAILED:
            payment.status = PaymentStatus.FAILED.value
            payment.completed_at = utcnow()
        db.add(payment)
        return payment, result.status == PaymentStatus.COMPLETED


def _outcome(payment: Payment, credited: bool, redirect_url: str = "") -> PurchaseOutcome:
    return PurchaseOutcome(
        status=PaymentStatus(payment.status),
        credits=payment.credits,
        amount_rupees=payment.amount_rupees,
        newly_credited=credited,
        redirect_url=redirect_url,
    )


def buy_pack(
    user_id: int,
    credits: object,
    idempotency_key: object,
    *,
    gateway: PaymentGateway | None = None,
) -> PurchaseOutcome:
    """Buy the pack of `credits` credits; the same key pays and credits at most once.

    Raises InvalidInput (unknown pack, bad key), PermissionDenied (another
    user's key), IdempotencyConflict (the key was used for another pack),
    PaymentsUnavailable (no gateway) or PaymentFailed (the gateway refused).
    """
    pack = _pack_for(credits)
    key = _valid_key(idempotency_key)
    gateway = gateway or active_gateway()
    if gateway is None:
        raise PaymentsUnavailable(
            "Buying credits is not available right now: no payment method is set up."
        )
    payment, email = _open_payment(user_id, pack, key, gateway)
    if payment.status == PaymentStatus.COMPLETED.value:
        return _outcome(payment, credited=False)
    if payment.status == PaymentStatus.FAILED.value:
        raise PaymentFailed("This payment did not go through. Reload the page to try again.")
    result = gateway.start(
        PaymentRequest(
            payment_id=payment.id or 0,
            idempotency_key=key,
            credits=payment.credits,
            amount_rupees=payment.amount_rupees,
            description=f"{payment.credits} Studio credits",
            customer_email=email,
        )
    )
    if result.status == PaymentStatus.PENDING:
        return _outcome(payment, credited=False, redirect_url=result.redirect_url)
    payment, credited = _finish(key, result)
    if payment.status == PaymentStatus.FAILED.value:
        raise PaymentFailed(result.failure_message or "The payment did not go through.")
    return _outcome(payment, credited)


def apply_gateway_callback(
    gateway: PaymentGateway, body: bytes, headers: Mapping[str, str]
) -> PurchaseOutcome:
    """Apply a gateway's signed notification (webhook or checkout return); idempotent."""
    confirmation = gateway.confirm(body, headers)
    with read_session() as db:
        payment = _payment_by_key(db, confirmation.idempotency_key)
    if payment is None or payment.gateway != gateway.name:
        raise NotFound("No such payment.")
    if confirmation.status == PaymentStatus.PENDING:
        return _outcome(payment, credited=False)
    result = CheckoutResult(
        status=confirmation.status, gateway_reference=confirmation.gateway_reference
    )
    payment, credited = _finish(confirmation.idempotency_key, result)
    return _outcome(payment, credited)
