"""Buying credit packs: prices, the gateway switch, idempotency (also under real concurrency)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping

import pytest
from sqlmodel import func, select

from studio_app.models import CreditEntry, Payment
from studio_app.services import ledger, payments
from studio_app.services.db import read_session
from studio_app.services.errors import (
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from studio_app.services.payments import (
    CheckoutResult,
    GatewayConfirmation,
    PaymentRequest,
    PaymentStatus,
)
from studio_app.settings import Settings, reload_settings
from tests.factories import make_user
from tests.unit.test_ledger_concurrency import _run_together

KEY = "a-purchase-key-0001"


@pytest.fixture
def gateway_on(migrated_db: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("STUDIO_TEST_PAYMENT_GATEWAY", "1")
    return reload_settings()


def _balance(user_id: int) -> int:
    with read_session() as db:
        return ledger.balance(db, user_id)


def _counts() -> tuple[int, int]:
    with read_session() as db:
        payments_written = db.exec(select(func.count()).select_from(Payment)).one()
        entries = db.exec(select(func.count()).select_from(CreditEntry)).one()
    return payments_written, entries


def test_packs_are_priced_in_rupees_from_the_settings(
    migrated_db: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert [(p.credits, p.rupees) for p in payments.credit_packs()] == [
        (10, 50),
        (50, 250),
        (100, 500),
    ]
    monkeypatch.setenv("STUDIO_CREDIT_PACKS", "200,25")
    monkeypatch.setenv("STUDIO_RUPEES_PER_CREDIT", "4")
    reload_settings()
    packs = payments.credit_packs()
    assert [(p.credits, p.rupees, p.rupees_per_credit) for p in packs] == [
        (25, 100, 4),
        (200, 800, 4),
    ]


def test_without_a_gateway_buying_is_refused_and_nothing_is_written(
    migrated_db: Settings,
) -> None:
    user = make_user()
    assert payments.active_gateway() is None
    with pytest.raises(payments.PaymentsUnavailable, match="not available"):
        payments.buy_pack(user, 10, KEY)
    assert _counts() == (0, 0)
    assert _balance(user) == 0


def test_the_test_gateway_completes_a_purchase_at_once(gateway_on: Settings) -> None:
    user = make_user(credits=5)
    gateway = payments.active_gateway()
    assert gateway is not None and gateway.is_test_mode

    outcome = payments.buy_pack(user, 50, KEY)

    assert outcome.status == PaymentStatus.COMPLETED
    assert outcome.newly_credited
    assert (outcome.credits, outcome.amount_rupees) == (50, 250)
    assert _balance(user) == 55
    with read_session() as db:
        payment = db.exec(select(Payment)).one()
        entry = db.exec(select(CreditEntry).where(CreditEntry.kind == "purchase")).one()
    assert payment.status == "completed"
    assert payment.gateway == "test"
    assert payment.completed_at is not None
    assert payment.amount_rupees == 250
    # The ledger entry names the payment it credits.
    assert (entry.payment_id, entry.amount) == (payment.id, 50)


def test_the_same_key_credits_once_and_a_new_key_credits_again(gateway_on: Settings) -> None:
    user = make_user()
    payments.buy_pack(user, 10, KEY)
    again = payments.buy_pack(user, 10, KEY)
    assert again.status == PaymentStatus.COMPLETED
    assert not again.newly_credited
    assert _balance(user) == 10

    payments.buy_pack(user, 10, "another-purchase-key-02")
    assert _balance(user) == 20
    assert _counts() == (2, 2)


def test_a_key_reused_for_another_pack_is_refused(gateway_on: Settings) -> None:
    user = make_user()
    payments.buy_pack(user, 10, KEY)
    with pytest.raises(IdempotencyConflict):
        payments.buy_pack(user, 100, KEY)
    assert _balance(user) == 10
    assert _counts() == (1, 1)


def test_another_users_key_is_refused_and_nothing_is_written(gateway_on: Settings) -> None:
    alice, mallory = make_user(), make_user()
    payments.buy_pack(alice, 10, KEY)
    with pytest.raises(PermissionDenied):
        payments.buy_pack(mallory, 10, KEY)
    assert _balance(mallory) == 0
    assert _balance(alice) == 10
    assert _counts() == (1, 1)


@pytest.mark.parametrize("credits", [0, -10, 10.0, 10.5, 11, 1000, True, "10", None])
def test_unknown_or_malformed_packs_are_refused(gateway_on: Settings, credits: object) -> None:
    user = make_user()
    with pytest.raises(InvalidInput):
        payments.buy_pack(user, credits, KEY)
    assert _counts() == (0, 0)


@pytest.mark.parametrize("key", ["", "short", "x" * 101, "has spaces in it!!", None, 123])
def test_malformed_keys_are_refused(gateway_on: Settings, key: object) -> None:
    user = make_user()
    with pytest.raises(InvalidInput):
        payments.buy_pack(user, 10, key)
    assert _counts() == (0, 0)


def test_unknown_users_cannot_buy(gateway_on: Settings) -> None:
    with pytest.raises(NotFound):
        payments.buy_pack(4242, 10, KEY)
    assert _counts() == (0, 0)


def test_concurrent_purchases_with_one_key_credit_exactly_once(gateway_on: Settings) -> None:
    user = make_user()
    results = _run_together(12, lambda _i: payments.buy_pack(user, 50, KEY))

    assert not [r for r in results if isinstance(r, Exception)], results
    assert all(r.status == PaymentStatus.COMPLETED for r in results)  # type: ignore[union-attr]
    assert Counter(r.newly_credited for r in results) == {True: 1, False: 11}  # type: ignore[union-attr]
    assert _balance(user) == 50
    assert _counts() == (1, 1)


def test_concurrent_purchases_with_distinct_keys_credit_each(gateway_on: Settings) -> None:
    user = make_user()
    results = _run_together(10, lambda i: payments.buy_pack(user, 10, f"distinct-key-{i:04d}"))

    assert not [r for r in results if isinstance(r, Exception)], results
    assert all(r.newly_credited for r in results)  # type: ignore[union-attr]
    assert _balance(user) == 100
    assert _counts() == (10, 10)


class RedirectGateway:
    """A stand-in for a hosted checkout (Razorpay, Stripe): pay elsewhere, then a webhook."""

    name = "redirect"
    label = "Hosted checkout"
    is_test_mode = False

    def __init__(self) -> None:
        self.started: list[PaymentRequest] = []

    def start(self, payment: PaymentRequest) -> CheckoutResult:
        self.started.append(payment)
        return CheckoutResult(
            status=PaymentStatus.PENDING,
            gateway_reference=f"order_{payment.payment_id}",
            redirect_url=f"https://pay.example/checkout/{payment.payment_id}",
        )

    def confirm(self, body: bytes, headers: Mapping[str, str]) -> GatewayConfirmation:
        if headers.get("signature") != "good":
            raise PermissionDenied("bad signature")
        event = json.loads(body)
        return GatewayConfirmation(event["key"], PaymentStatus(event["status"]), "pay_1")


def _webhook(key: str, status: str) -> bytes:
    return json.dumps({"key": key, "status": status}).encode()


def test_a_hosted_checkout_credits_only_when_its_signed_webhook_arrives(
    migrated_db: Settings,
) -> None:
    user = make_user()
    gateway = RedirectGateway()

    outcome = payments.buy_pack(user, 10, KEY, gateway=gateway)
    assert outcome.status == PaymentStatus.PENDING
    assert outcome.redirect_url == "https://pay.example/checkout/1"
    assert gateway.started[0].idempotency_key == KEY
    assert gateway.started[0].amount_rupees == 50
    assert _balance(user) == 0

    with pytest.raises(PermissionDenied):
        payments.apply_gateway_callback(
            gateway, _webhook(KEY, "completed"), {"signature": "forged"}
        )
    assert _balance(user) == 0

    for _delivery in range(2):  # gateways deliver webhooks at least once
        payments.apply_gateway_callback(gateway, _webhook(KEY, "completed"), {"signature": "good"})
    assert _balance(user) == 10
    # The buyer coming back and clicking again changes nothing.
    assert not payments.buy_pack(user, 10, KEY, gateway=gateway).newly_credited
    assert _balance(user) == 10


def test_a_failed_hosted_payment_credits_nothing_and_stays_failed(migrated_db: Settings) -> None:
    user = make_user()
    gateway = RedirectGateway()
    payments.buy_pack(user, 10, KEY, gateway=gateway)
    payments.apply_gateway_callback(gateway, _webhook(KEY, "failed"), {"signature": "good"})
    # A late "completed" for a payment that already failed does not credit.
    payments.apply_gateway_callback(gateway, _webhook(KEY, "completed"), {"signature": "good"})
    assert _balance(user) == 0
    with pytest.raises(payments.PaymentFailed):
        payments.buy_pack(user, 10, KEY, gateway=gateway)
    with read_session() as db:
        assert db.exec(select(Payment)).one().status == "failed"


def test_a_webhook_for_an_unknown_payment_is_refused(migrated_db: Settings) -> None:
    with pytest.raises(NotFound):
        payments.apply_gateway_callback(
            RedirectGateway(), _webhook("no-such-key-00000", "completed"), {"signature": "good"}
        )


def test_the_test_gateway_signs_its_callbacks(gateway_on: Settings) -> None:
    gateway = payments.TestGateway()
    body = _webhook(KEY, "completed")
    assert gateway.confirm(body, {"X-Test-Gateway-Signature": gateway.sign(body)}).status == (
        PaymentStatus.COMPLETED
    )
    with pytest.raises(PermissionDenied):
        gateway.confirm(body, {"X-Test-Gateway-Signature": "0" * 64})
