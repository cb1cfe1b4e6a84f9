"""Admins list accounts, grant credits, refund generations and disable accounts."""

from __future__ import annotations

import secrets

import pytest
from sqlmodel import select

from studio_app.models import AuditEntry, CreditEntry, GeneratedImage, User
from studio_app.services import admin_users, auth, ledger
from studio_app.services.auth import CurrentUser
from studio_app.services.db import read_session, write_session
from studio_app.services.errors import InvalidInput, NotFound, PermissionDenied
from studio_app.settings import Settings
from tests.factories import make_account, make_user


@pytest.fixture
def admin(migrated_db: Settings) -> CurrentUser:
    return CurrentUser(
        id=make_user(role="admin", email="boss@example.com"), email="boss@example.com", role="admin"
    )


def _available(user_id: int) -> int:
    with read_session() as db:
        return ledger.summary(db, user_id).available


def _actions() -> list[str]:
    with read_session() as db:
        return [e.action for e in db.exec(select(AuditEntry).order_by(AuditEntry.id)).all()]


def _charged_generation(user_id: int, cost: int = 2, status: str = "succeeded") -> int:
    with write_session() as db:
        row = GeneratedImage(
            public_id=secrets.token_hex(12),
            user_id=user_id,
            prompt="a lighthouse",
            provider="offline",
            tier="premium",
            status="pending",
            cost_credits=cost,
        )
        db.add(row)
        db.flush()
        hold = ledger.place_hold(db, user_id, cost, generation_id=row.id)
        if status == "succeeded":
            ledger.capture(db, hold.id or 0)
        else:
            ledger.release(db, hold.id or 0)
        row.status = status
        db.add(row)
        return row.id or 0


# Listing


def test_list_shows_available_balance_newest_first_and_pages(admin: CurrentUser) -> None:
    ids = [make_user(email=f"p{n:02}@example.com", credits=n) for n in range(25)]
    _charged_generation(ids[-1], cost=3)  # p24: 24 granted, 3 captured
    with write_session() as db:
        ledger.place_hold(db, ids[-2], 5)  # p23: 5 held

    first = admin_users.list_users(admin)
    assert (first.total, first.page, first.page_count) == (26, 0, 2)
    assert len(first.rows) == admin_users.PAGE_SIZE
    by_email = {row.email: row for row in first.rows}
    assert by_email["p24@example.com"].available == 21
    assert by_email["p23@example.com"].available == 18
    assert first.rows[0].email == "p24@example.com"

    second = admin_users.list_users(admin, page=1)
    assert len(second.rows) == 6
    assert second.rows[-1].email == "boss@example.com"
    assert second.rows[-1].role == "admin"
    assert admin_users.list_users(admin, page=99).page == 1  # clamped to the last page
    assert admin_users.list_users(admin, page="x").page == 0


def test_search_by_email_treats_wildcards_literally(admin: CurrentUser) -> None:
    make_user(email="ann_smith@example.com")
    make_user(email="annxsmith@example.com")
    make_user(email="bob@example.com")
    found = admin_users.list_users(admin, query="  ANN ")
    assert sorted(r.email for r in found.rows) == ["ann_smith@example.com", "annxsmith@example.com"]
    found = admin_users.list_users(admin, query="ann_")
    assert [r.email for r in found.rows] == ["ann_smith@example.com"]
    assert admin_users.list_users(admin, query="%").total == 0
    assert admin_users.list_users(admin, query="nobody").rows == []


# Granting


def test_grant_credits_once_per_key_and_audits_it(admin: CurrentUser) -> None:
    user = make_user(credits=5)
    result = admin_users.grant_credits(
        admin, user, "10", "Sorry about the outage", idempotency_key="dlg-1"
    )
    assert (result.credited, result.available) == (True, 15)
    again = admin_users.grant_credits(
        admin, user, "10", "Sorry about the outage", idempotency_key="dlg-1"
    )
    assert (again.credited, again.available) == (False, 15)
    assert _available(user) == 15
    assert _actions() == ["user.grant_credits"]
    with read_session() as db:
        entry = db.exec(select(AuditEntry)).one()
        grant = db.exec(
            select(CreditEntry).where(CreditEntry.reference == "Sorry about the outage")
        ).one()
    assert entry.target.endswith("@example.com") and '"granted": 10' in entry.after
    assert grant.amount == 10 and grant.kind == "grant"

    admin_users.grant_credits(admin, user, 3, "Another dialog", idempotency_key="dlg-2")
    assert _available(user) == 18


@pytest.mark.parametrize("amount", ["0", "-5", "2.5", "", "ten", None, True, "100001", 0])
def test_grant_refuses_anything_but_a_positive_whole_number(
    admin: CurrentUser, amount: object
) -> None:
    user = make_user(credits=5)
    with pytest.raises(InvalidInput) as refused:
        admin_users.grant_credits(admin, user, amount, "reason", idempotency_key="k")
    assert refused.value.field == "amount"
    assert _available(user) == 5 and _actions() == []


def test_grant_needs_a_reason_and_a_real_account(admin: CurrentUser) -> None:
    user = make_user()
    with pytest.raises(InvalidInput) as refused:
        admin_users.grant_credits(admin, user, 5, "   ", idempotency_key="k")
    assert refused.value.field == "reason"
    with pytest.raises(NotFound):
        admin_users.grant_credits(admin, 9999, 5, "why", idempotency_key="k")
    assert _actions() == []


# Refunds


def test_refund_a_generation_once(admin: CurrentUser) -> None:
    user = make_user(credits=10)
    charged = _charged_generation(user, cost=2)
    _charged_generation(user, cost=4, status="failed")  # released: not refundable
    assert _available(user) == 8

    choices = admin_users.refund_choices(admin, user)
    assert [(c.generation_id, c.cost, c.refunded) for c in choices] == [(charged, 2, False)]

    first = admin_users.refund_generation(admin, charged, "Blurry result")
    assert (first.refunded, first.credits) == (True, 2)
    second = admin_users.refund_generation(admin, charged, "Blurry result")
    assert second.refunded is False
    assert _available(user) == 10
    assert _actions() == ["user.refund_generation"]
    assert admin_users.refund_choices(admin, user)[0].refunded is True


def test_refund_refuses_uncharged_or_unknown_generations(admin: CurrentUser) -> None:
    user = make_user(credits=10)
    released = _charged_generation(user, cost=4, status="failed")
    with pytest.raises(InvalidInput):
        admin_users.refund_generation(admin, released)
    with pytest.raises(NotFound):
        admin_users.refund_generation(admin, 424242)
    with pytest.raises(NotFound):
        admin_users.refund_generation(admin, "1")  # type: ignore[arg-type]
    assert _available(user) == 10 and _actions() == []


# Disable / enable


def test_disable_stops_sessions_at_once_and_enable_lets_them_sign_in_again(
    admin: CurrentUser,
) -> None:
    account = make_account()
    assert auth.current_user(account.token) is not None

    assert admin_users.set_active(admin, account.user_id, False) is True
    assert auth.current_user(account.token) is None
    with pytest.raises(auth.AuthError):
        auth.sign_in(account.email, "correct horse battery", client_address="t")
    assert admin_users.set_active(admin, account.user_id, False) is False

    assert admin_users.set_active(admin, account.user_id, True) is True
    assert auth.current_user(account.token) is None  # old sessions stay revoked
    again = auth.sign_in(account.email, "correct horse battery", client_address="t")
    assert auth.current_user(again.token) is not None
    assert _actions() == ["user.disable", "user.enable"]


def test_an_admin_cannot_disable_themselves(admin: CurrentUser) -> None:
    with pytest.raises(PermissionDenied):
        admin_users.set_active(admin, admin.id, False)
    with pytest.raises(InvalidInput):
        admin_users.set_active(admin, make_user(), "no")
    assert _actions() == []


# Only admins


def test_a_non_admin_is_refused_everything(migrated_db: Settings) -> None:
    target = make_user(credits=5)
    charged = _charged_generation(target, cost=2)
    someone = CurrentUser(id=make_user(), email="a@example.com", role="user")
    calls = [
        lambda: admin_users.list_users(someone),
        lambda: admin_users.grant_credits(someone, target, 5, "why", idempotency_key="k"),
        lambda: admin_users.refund_choices(someone, target),
        lambda: admin_users.refund_generation(someone, charged),
        lambda: admin_users.set_active(someone, target, False),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert _available(target) == 3
    with read_session() as db:
        assert db.get(User, target).is_active is True
    assert _actions() == []
