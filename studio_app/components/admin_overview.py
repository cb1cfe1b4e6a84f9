"""The admin tab's Overview: counts, the chart of generations per day and the recent log."""

from __future__ import annotations

import reflex as rx

from studio_app.components.admin_common import desktop_only, phone_only, scrolling, status_badge
from studio_app.states.admin import AdminState, LogRow, ProviderStatRow, StatCard


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
                scrolling(
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
        rx.table.cell(status_badge(row.status)),
        rx.table.cell(rx.text(row.error, size="2", color=rx.color("red", 11))),
        class_name="log-row",
    )


def _log_item(row: LogRow) -> rx.Component:
    """One log line stacked for a phone."""
    return rx.vstack(
        rx.hstack(
            status_badge(row.status),
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
                    phone_only(rx.vstack(rx.foreach(AdminState.recent, _log_item), spacing="0")),
                    desktop_only(
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


def overview_tab() -> rx.Component:
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
