"""The admin tab: Overview, Categories, Templates, Providers, Users and Audit log."""

from __future__ import annotations

import reflex as rx

from studio_app.components.admin_catalog import audit_tab, categories_tab, templates_tab
from studio_app.components.layout import page_frame
from studio_app.states.admin import (
    AdminState,
    LogRow,
    ProviderRow,
    ProviderStatRow,
    RefundOption,
    StatCard,
    UserView,
)


def _status_badge(status: rx.Var) -> rx.Component:
    return rx.badge(
        status,
        color_scheme=rx.match(status, ("succeeded", "green"), ("failed", "red"), "amber"),
        variant="soft",
    )


def _scrolling(table: rx.Component) -> rx.Component:
    """Wide tables scroll sideways inside their card on a phone instead of the page."""
    return rx.box(table, width="100%", overflow_x="auto")


def _desktop_only(child: rx.Component) -> rx.Component:
    return rx.box(child, width="100%", display=rx.breakpoints(initial="none", md="block"))


def _phone_only(child: rx.Component) -> rx.Component:
    return rx.box(child, width="100%", display=rx.breakpoints(initial="block", md="none"))


# Overview


def _stat_card(card: StatCard) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(card.label, size="2", color=rx.color("gray", 11), weight="medium"),
            rx.heading(card.value, size="7", class_name="stat-value"),
            rx.text(card.hint, size="1", color=rx.color("gray", 10)),
            spacing="1",
        ),
        class_name="stat-card",
        data_label=card.label,
    )


def _chart() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Generations per day", size="4"),
            rx.text("Last 14 days, by outcome (UTC)", size="2", color=rx.color("gray", 11)),
            rx.recharts.bar_chart(
                rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
                rx.recharts.x_axis(data_key="day", font_size=12),
                rx.recharts.y_axis(allow_decimals=False, font_size=12, width=30),
                rx.recharts.tooltip(),
                rx.recharts.legend(),
                rx.recharts.bar(
                    data_key="succeeded",
                    name="Succeeded",
                    stack_id="a",
                    fill=rx.color("green", 9),
                    is_animation_active=False,
                ),
                rx.recharts.bar(
                    data_key="failed",
                    name="Failed",
                    stack_id="a",
                    fill=rx.color("red", 9),
                    is_animation_active=False,
                ),
                data=AdminState.chart,
                width="100%",
                height=260,
            ),
            width="100%",
            spacing="3",
        ),
        width="100%",
        class_name="generations-chart",
    )


def _provider_stat_row(row: ProviderStatRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row.provider),
        rx.table.cell(row.generations),
        rx.table.cell(row.success_rate),
        rx.table.cell(row.average_time),
    )


def _provider_stats() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("By provider", size="4"),
            rx.cond(
                AdminState.provider_stats.length() > 0,
                _scrolling(
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                rx.table.column_header_cell("Provider"),
                                rx.table.column_header_cell("Generations"),
                                rx.table.column_header_cell("Success rate"),
                                rx.table.column_header_cell("Average time"),
                            )
                        ),
                        rx.table.body(rx.foreach(AdminState.provider_stats, _provider_stat_row)),
                        width="100%",
                        min_width="480px",
                        class_name="provider-stats",
                    )
                ),
                rx.text("No generations yet.", color=rx.color("gray", 11)),
            ),
            width="100%",
            spacing="3",
        ),
        width="100%",
    )


def _log_row(row: LogRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.when, white_space="nowrap")),
        rx.table.cell(row.user),
        rx.table.cell(row.template),
        rx.table.cell(row.provider),
        rx.table.cell(_status_badge(row.status)),
        rx.table.cell(rx.text(row.error, size="2", color=rx.color("red", 11))),
        class_name="log-row",
    )


def _log_item(row: LogRow) -> rx.Component:
    """One log line stacked for a phone."""
    return rx.vstack(
        rx.hstack(
            _status_badge(row.status),
            rx.text(row.provider, size="2", weight="medium"),
            rx.spacer(),
            rx.text(row.when, size="1", color=rx.color("gray", 11)),
            width="100%",
            align="center",
        ),
        rx.text(row.user, size="2", class_name="log-user"),
        rx.text(row.template, size="1", color=rx.color("gray", 11)),
        rx.cond(row.error != "", rx.text(row.error, size="1", color=rx.color("red", 11))),
        spacing="1",
        width="100%",
        padding_y="0.6rem",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name="log-item",
    )


def _recent_log() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Recent generations", size="4"),
                rx.spacer(),
                rx.el.label(
                    rx.hstack(
                        rx.switch(
                            checked=AdminState.failures_only,
                            on_change=AdminState.set_failures_only,
                            id="failures-only",
                        ),
                        rx.text("Failures only", size="2"),
                        align="center",
                        spacing="2",
                    )
                ),
                width="100%",
                align="center",
                wrap="wrap",
            ),
            rx.cond(
                AdminState.recent.length() > 0,
                rx.fragment(
                    _phone_only(rx.vstack(rx.foreach(AdminState.recent, _log_item), spacing="0")),
                    _desktop_only(
                        rx.table.root(
                            rx.table.header(
                                rx.table.row(
                                    rx.table.column_header_cell("Time (UTC)"),
                                    rx.table.column_header_cell("User"),
                                    rx.table.column_header_cell("Template"),
                                    rx.table.column_header_cell("Provider"),
                                    rx.table.column_header_cell("Status"),
                                    rx.table.column_header_cell("Error"),
                                )
                            ),
                            rx.table.body(rx.foreach(AdminState.recent, _log_row)),
                            width="100%",
                            size="1",
                        )
                    ),
                ),
                rx.text(
                    rx.cond(AdminState.failures_only, "No failures. ", "No generations yet."),
                    color=rx.color("gray", 11),
                ),
            ),
            width="100%",
            spacing="3",
        ),
        width="100%",
    )


def _overview_tab() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.spacer(),
            rx.button(
                rx.icon("refresh-cw", size=16),
                "Refresh",
                variant="soft",
                on_click=AdminState.refresh_overview,
            ),
            width="100%",
        ),
        rx.grid(
            rx.foreach(AdminState.stat_cards, _stat_card),
            columns=rx.breakpoints(initial="2", sm="3", md="4"),
            spacing="3",
            width="100%",
        ),
        _chart(),
        _provider_stats(),
        _recent_log(),
        spacing="4",
        width="100%",
    )


# Providers


def _provider_card(provider: ProviderRow) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.vstack(
                rx.hstack(
                    rx.heading(provider.label, size="4"),
                    rx.cond(
                        provider.configured,
                        rx.badge("Key configured", color_scheme="green", variant="soft"),
                        rx.badge("No key", color_scheme="gray", variant="soft"),
                    ),
                    align="center",
                    wrap="wrap",
                ),
                rx.text(provider.model, size="2", color=rx.color("gray", 11)),
                rx.cond(
                    provider.enabled,
                    rx.text("On for everyone", size="2", color=rx.color("green", 11)),
                    rx.text("Switched off for everyone", size="2", color=rx.color("red", 11)),
                ),
                spacing="1",
                align="start",
            ),
            rx.spacer(),
            rx.switch(
                checked=provider.enabled,
                on_change=lambda on: AdminState.set_provider_enabled(provider.name, on),
                size="3",
                aria_label="Offer " + provider.label + " to everyone",
                class_name="provider-switch",
            ),
            align="center",
            width="100%",
        ),
        class_name="provider-card",
        data_provider=provider.name,
        width="100%",
    )


def _providers_tab() -> rx.Component:
    return rx.vstack(
        rx.text(
            "Switching a provider off takes effect at once: the studio shows it as unavailable "
            "and new generations with it are refused. Images already running finish.",
            size="2",
            color=rx.color("gray", 11),
        ),
        rx.grid(
            rx.foreach(AdminState.providers, _provider_card),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="3",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


# Users


def _user_actions(user: UserView) -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                "Actions",
                rx.icon("chevron-down", size=14),
                variant="soft",
                size="1",
                class_name="user-actions",
            )
        ),
        rx.menu.content(
            rx.menu.item(
                "Grant credits…",
                on_click=AdminState.open_grant(user.index),
                class_name="grant-item",
            ),
            rx.menu.item(
                "Refund a generation…",
                on_click=AdminState.open_refund(user.index),
                class_name="refund-item",
            ),
            rx.cond(
                user.is_me,
                rx.fragment(),
                rx.fragment(
                    rx.menu.separator(),
                    rx.menu.item(
                        rx.cond(user.active, "Disable account…", "Re-enable account…"),
                        color=rx.cond(user.active, "red", "green"),
                        on_click=AdminState.ask_status_change(user.index),
                        class_name="status-item",
                    ),
                ),
            ),
        ),
    )


def _user_row(user: UserView) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.text(user.email, class_name="user-email")),
        rx.table.cell(
            rx.cond(
                user.role == "admin",
                rx.badge("admin", color_scheme="violet", variant="soft"),
                rx.text("user", size="2"),
            )
        ),
        rx.table.cell(
            rx.cond(
                user.active,
                rx.badge("active", color_scheme="green", variant="soft"),
                rx.badge("disabled", color_scheme="red", variant="soft"),
            )
        ),
        rx.table.cell(rx.text(user.available, class_name="user-balance")),
        rx.table.cell(rx.text(user.created, white_space="nowrap")),
        rx.table.cell(_user_actions(user)),
        class_name="user-row",
        data_email=user.email,
    )


def _user_item(user: UserView) -> rx.Component:
    """One account stacked for a phone."""
    return rx.hstack(
        rx.vstack(
            rx.text(
                user.email,
                size="2",
                weight="medium",
                class_name="user-email",
                word_break="break-all",
            ),
            rx.hstack(
                rx.cond(
                    user.role == "admin",
                    rx.badge("admin", color_scheme="violet", variant="soft"),
                ),
                rx.cond(
                    user.active,
                    rx.badge("active", color_scheme="green", variant="soft"),
                    rx.badge("disabled", color_scheme="red", variant="soft"),
                ),
                rx.text(user.available, " credits", size="1", color=rx.color("gray", 11)),
                align="center",
                spacing="2",
            ),
            spacing="1",
            flex="1",
            min_width="0",
        ),
        _user_actions(user),
        width="100%",
        align="center",
        padding="0.75rem",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name="user-item",
    )


def _users_tab() -> rx.Component:
    return rx.vstack(
        rx.form(
            rx.hstack(
                rx.input(
                    rx.input.slot(rx.icon("search", size=16)),
                    name="query",
                    id="user-search",
                    placeholder="Search by email",
                    aria_label="Search users by email",
                    default_value=AdminState.user_query,
                    flex="1",
                ),
                rx.button("Search", type="submit", variant="soft"),
                width="100%",
                max_width="480px",
            ),
            on_submit=AdminState.search_users,
            width="100%",
        ),
        rx.card(
            _phone_only(rx.vstack(rx.foreach(AdminState.users, _user_item), spacing="0")),
            _desktop_only(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Email"),
                            rx.table.column_header_cell("Role"),
                            rx.table.column_header_cell("Status"),
                            rx.table.column_header_cell("Credits"),
                            rx.table.column_header_cell("Joined"),
                            rx.table.column_header_cell(""),
                        )
                    ),
                    rx.table.body(rx.foreach(AdminState.users, _user_row)),
                    width="100%",
                )
            ),
            rx.cond(
                AdminState.users.length() == 0,
                rx.text("No accounts match.", color=rx.color("gray", 11), padding="1rem"),
            ),
            width="100%",
        ),
        rx.hstack(
            rx.text(
                AdminState.user_total,
                rx.cond(AdminState.user_total == 1, " account · page ", " accounts · page "),
                AdminState.user_page + 1,
                " of ",
                AdminState.user_page_count,
                size="2",
                color=rx.color("gray", 11),
            ),
            rx.spacer(),
            rx.button(
                "Previous",
                variant="soft",
                disabled=AdminState.user_page <= 0,
                on_click=AdminState.go_to_page(AdminState.user_page - 1),
            ),
            rx.button(
                "Next",
                variant="soft",
                disabled=AdminState.user_page + 1 >= AdminState.user_page_count,
                on_click=AdminState.go_to_page(AdminState.user_page + 1),
            ),
            width="100%",
            align="center",
        ),
        _grant_dialog(),
        _refund_dialog(),
        _status_dialog(),
        spacing="4",
        width="100%",
    )


def _grant_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Grant credits"),
            rx.dialog.description(
                "Free credits for ",
                rx.text.strong(AdminState.grant_email, word_break="break-all"),
                ".",
            ),
            rx.text(
                "Every grant is written to the audit log.", size="2", color=rx.color("gray", 11)
            ),
            rx.vstack(
                rx.el.label(rx.text("Credits", size="2", weight="medium"), html_for="grant-amount"),
                rx.input(
                    id="grant-amount",
                    value=AdminState.grant_amount,
                    on_change=AdminState.set_grant_amount,
                    input_mode="numeric",
                    placeholder="e.g. 10",
                    width="100%",
                ),
                rx.el.label(rx.text("Reason", size="2", weight="medium"), html_for="grant-reason"),
                rx.input(
                    id="grant-reason",
                    value=AdminState.grant_reason,
                    on_change=AdminState.set_grant_reason,
                    placeholder="e.g. Sorry about the outage",
                    max_length=200,
                    width="100%",
                ),
                rx.cond(
                    AdminState.grant_error != "",
                    rx.callout(
                        AdminState.grant_error,
                        icon="triangle-alert",
                        color_scheme="red",
                        size="1",
                        class_name="grant-error",
                    ),
                ),
                spacing="2",
                margin_y="1rem",
                width="100%",
            ),
            rx.hstack(
                rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button("Grant", id="grant-submit", on_click=AdminState.submit_grant),
                justify="end",
                spacing="3",
            ),
            max_width="440px",
        ),
        open=AdminState.grant_open,
        on_open_change=AdminState.grant_open_changed,
    )


def _refund_option(option: RefundOption) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text(option.label, weight="medium", size="2"),
            rx.text(option.detail, size="1", color=rx.color("gray", 11)),
            spacing="0",
            flex="1",
            min_width="0",
        ),
        rx.cond(
            option.refunded,
            rx.badge("Refunded", color_scheme="gray", variant="soft"),
            rx.button(
                "Refund ",
                option.cost,
                size="1",
                variant="soft",
                on_click=AdminState.refund(option.index),
                class_name="refund-button",
            ),
        ),
        width="100%",
        align="center",
        padding_y="0.5rem",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name="refund-option",
    )


def _refund_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Refund a generation"),
            rx.dialog.description(
                "Recent charged images of ",
                rx.text.strong(AdminState.refund_email),
                ". A refund gives back exactly what the image cost, once.",
            ),
            rx.cond(
                AdminState.refund_options.length() > 0,
                rx.vstack(
                    rx.foreach(AdminState.refund_options, _refund_option),
                    spacing="0",
                    margin_y="1rem",
                ),
                rx.text(
                    "No charged images to refund.", color=rx.color("gray", 11), margin_y="1rem"
                ),
            ),
            rx.hstack(
                rx.dialog.close(rx.button("Done", variant="soft", color_scheme="gray")),
                justify="end",
            ),
            max_width="520px",
        ),
        open=AdminState.refund_open,
        on_open_change=AdminState.refund_open_changed,
    )


def _status_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(
                rx.cond(
                    AdminState.status_to_active, "Re-enable this account?", "Disable this account?"
                )
            ),
            rx.alert_dialog.description(
                rx.cond(
                    AdminState.status_to_active,
                    rx.text(
                        rx.text.strong(AdminState.status_email), " will be able to sign in again."
                    ),
                    rx.text(
                        rx.text.strong(AdminState.status_email),
                        " is signed out everywhere at once and cannot sign in until re-enabled. "
                        "Their images and credits stay.",
                    ),
                )
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(
                        rx.cond(AdminState.status_to_active, "Re-enable", "Disable"),
                        color_scheme=rx.cond(AdminState.status_to_active, "green", "red"),
                        on_click=AdminState.confirm_status_change,
                        id="status-confirm",
                    )
                ),
                justify="end",
                spacing="3",
                margin_top="1rem",
            ),
            max_width="440px",
        ),
        open=AdminState.status_open,
        on_open_change=AdminState.status_open_changed,
    )


# The frame

_TABS = [
    ("overview", "Overview", _overview_tab),
    ("categories", "Categories", categories_tab),
    ("templates", "Templates", templates_tab),
    ("providers", "Providers", _providers_tab),
    ("users", "Users", _users_tab),
    ("audit", "Audit log", audit_tab),
]


def admin_page() -> rx.Component:
    return page_frame(
        rx.vstack(
            rx.heading("Admin", size="8"),
            rx.cond(
                AdminState.loaded,
                rx.tabs.root(
                    rx.box(
                        rx.tabs.list(
                            *[
                                rx.tabs.trigger(label, value=value, class_name=f"tab-{value}")
                                for value, label, _ in _TABS
                            ],
                            size="2",
                            flex_wrap="wrap",
                        ),
                        width="100%",
                    ),
                    *[
                        rx.tabs.content(build(), value=value, padding_top="1.25rem")
                        for value, _, build in _TABS
                    ],
                    default_value="overview",
                    width="100%",
                ),
                rx.vstack(
                    rx.skeleton(height="2.5rem", width="100%"),
                    rx.skeleton(height="8rem", width="100%"),
                    rx.skeleton(height="16rem", width="100%"),
                    width="100%",
                    spacing="3",
                ),
            ),
            spacing="4",
            width="100%",
        )
    )
