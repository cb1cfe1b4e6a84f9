"""The Buy Credits page: packs priced in rupees, then the user's statement."""

from __future__ import annotations

import reflex as rx

from studio_app.components.layout import page_frame
from studio_app.services.statement import StatementRow
from studio_app.states.credits import CreditsState, PackView


def _banners() -> rx.Component:
    return rx.fragment(
        rx.cond(
            CreditsState.test_mode,
            rx.callout(
                "Test mode — no real payment. Purchases complete at once and nothing is charged.",
                icon="flask-conical",
                color_scheme="amber",
                class_name="test-mode-banner",
                width="100%",
            ),
        ),
        rx.cond(
            CreditsState.loaded & ~CreditsState.can_buy,
            rx.callout(
                "Purchases are unavailable right now: no payment method is set up on this "
                "server. Your credits and statement are below.",
                icon="circle-alert",
                color_scheme="gray",
                class_name="purchases-unavailable",
                width="100%",
            ),
        ),
    )


def _pack_card(pack: PackView) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon("coins", size=22, color=rx.color("amber", 10)),
                rx.text(pack.credits, " credits", size="5", weight="bold"),
                align="center",
                spacing="2",
            ),
            rx.text("₹", pack.rupees, size="8", weight="bold", class_name="pack-price"),
            rx.text(pack.per_credit_note, size="2", color=rx.color("gray", 11)),
            rx.text(pack.images_note, size="2", color=rx.color("gray", 11)),
            rx.button(
                rx.icon("shopping-cart", size=16),
                "Buy ",
                pack.credits,
                " credits",
                on_click=CreditsState.buy(pack.credits, CreditsState.purchase_key),
                loading=CreditsState.buying == pack.credits,
                disabled=~CreditsState.can_buy | (CreditsState.buying != 0),
                size="3",
                width="100%",
                margin_top="0.5rem",
                class_name="buy-pack",
            ),
            spacing="2",
            align="start",
            width="100%",
        ),
        size="3",
        class_name="pack-card",
        data_credits=pack.credits,
    )


def _packs() -> rx.Component:
    return rx.cond(
        CreditsState.loaded,
        rx.grid(
            rx.foreach(CreditsState.packs, _pack_card),
            columns=rx.breakpoints(initial="1", sm="3"),
            spacing="4",
            width="100%",
        ),
        rx.grid(
            *[rx.skeleton(height="13rem", width="100%") for _ in range(3)],
            columns=rx.breakpoints(initial="1", sm="3"),
            spacing="4",
            width="100%",
        ),
    )


def _amount(row: StatementRow) -> rx.Component:
    return rx.text(
        row.amount_label,
        weight="bold",
        color=rx.cond(row.amount > 0, rx.color("grass", 11), rx.color("gray", 12)),
        class_name="statement-amount",
    )


def _table_row(row: StatementRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.when, white_space="nowrap", color=rx.color("gray", 11)),
        rx.table.cell(row.description, class_name="statement-description"),
        rx.table.cell(_amount(row), justify="end"),
        rx.table.cell(row.balance_after, justify="end", class_name="statement-balance"),
        class_name="statement-row",
    )


def _statement_table() -> rx.Component:
    return rx.table.root(
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell("Date"),
                rx.table.column_header_cell("What"),
                rx.table.column_header_cell("Credits", justify="end"),
                rx.table.column_header_cell("Balance", justify="end"),
            )
        ),
        rx.table.body(rx.foreach(CreditsState.statement_rows, _table_row)),
        variant="surface",
        width="100%",
        class_name="statement-table",
        display=rx.breakpoints(initial="none", sm="table"),
    )


def _phone_line(row: StatementRow) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text(row.description, weight="medium", size="2"),
            rx.text(row.when, size="1", color=rx.color("gray", 11)),
            spacing="1",
            align="start",
        ),
        rx.spacer(),
        rx.vstack(
            _amount(row),
            rx.text("balance ", row.balance_after, size="1", color=rx.color("gray", 11)),
            spacing="1",
            align="end",
        ),
        width="100%",
        padding_y="0.75rem",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        style={"&:last-child": {"border_bottom": "none"}},
        class_name="statement-line",
    )


def _statement_list() -> rx.Component:
    return rx.card(
        rx.vstack(rx.foreach(CreditsState.statement_rows, _phone_line), spacing="0", width="100%"),
        width="100%",
        display=rx.breakpoints(initial="block", sm="none"),
    )


def _statement() -> rx.Component:
    return rx.vstack(
        rx.heading("Statement", size="5", as_="h2"),
        rx.text(
            "Every credit in and out of your account, newest first.",
            size="2",
            color=rx.color("gray", 11),
        ),
        rx.cond(
            CreditsState.statement_rows.length() > 0,
            rx.fragment(_statement_table(), _statement_list()),
            rx.cond(
                CreditsState.loaded,
                rx.text("Nothing yet.", color=rx.color("gray", 11)),
                rx.skeleton(height="8rem", width="100%"),
            ),
        ),
        spacing="3",
        width="100%",
        margin_top="2.5rem",
    )


def buy_credits_page() -> rx.Component:
    return page_frame(
        rx.vstack(
            rx.heading("Buy Credits", size="8"),
            rx.text(
                "1 credit = ₹5. A standard image costs 1 credit, premium 2 and premium wide 4. "
                "Credits are only taken when an image arrives.",
                color=rx.color("gray", 11),
            ),
            _banners(),
            _packs(),
            _statement(),
            spacing="4",
            width="100%",
        ),
        max_width="960px",
    )
