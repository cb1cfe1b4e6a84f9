"""The admin Overview's numbers on known data."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest

from studio_app.models import GeneratedImage, ImageCategory, ImageTemplate
from studio_app.services import admin_stats, ledger
from studio_app.services.auth import CurrentUser
from studio_app.services.db import write_session
from studio_app.services.errors import PermissionDenied
from studio_app.settings import Settings
from tests.factories import make_user

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


@pytest.fixture
def admin(migrated_db: Settings) -> CurrentUser:
    return CurrentUser(id=make_user(role="admin"), email="boss@example.com", role="admin")


def _generation(
    user_id: int,
    *,
    provider: str = "offline",
    status: str = "succeeded",
    age: timedelta = timedelta(0),
    duration_ms: int | None = None,
    template_id: int | None = None,
    error: str | None = None,
) -> int:
    with write_session() as db:
        row = GeneratedImage(
            public_id=secrets.token_hex(12),
            user_id=user_id,
            template_id=template_id,
            prompt="p",
            provider=provider,
            tier="standard",
            status=status,
            created_at=NOW - age,
            duration_ms=duration_ms,
            error_message=error,
            cost_credits=1,
        )
        db.add(row)
        db.flush()
        return row.id or 0


def _template() -> int:
    with write_session() as db:
        category = ImageCategory(name="Art", slug="art")
        db.add(category)
        db.flush()
        template = ImageTemplate(
            category_id=category.id or 0, slug="owl", name="Night owl", prompt="an owl"
        )
        db.add(template)
        db.flush()
        return template.id or 0


def _charge(user_id: int, amount: int) -> int:
    with write_session() as db:
        hold = ledger.place_hold(db, user_id, amount)
        return ledger.capture(db, hold.id or 0).id or 0


@pytest.fixture
def known_data(admin: CurrentUser) -> dict[str, int]:
    alice = make_user(email="alice@example.com", credits=20)
    bob = make_user(email="bob@example.com")
    template = _template()
    _generation(alice, duration_ms=1000, template_id=template)
    _generation(alice, duration_ms=3000, age=timedelta(hours=14))  # 01:00 today
    _generation(alice, status="failed", age=timedelta(days=2), error="Provider is down.")
    _generation(bob, provider="openai", duration_ms=5000, age=timedelta(days=6, hours=1))
    _generation(bob, provider="openai", status="failed", age=timedelta(days=30))
    _generation(bob, provider="openai", status="pending", age=timedelta(minutes=1))
    with write_session() as db:
        ledger.purchase(db, bob, 50, idempotency_key="pack-1")
        ledger.purchase(db, alice, 10, idempotency_key="pack-2")
    first = _charge(alice, 2)
    _charge(alice, 4)
    with write_session() as db:
        ledger.refund(db, first)
    return {"alice": alice, "bob": bob}


def test_overview_counts_rates_and_money(admin: CurrentUser, known_data: dict) -> None:
    stats = admin_stats.overview(admin, now=NOW)
    assert stats.users == 3
    assert stats.generations_today == 3  # two finished today plus the running one
    assert stats.generations_7_days == 5
    assert stats.generations_all == 6
    assert (stats.succeeded, stats.failed) == (3, 2)
    assert stats.success_rate == pytest.approx(3 / 5)
    assert stats.credits_sold == 60  # grants are not sold
    assert stats.credits_spent == 4  # 2 + 4 captured, 2 refunded

    by_provider = {p.provider: p for p in stats.providers}
    offline, openai = by_provider["offline"], by_provider["openai"]
    assert (offline.generations, offline.succeeded, offline.failed) == (3, 2, 1)
    assert offline.success_rate == pytest.approx(2 / 3)
    assert offline.average_seconds == pytest.approx(2.0)
    assert (openai.generations, openai.succeeded, openai.failed) == (3, 1, 1)
    assert openai.success_rate == pytest.approx(0.5)
    assert openai.average_seconds == pytest.approx(5.0)


def test_empty_database_has_no_rates(admin: CurrentUser) -> None:
    stats = admin_stats.overview(admin, now=NOW)
    assert (stats.generations_all, stats.success_rate, stats.providers) == (0, None, [])
    assert (stats.credits_sold, stats.credits_spent) == (0, 0)


def test_recent_log_newest_first_with_failures_filter(admin: CurrentUser, known_data: dict) -> None:
    lines = admin_stats.recent_generations(admin)
    assert len(lines) == 6
    assert (lines[0].template_name, lines[1].status) == ("Night owl", "pending")
    assert [line.created_at for line in lines] == sorted(
        (line.created_at for line in lines), reverse=True
    )
    named = [line for line in lines if line.template_name]
    assert [(n.template_name, n.user_email) for n in named] == [("Night owl", "alice@example.com")]

    failures = admin_stats.recent_generations(admin, failures_only=True)
    assert [f.status for f in failures] == ["failed", "failed"]
    assert failures[0].error_message == "Provider is down."
    assert failures[0].user_email == "alice@example.com"


def test_daily_counts_cover_fourteen_days_with_gaps(admin: CurrentUser, known_data: dict) -> None:
    days = admin_stats.daily_counts(admin, now=NOW)
    assert len(days) == 14
    assert days[-1].day.isoformat() == "2026-03-10"
    assert days[0].day.isoformat() == "2026-02-25"
    today = days[-1]
    assert (today.succeeded, today.failed, today.pending) == (2, 0, 1)
    assert (days[-3].succeeded, days[-3].failed) == (0, 1)
    assert days[-7].succeeded == 1  # six days and an hour ago: 4 March
    assert sum(d.succeeded + d.failed + d.pending for d in days) == 5  # 30 days ago is out


def test_a_non_admin_gets_no_stats(migrated_db: Settings) -> None:
    someone = CurrentUser(id=make_user(), email="a@example.com", role="user")
    for call in (
        admin_stats.overview,
        admin_stats.recent_generations,
        admin_stats.daily_counts,
    ):
        with pytest.raises(PermissionDenied):
            call(someone)
