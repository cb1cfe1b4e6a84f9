"""The Account page's "API tokens" card: what they are for, make one, see it once, revoke."""

from __future__ import annotations

import reflex as rx
from reflex.vars import FunctionStringVar

from studio_app.components.layout import section_card
from studio_app.states.account import (
    DEFAULT_TOKEN_LIFETIME,
    NEW_TOKEN_SECRET_FIELD,
    TOKEN_EXPIRY_FIELD,
    TOKEN_LIFETIMES,
    TOKEN_NAME_FIELD,
    TOKEN_NAME_LIMIT,
    TOKEN_PASSWORD_FIELD,
    AccountState,
    TokenRow,
)

_MONO = "var(--code-font-family)"


def _usage() -> rx.Component:
    return rx.box(
        rx.vstack(
            rx.text(
                "Send a token with every request to the API at ",
                rx.code("/api", variant="ghost"),
                " in this header:",
                size="2",
            ),
            rx.code(
                "Authorization: Bearer <your token>",
                size="2",
                variant="soft",
                color_scheme="gray",
                padding="0.4rem 0.6rem",
                width="100%",
                overflow_x="auto",
                white_space="nowrap",
            ),
            rx.link(
                rx.hstack(
                    rx.icon("book-open", size=15),
                    rx.text("Read the API docs"),
                    rx.icon("external-link", size=13),
                    spacing="1",
                    align="center",
                ),
                href="/api/docs",
                is_external=True,
                size="2",
                weight="medium",
                class_name="api-docs-link",
            ),
            spacing="2",
            width="100%",
        ),
        padding="0.9rem 1rem",
        border_radius="var(--radius-3)",
        background_color=rx.color("gray", 2),
        border=f"1px solid {rx.color('gray', 4)}",
        width="100%",
    )


def _label(text: str, field: str) -> rx.Component:
    return rx.text(text, as_="label", size="2", weight="medium", html_for=field)


def _create_form() -> rx.Component:
    """Name, lifetime and the account's password: the dialog's first view."""
    return rx.form(
        rx.vstack(
            _label("Token name", TOKEN_NAME_FIELD),
            rx.input(
                name=TOKEN_NAME_FIELD,
                id=TOKEN_NAME_FIELD,
                placeholder="e.g. Laptop script, CI pipeline",
                auto_complete="off",
                max_length=TOKEN_NAME_LIMIT,
                size="3",
                width="100%",
            ),
            rx.text(
                "Say where it is used, so you know which one to revoke later.",
                size="1",
                color=rx.color("gray", 11),
            ),
            _label("Expires", TOKEN_EXPIRY_FIELD),
            rx.select.root(
                rx.select.trigger(id=TOKEN_EXPIRY_FIELD, width="100%"),
                rx.select.content(
                    *[rx.select.item(label, value=value) for value, label in TOKEN_LIFETIMES]
                ),
                name=TOKEN_EXPIRY_FIELD,
                default_value=DEFAULT_TOKEN_LIFETIME,
                size="3",
            ),
            _label("Your password", TOKEN_PASSWORD_FIELD),
            rx.input(
                name=TOKEN_PASSWORD_FIELD,
                id=TOKEN_PASSWORD_FIELD,
                type="password",
                auto_complete="current-password",
                size="3",
                width="100%",
            ),
            rx.cond(
                AccountState.token_error != "",
                rx.callout(
                    AccountState.token_error,
                    icon="triangle-alert",
                    color_scheme="red",
                    role="alert",
                    class_name="token-error",
                    width="100%",
                ),
            ),
            rx.flex(
                rx.dialog.close(
                    rx.button(
                        "Cancel", type="button", size="3", variant="soft", color_scheme="gray"
                    )
                ),
                rx.button(
                    "Create token",
                    type="submit",
                    size="3",
                    id="create-token",
                    loading=AccountState.creating_token,
                ),
                spacing="3",
                justify="end",
                width="100%",
                margin_top="0.5rem",
            ),
            spacing="2",
            width="100%",
        ),
        on_submit=AccountState.create_token,
        reset_on_submit=False,
        width="100%",
    )


def _copy_new_token() -> rx.event.EventSpec:
    # A function compiled into the page, not code sent later: no eval (the CSP forbids it).
    return rx.call_function(
        FunctionStringVar.create(
            "() => navigator.clipboard.writeText("
            f"document.getElementById('{NEW_TOKEN_SECRET_FIELD}').value)"
        )
    )


def _new_token_view() -> rx.Component:
    """The dialog's second view: the secret, written into its field by the server once."""
    return rx.vstack(
        rx.text(
            rx.text.strong(AccountState.new_token_name),
            " is ready. Copy it now and keep it somewhere safe, such as a password manager.",
            size="2",
        ),
        rx.callout(
            "This is the only time you will see this token. If you lose it, "
            "revoke it and create a new one.",
            icon="triangle-alert",
            color_scheme="amber",
            width="100%",
        ),
        rx.input(
            id=NEW_TOKEN_SECRET_FIELD,
            read_only=True,
            size="3",
            width="100%",
            font_family=_MONO,
            class_name="new-token-secret",
            aria_label="Your new API token",
            on_focus=rx.call_function(FunctionStringVar.create("(event) => event.target.select()")),
        ),
        rx.flex(
            rx.button(
                rx.icon("copy", size=16),
                "Copy token",
                size="3",
                on_click=[_copy_new_token(), rx.toast.success("Token copied.")],
                class_name="copy-token",
            ),
            rx.dialog.close(
                rx.button(
                    "I have saved it",
                    size="3",
                    variant="soft",
                    color_scheme="gray",
                    class_name="close-new-token",
                )
            ),
            direction=rx.breakpoints(initial="column", sm="row"),
            spacing="3",
            justify="end",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


def _create_dialog() -> rx.Component:
    made = AccountState.new_token_name != ""
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(
                rx.icon("plus", size=16),
                "Create token",
                size="3",
                id="open-create-token",
                on_click=AccountState.open_token_dialog,
            )
        ),
        rx.dialog.content(
            rx.dialog.title(
                rx.cond(
                    made,
                    rx.hstack(
                        rx.icon("circle-check", size=20, color=rx.color("grass", 10)),
                        rx.text("Copy your new token"),
                        align="center",
                        spacing="2",
                    ),
                    rx.text("Create an API token"),
                )
            ),
            rx.dialog.description(
                rx.cond(
                    made,
                    "",
                    "It acts as you through the REST API until it expires or you revoke it.",
                ),
                size="2",
                margin_bottom="1rem",
            ),
            # Both views stay mounted while the dialog is open, so the secret's field
            # exists when the server writes into it.
            rx.box(_create_form(), display=rx.cond(made, "none", "block")),
            rx.box(_new_token_view(), display=rx.cond(made, "block", "none")),
            max_width="520px",
            # A stray click beside the dialog must not throw the secret away.
            on_interact_outside=rx.prevent_default,
            class_name="new-token-dialog",
        ),
        open=AccountState.token_dialog_open,
        on_open_change=AccountState.token_dialog_changed,
    )


def _revoke_button(row: TokenRow) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(
                "Revoke",
                color_scheme="red",
                variant="soft",
                size="2",
                class_name="revoke-token",
            )
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Revoke this token?"),
            rx.alert_dialog.description(
                rx.text(
                    "Scripts and tools using ",
                    rx.text.strong(row.name),
                    " (",
                    rx.code(row.prefix, "…"),
                    ") stop working at once. This cannot be undone: "
                    "you would create a new token instead.",
                )
            ),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(
                        "Revoke token",
                        color_scheme="red",
                        on_click=AccountState.revoke_token(row.index),
                        class_name="confirm-revoke-token",
                    )
                ),
                spacing="3",
                justify="end",
                margin_top="1rem",
            ),
            max_width="440px",
        ),
    )


def _status(row: TokenRow) -> rx.Component:
    return rx.cond(
        row.revoked == "",
        rx.badge("Active", color_scheme="grass", variant="soft", class_name="token-status"),
        rx.badge("Revoked", color_scheme="gray", variant="surface", class_name="token-status"),
    )


def _fact(label: str, value: rx.Var[str] | str) -> rx.Component:
    return rx.text(
        rx.text.span(label, color=rx.color("gray", 11)),
        " ",
        value,
        size="1",
        white_space="nowrap",
    )


def _token_line(row: TokenRow) -> rx.Component:
    return rx.flex(
        rx.hstack(
            rx.icon(
                "key-round",
                size=18,
                color=rx.cond(row.revoked == "", rx.color("violet", 10), rx.color("gray", 9)),
                flex_shrink="0",
                margin_top="2px",
            ),
            rx.vstack(
                rx.hstack(
                    rx.text(
                        row.name,
                        weight="bold",
                        size="2",
                        class_name="token-name",
                        style={"overflow_wrap": "anywhere"},
                    ),
                    _status(row),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                rx.code(row.prefix, "…", size="1", variant="ghost", class_name="token-prefix"),
                rx.flex(
                    _fact("Created", row.created),
                    _fact("Last used", row.last_used),
                    rx.cond(row.revoked == "", _fact("Expires", row.expires)),
                    rx.cond(row.revoked != "", _fact("Revoked", row.revoked)),
                    spacing="1",
                    column_gap="1rem",
                    wrap="wrap",
                ),
                spacing="1",
                min_width="0",
            ),
            spacing="3",
            align="start",
            min_width="0",
            flex="1",
        ),
        rx.cond(row.revoked == "", _revoke_button(row)),
        gap="0.75rem",
        align="center",
        justify="between",
        width="100%",
        padding_y="0.85rem",
        opacity=rx.cond(row.revoked == "", "1", "0.7"),
        border_top=f"1px solid {rx.color('gray', 4)}",
        class_name="token-row",
    )


def _empty() -> rx.Component:
    return rx.vstack(
        rx.icon("key-round", size=26, color=rx.color("gray", 9)),
        rx.text("No API tokens yet", weight="medium", size="2"),
        rx.text(
            "Create one when a script or another app needs to use your account.",
            size="2",
            color=rx.color("gray", 11),
            text_align="center",
        ),
        align="center",
        spacing="1",
        width="100%",
        padding="1.5rem 1rem",
        border=f"1px dashed {rx.color('gray', 6)}",
        border_radius="var(--radius-3)",
        class_name="tokens-empty",
    )


def _token_list() -> rx.Component:
    return rx.cond(
        AccountState.tokens.length() > 0,
        rx.vstack(
            rx.hstack(
                rx.text("Your tokens", size="2", weight="medium"),
                rx.text(
                    AccountState.active_token_count,
                    " active",
                    size="2",
                    color=rx.color("gray", 11),
                ),
                justify="between",
                width="100%",
            ),
            rx.box(rx.foreach(AccountState.tokens, _token_line), width="100%"),
            rx.text(
                "Revoked tokens stay listed for 30 days.",
                size="1",
                color=rx.color("gray", 11),
            ),
            spacing="1",
            width="100%",
            margin_top="0.5rem",
            class_name="token-list",
        ),
        _empty(),
    )


def api_tokens_section() -> rx.Component:
    return rx.box(
        section_card(
            "API tokens",
            "Personal tokens let your own scripts and tools use Studio through its REST API. "
            "A token acts as you, so keep it as secret as your password.",
            _usage(),
            # Before the page is live the dialog's form would not be ours to submit.
            rx.cond(AccountState.is_hydrated, _create_dialog(), rx.skeleton(height="2.5rem")),
            _token_list(),
        ),
        width="100%",
        id="api-tokens",
        # Leaving the page (not only closing the dialog) makes the browser forget the secret.
        on_unmount=AccountState.token_dialog_changed,
    )
