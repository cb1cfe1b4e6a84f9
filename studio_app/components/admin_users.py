"""The admin tab's Users: search, pages, and the grant / refund / disable dialogs."""

from __future__ import annotations

import reflex as rx

from studio_app.components.admin_common import desktop_only, phone_only
from studio_app.states.admin import AdminState, RefundOption, UserView


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


def users_tab() -> rx.Component:
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
            phone_only(rx.vstack(rx.foreach(AdminState.users, _user_item), spacing="0")),
            desktop_only(
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
