"""State of the admin tab's Overview and Users sections (Providers: admin_providers.py).

Thin over services.admin_stats / admin_users, which check
the admin role themselves; every handler also starts with `self._admin()` so a
non-admin browser is refused before anything is read. Accounts are named in
public state by their index on the current page only; the ids they stand for
live in backend-only vars.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import reflex as rx

from studio_app.services import admin_stats, admin_users
from studio_app.services.admin_guard import ADMINS_ONLY
from studio_app.services.auth import CurrentUser
from studio_app.services.errors import StudioError
from studio_app.states.auth import AuthState


def _when(moment: datetime) -> str:
    return moment.strftime("%d %b %Y, %H:%M")


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.0f}%"


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


@dataclass
class StatCard:
    label: str = ""
    value: str = ""
    hint: str = ""


@dataclass
class ProviderStatRow:
    provider: str = ""
    generations: int = 0
    success_rate: str = ""
    average_time: str = ""


@dataclass
class LogRow:
    when: str = ""
    user: str = ""
    template: str = ""
    provider: str = ""
    status: str = ""
    error: str = ""


@dataclass
class UserView:
    index: int = 0
    email: str = ""
    role: str = ""
    active: bool = True
    available: int = 0
    created: str = ""
    is_me: bool = False


@dataclass
class RefundOption:
    index: int = 0
    label: str = ""
    detail: str = ""
    cost: int = 0
    refunded: bool = False


class AdminState(AuthState):
    loaded: bool = False
    # Overview
    stat_cards: list[StatCard] = []
    provider_stats: rx.Field[list[ProviderStatRow]] = rx.field(default_factory=list)
    recent: rx.Field[list[LogRow]] = rx.field(default_factory=list)
    failures_only: bool = False
    chart: list[dict[str, Any]] = []
    # Users
    users: rx.Field[list[UserView]] = rx.field(default_factory=list)
    user_query: str = ""
    user_page: int = 0
    user_page_count: int = 1
    user_total: int = 0
    _page_user_ids: list[int] = []
    # Grant dialog
    grant_open: bool = False
    grant_email: str = ""
    grant_amount: str = ""
    grant_reason: str = ""
    grant_error: str = ""
    _grant_user_id: int = 0
    _grant_key: str = ""
    # Refund dialog
    refund_open: bool = False
    refund_email: str = ""
    refund_options: rx.Field[list[RefundOption]] = rx.field(default_factory=list)
    _refund_user_id: int = 0
    _refund_generation_ids: list[int] = []
    # Disable / enable confirmation
    status_open: bool = False
    status_email: str = ""
    status_to_active: bool = False
    _status_user_id: int = 0
    _status_target_active: bool = False

    # Loading

    @rx.event
    def load(self) -> None:
        admin = self._admin()
        if admin is None:
            self.loaded = False
            return
        self._load_overview(admin)
        self._load_users(admin)
        self.loaded = True

    @rx.event
    def refresh_overview(self) -> rx.event.EventSpec | None:
        admin = self._admin()
        if admin is None:
            return rx.toast.error(ADMINS_ONLY)
        self._load_overview(admin)
        return None

    def _load_overview(self, admin: CurrentUser) -> None:
        stats = admin_stats.overview(admin)
        self.stat_cards = [
            StatCard("Users", str(stats.users), "accounts"),
            StatCard("Today", str(stats.generations_today), "generations (UTC day)"),
            StatCard("Last 7 days", str(stats.generations_7_days), "generations"),
            StatCard("All time", str(stats.generations_all), "generations"),
            StatCard(
                "Success rate",
                _percent(stats.success_rate),
                f"{stats.succeeded} succeeded · {stats.failed} failed",
            ),
            StatCard(
                "In progress",
                str(stats.generations_all - stats.succeeded - stats.failed),
                "generations running now",
            ),
            StatCard("Credits sold", str(stats.credits_sold), "purchased packs"),
            StatCard("Credits spent", str(stats.credits_spent), "on images, after refunds"),
        ]
        self.provider_stats = [
            ProviderStatRow(
                p.provider, p.generations, _percent(p.success_rate), _seconds(p.average_seconds)
            )
            for p in stats.providers
        ]
        self.chart = [
            {
                "day": day.day.strftime("%d %b"),
                "succeeded": day.succeeded,
                "failed": day.failed,
            }
            for day in admin_stats.daily_counts(admin)
        ]
        self._load_log(admin)

    def _load_log(self, admin: CurrentUser) -> None:
        self.recent = [
            LogRow(
                _when(line.created_at),
                line.user_email,
                line.template_name or "Free prompt",
                line.provider,
                line.status,
                line.error_message,
            )
            for line in admin_stats.recent_generations(admin, failures_only=self.failures_only)
        ]

    @rx.event
    def set_failures_only(self, value: bool) -> rx.event.EventSpec | None:
        admin = self._admin()
        if admin is None:
            return rx.toast.error(ADMINS_ONLY)
        self.failures_only = value is True
        self._load_log(admin)
        return None

    # Users

    def _load_users(self, admin: CurrentUser) -> None:
        page = admin_users.list_users(admin, query=self.user_query, page=self.user_page)
        self._page_user_ids = [row.id for row in page.rows]
        self.users = [
            UserView(
                index=index,
                email=row.email,
                role=row.role,
                active=row.is_active,
                available=row.available,
                created=row.created_at.strftime("%d %b %Y"),
                is_me=row.id == admin.id,
            )
            for index, row in enumerate(page.rows)
        ]
        self.user_page = page.page
        self.user_page_count = page.page_count
        self.user_total = page.total

    def _user_at(self, index: object) -> tuple[int, str] | None:
        """The (id, email) behind a row of the page this browser was shown."""
        if type(index) is not int or not 0 <= index < len(self._page_user_ids):
            return None
        return self._page_user_ids[index], self.users[index].email

    @rx.event
    def search_users(self, form_data: dict[str, Any]) -> rx.event.EventSpec | None:
        admin = self._admin()
        if admin is None:
            return rx.toast.error(ADMINS_ONLY)
        query = form_data.get("query", "") if isinstance(form_data, dict) else ""
        self.user_query = query if isinstance(query, str) else ""
        self.user_page = 0
        self._load_users(admin)
        return None

    @rx.event
    def go_to_page(self, page: int) -> rx.event.EventSpec | None:
        admin = self._admin()
        if admin is None:
            return rx.toast.error(ADMINS_ONLY)
        self.user_page = page if type(page) is int and page >= 0 else 0
        self._load_users(admin)
        return None

    # Grant credits

    @rx.event
    def open_grant(self, index: int) -> rx.event.EventSpec | None:
        if self._admin() is None:
            return rx.toast.error(ADMINS_ONLY)
        target = self._user_at(index)
        if target is None:
            return rx.toast.error("That account is no longer on this page. Reload the list.")
        self._grant_user_id, self.grant_email = target
        # One key per dialog opening: a double click on Grant credits once.
        self._grant_key = secrets.token_urlsafe(16)
        self.grant_amount = ""
        self.grant_reason = ""
        self.grant_error = ""
        self.grant_open = True
        return None

    @rx.event
    def set_grant_amount(self, value: str) -> None:
        self.grant_amount = value if isinstance(value, str) else ""
        self.grant_error = ""

    @rx.event
    def set_grant_reason(self, value: str) -> None:
        self.grant_reason = value if isinstance(value, str) else ""
        self.grant_error = ""

    @rx.event
    def grant_open_changed(self, is_open: bool) -> None:
        if not is_open:
            self.grant_open = False
            self._grant_key = ""

    @rx.event
    def submit_grant(self) -> rx.event.EventSpec | None:
        admin = self._admin()
        if admin is None:
            return rx.toast.error(ADMINS_ONLY)
        if not self._grant_key or not self._grant_user_id:
            return None  # the dialog was closed: a late second click
        try:
            result = admin_users.grant_credits(
                admin,
                self._grant_user_id,
                self.grant_amount,
                self.grant_reason,
                idempotency_key=self._grant_key,
            )
        except StudioError as error:
            self.grant_error = error.message
            return None
        self.grant_open = False
        self._grant_key = ""
        self._load_users(admin)
        self._load_overview(admin)
        if result.credited:
            return rx.toast.success(
                f"Granted {self.grant_amount.strip()} credits to {self.grant_email}."
            )
        return None

    # Refund a generation

    @rx.event
    def open_refund(self, index: int) -> rx.event.EventSpec | None:
        admin = self._admin()
        if admin is None:
            return rx.toast.error(ADMINS_ONLY)
        target = self._user_at(index)
        if target is None:
            return rx.toast.error("That account is no longer on this page. Reload the list.")
        self._refund_user_id, self.refund_email = target
        self._load_refund_options(admin)
        self.refund_open = True
        return None

    def _load_refund_options(self, admin: CurrentUser) -> None:
        choices = admin_users.refund_choices(admin, self._refund_user_id)
        self._refund_generation_ids = [c.generation_id for c in choices]
        self.refund_options = [
            RefundOption(
                index=index,
                label=c.template_name or (c.prompt[:60] + ("…" if len(c.prompt) > 60 else "")),
                detail=f"{_when(c.created_at)} · {c.provider} · {c.tier}",
                cost=c.cost,
                refunded=c.refunded,
            )
            for index, c in enumerate(choices)
        ]

    @rx.event
    def refund_open_changed(self, is_open: bool) -> None:
        if not is_open:
            self.refund_open = False

    @rx.event
    def refund(self, index: int) -> rx.event.EventSpec:
        admin = self._admin()
        if admin is None:
            return rx.toast.error(ADMINS_ONLY)
        if type(index) is not int or not 0 <= index < len(self._refund_generation_ids):
            return rx.toast.error("Choose a generation from the list.")
        try:
            result = admin_users.refund_generation(
                admin, self._refund_generation_ids[index], "Refunded by an admin"
            )
        except StudioError as error:
            return rx.toast.error(error.message)
        self._load_refund_options(admin)
        self._load_users(admin)
        self._load_overview(admin)
        if not result.refunded:
            return rx.toast.info("That generation was already refunded.")
        plural = "s" if result.credits != 1 else ""
        return rx.toast.success(f"Refunded {result.credits} credit{plural} to {self.refund_email}.")

    # Disable / enable

    @rx.event
    def ask_status_change(self, index: int) -> rx.event.EventSpec | None:
        if self._admin() is None:
            return rx.toast.error(ADMINS_ONLY)
        target = self._user_at(index)
        if target is None:
            return rx.toast.error("That account is no longer on this page. Reload the list.")
        self._status_user_id, self.status_email = target
        self._status_target_active = not self.users[index].active
        self.status_to_active = self._status_target_active
        self.status_open = True
        return None

    @rx.event
    def status_open_changed(self, is_open: bool) -> None:
        if not is_open:
            self.status_open = False

    @rx.event
    def confirm_status_change(self) -> rx.event.EventSpec | None:
        admin = self._admin()
        if admin is None:
            return rx.toast.error(ADMINS_ONLY)
        if not self._status_user_id:
            return None
        active = self._status_target_active
        try:
            admin_users.set_active(admin, self._status_user_id, active)
        except StudioError as error:
            self.status_open = False
            return rx.toast.error(error.message)
        self.status_open = False
        self._status_user_id = 0
        self._load_users(admin)
        verb = "re-enabled" if active else "disabled"
        return rx.toast.success(f"{self.status_email} is {verb}.")
