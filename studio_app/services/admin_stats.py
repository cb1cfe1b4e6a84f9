"""The admin Overview: counts, rates and money, computed by SQL aggregates.

Days are UTC days (times are stored in UTC). A success rate counts finished
generations only: one still running is neither a success nor a failure yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, case, func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from studio_app.clock import utcnow
from studio_app.models import (
    CreditEntry,
    EntryKind,
    GeneratedImage,
    GenerationStatus,
    ImageTemplate,
    User,
)
from studio_app.services.admin_guard import require_admin
from studio_app.services.auth import CurrentUser
from studio_app.services.db import read_session

RECENT_LOG_LIMIT = 50
CHART_DAYS = 14
_SUCCEEDED = GenerationStatus.SUCCEEDED.value
_FAILED = GenerationStatus.FAILED.value


@dataclass(frozen=True)
class ProviderStats:
    provider: str
    generations: int
    succeeded: int
    failed: int
    # None when nothing has finished yet.
    success_rate: float | None
    average_seconds: float | None


@dataclass(frozen=True)
class Overview:
    users: int
    generations_today: int
    generations_7_days: int
    generations_all: int
    succeeded: int
    failed: int
    success_rate: float | None
    credits_sold: int
    credits_spent: int
    providers: list[ProviderStats]


@dataclass(frozen=True)
class GenerationLogLine:
    created_at: datetime
    user_email: str
    template_name: str
    provider: str
    status: str
    error_message: str


@dataclass(frozen=True)
class DayCounts:
    day: date
    succeeded: int
    failed: int
    pending: int


def _rate(succeeded: int, failed: int) -> float | None:
    finished = succeeded + failed
    return succeeded / finished if finished else None


def _count_status(status: str) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((col(GeneratedImage.status) == status, 1), else_=0)), 0)


def _credit_total(db: Session, kind: EntryKind) -> int:
    total = db.exec(
        select(func.coalesce(func.sum(CreditEntry.amount), 0)).where(CreditEntry.kind == kind.value)
    ).one()
    return int(total)


def _start_of_day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def overview(actor: CurrentUser, *, now: datetime | None = None) -> Overview:
    require_admin(actor)
    today = _start_of_day(now or utcnow())
    week_start = today - timedelta(days=6)
    created = col(GeneratedImage.created_at)
    with read_session() as db:
        users = db.exec(select(func.count()).select_from(User)).one()
        # Select(...), not select(...): sqlmodel types select() for up to four columns.
        totals = db.exec(
            Select(
                func.count(),
                func.coalesce(func.sum(case((created >= today, 1), else_=0)), 0),
                func.coalesce(func.sum(case((created >= week_start, 1), else_=0)), 0),
                _count_status(_SUCCEEDED),
                _count_status(_FAILED),
            ).select_from(GeneratedImage)
        ).one()
        per_provider = db.exec(
            Select(
                col(GeneratedImage.provider),
                func.count(),
                _count_status(_SUCCEEDED),
                _count_status(_FAILED),
                func.avg(
                    case(
                        (col(GeneratedImage.status) == _SUCCEEDED, GeneratedImage.duration_ms),
                        else_=None,
                    )
                ),
            )
            .group_by(GeneratedImage.provider)
            .order_by(func.count().desc(), GeneratedImage.provider)
        ).all()
        sold = _credit_total(db, EntryKind.PURCHASE)
        captured = -_credit_total(db, EntryKind.CAPTURE)
        refunded = _credit_total(db, EntryKind.REFUND)
    all_count, today_count, week_count, succeeded, failed = (int(v) for v in totals)
    return Overview(
        users=int(users),
        generations_today=today_count,
        generations_7_days=week_count,
        generations_all=all_count,
        succeeded=succeeded,
        failed=failed,
        success_rate=_rate(succeeded, failed),
        credits_sold=sold,
        credits_spent=captured - refunded,
        providers=[
            ProviderStats(
                provider=name,
                generations=int(count),
                succeeded=int(ok),
                failed=int(bad),
                success_rate=_rate(int(ok), int(bad)),
                average_seconds=None if avg_ms is None else float(avg_ms) / 1000,
            )
            for name, count, ok, bad, avg_ms in per_provider
        ],
    )


def recent_generations(
    actor: CurrentUser, *, failures_only: bool = False, limit: int = RECENT_LOG_LIMIT
) -> list[GenerationLogLine]:
    require_admin(actor)
    limit = max(1, min(int(limit), 200))
    query = (
        select(GeneratedImage, User.email, ImageTemplate.name)
        .join(User, col(User.id) == col(GeneratedImage.user_id))
        .join(ImageTemplate, col(ImageTemplate.id) == col(GeneratedImage.template_id), isouter=True)
        .order_by(col(GeneratedImage.created_at).desc(), col(GeneratedImage.id).desc())
        .limit(limit)
    )
    if failures_only:
        query = query.where(GeneratedImage.status == _FAILED)
    with read_session() as db:
        rows = db.exec(query).all()
    return [
        GenerationLogLine(
            created_at=row.created_at,
            user_email=email,
            template_name=template_name or "",
            provider=row.provider,
            status=row.status,
            error_message=row.error_message or "",
        )
        for row, email, template_name in rows
    ]


def daily_counts(
    actor: CurrentUser, *, days: int = CHART_DAYS, now: datetime | None = None
) -> list[DayCounts]:
    """Generations per UTC day and status for the last `days` days, oldest first, gaps as 0."""
    require_admin(actor)
    today = _start_of_day(now or utcnow())
    first_day = today - timedelta(days=days - 1)
    day = func.date(GeneratedImage.created_at)
    with read_session() as db:
        rows = db.exec(
            select(day, GeneratedImage.status, func.count())
            .where(col(GeneratedImage.created_at) >= first_day)
            .group_by(day, GeneratedImage.status)
        ).all()
    counts: dict[str, dict[str, int]] = {}
    for day_value, status, count in rows:
        counts.setdefault(str(day_value), {})[status] = int(count)
    result = []
    for offset in range(days):
        current = (first_day + timedelta(days=offset)).date()
        by_status = counts.get(current.isoformat(), {})
        result.append(
            DayCounts(
                day=current,
                succeeded=by_status.get(_SUCCEEDED, 0),
                failed=by_status.get(_FAILED, 0),
                pending=by_status.get(GenerationStatus.PENDING.value, 0),
            )
        )
    return result
