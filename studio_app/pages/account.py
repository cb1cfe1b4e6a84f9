"""The Account page: who you are, change your password, API tokens, sign out everywhere."""

from __future__ import annotations

import reflex as rx

from studio_app.components.api_tokens import api_tokens_section
from studio_app.components.layout import page_frame, section_card
from studio_app.states.account import AccountState
from studio_app.states.auth import AuthState


def _details() -> rx.Component:
    return section_card(
        "Your account",
        "The email you sign in with.",
        rx.data_list.root(
            rx.data_list.item(
                rx.data_list.label("Email"),
                rx.data_list.value(AuthState.email, class_name="account-details-email"),
            ),
            rx.data_list.item(
                rx.data_list.label("Member since"),
                rx.data_list.value(AccountState.member_since),
            ),
            orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
        ),
    )


def _public_name() -> rx.Component:
    form = rx.form(
        rx.vstack(
            rx.cond(
                AccountState.name_error != "",
                rx.callout(
                    AccountState.name_error,
                    icon="triangle-alert",
                    color_scheme="red",
                    role="alert",
                    class_name="name-error",
                    width="100%",
                ),
            ),
            rx.text(
                "Display name", as_="label", size="2", weight="medium", html_for="display_name"
            ),
            rx.hstack(
                rx.input(
                    name="display_name",
                    id="display_name",
                    default_value=AccountState.display_name,
                    key=AccountState.display_name,
                    placeholder="e.g. Mira K",
                    max_length=30,
                    auto_complete="nickname",
                    size="3",
                    width="100%",
                ),
                rx.button(
                    "Save",
                    type="submit",
                    size="3",
                    loading=AccountState.saving_name,
                    id="save-name",
                ),
                spacing="2",
                width="100%",
            ),
            rx.text(
                "3–30 letters, digits, spaces and . _ - '. Not your email: it is shown to everyone.",
                size="1",
                color=rx.color("gray", 11),
            ),
            spacing="2",
            width="100%",
            max_width="420px",
        ),
        on_submit=AccountState.save_display_name,
        reset_on_submit=False,
        width="100%",
    )
    return section_card(
        "Public name",
        "The name people see on the pictures you publish to the community. Your email is "
        "never shown.",
        rx.cond(AccountState.is_hydrated, form, rx.skeleton(height="6rem", width="100%")),
    )


def _password_field(label: str, name: str, autocomplete: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", size="2", weight="medium", html_for=name),
        rx.input(
            name=name,
            id=name,
            type="password",
            required=True,
            auto_complete=autocomplete,
            size="3",
            width="100%",
        ),
        spacing="1",
        width="100%",
    )


def _change_password() -> rx.Component:
    form = rx.form(
        rx.vstack(
            rx.cond(
                AccountState.password_error != "",
                rx.callout(
                    AccountState.password_error,
                    icon="triangle-alert",
                    color_scheme="red",
                    role="alert",
                    class_name="password-error",
                    width="100%",
                ),
            ),
            _password_field("Current password", "current_password", "current-password"),
            _password_field("New password (at least 8 characters)", "new_password", "new-password"),
            _password_field("Repeat the new password", "repeat_password", "new-password"),
            rx.button(
                "Change password",
                type="submit",
                size="3",
                loading=AccountState.changing_password,
                id="change-password",
            ),
            spacing="3",
            width="100%",
            max_width="420px",
        ),
        on_submit=AccountState.change_password,
        reset_on_submit=False,
        width="100%",
    )
    return section_card(
        "Change password",
        "When the password changes, your other sessions are signed out and your API tokens "
        "revoked; this session stays.",
        # Until the page is live a submit would be a plain GET with the passwords in the URL.
        rx.cond(AccountState.is_hydrated, form, rx.skeleton(height="14rem", width="100%")),
    )


def _sign_out_everywhere() -> rx.Component:
    confirm = rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(
                rx.icon("log-out", size=16),
                "Sign out of all sessions",
                color_scheme="red",
                variant="soft",
                size="3",
                id="sign-out-everywhere",
            )
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Sign out of all sessions?"),
            rx.alert_dialog.description(
                "Every browser and device signed in to this account is signed out, "
                "this one too, and every API token is revoked: scripts that use one stop "
                "working. You can sign in again with your password."
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(
                        "Sign out everywhere",
                        color_scheme="red",
                        # assets/studio_session.js posts it: the server clears the cookie.
                        custom_attrs={"data-studio-signout": "everywhere"},
                        id="confirm-sign-out-everywhere",
                    )
                ),
                spacing="3",
                justify="end",
                margin_top="1rem",
            ),
        ),
    )
    return section_card(
        "Sessions",
        "Lost a device or signed in on a shared computer? Sign out everywhere at once.",
        rx.box(confirm),
    )


def account_page() -> rx.Component:
    return page_frame(
        rx.vstack(
            rx.heading("Account", size="8"),
            _details(),
            _public_name(),
            _change_password(),
            api_tokens_section(),
            _sign_out_everywhere(),
            spacing="4",
            width="100%",
        ),
        max_width="720px",
    )
