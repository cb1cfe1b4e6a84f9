"""Sign-in and sign-up pages."""

from __future__ import annotations

from typing import Literal

import reflex as rx

from studio_app.components.layout import page_frame
from studio_app.routes import LOGIN, SIGNUP


def _field(
    label: str, name: str, kind: Literal["email", "password"], autocomplete: str
) -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", size="2", weight="medium", html_for=name),
        rx.input(
            name=name,
            id=name,
            type=kind,
            required=True,
            auto_complete=autocomplete,
            size="3",
            width="100%",
        ),
        spacing="1",
        width="100%",
    )


def _error() -> rx.Component:
    """Where assets/studio_session.js puts the server's answer to a failed submit."""
    return rx.callout.root(
        rx.callout.icon(rx.icon("triangle-alert")),
        rx.callout.text(custom_attrs={"data-studio-session-error-text": ""}),
        color_scheme="red",
        role="alert",
        class_name="form-error",
        width="100%",
        # Hidden until the script marks it shown: a data attribute React never touches.
        display="none",
        custom_attrs={"data-studio-session-error": ""},
    )


def _session_form(action: str, *fields: rx.Component) -> rx.Component:
    """A form that assets/studio_session.js posts to `action` as JSON (the server sets
    the cookie). Never sent by the browser itself: were the script missing, a native
    submit would still be a POST (no password in a URL), which the server refuses."""
    return rx.form(
        rx.vstack(_error(), *fields, spacing="4", width="100%"),
        custom_attrs={"data-studio-session": action, "method": "post", "action": action},
        reset_on_submit=False,
        width="100%",
    )


def _card(title: str, subtitle: str, form: rx.Component, footer: rx.Component) -> rx.Component:
    return page_frame(
        rx.center(
            rx.card(
                rx.vstack(
                    rx.heading(title, size="7"),
                    rx.text(subtitle, color=rx.color("gray", 11)),
                    form,
                    footer,
                    spacing="4",
                    width="100%",
                ),
                size="4",
                width="100%",
                max_width="440px",
            ),
            padding_top="3rem",
        ),
    )


def login_page() -> rx.Component:
    form = _session_form(
        "/auth/signin",
        _field("Email", "email", "email", "email"),
        _field("Password", "password", "password", "current-password"),
        rx.button("Sign in", type="submit", size="3", width="100%"),
    )
    footer = rx.text(
        "New here? ",
        rx.link("Create an account", href=SIGNUP),
        size="2",
        color=rx.color("gray", 11),
    )
    return _card("Welcome back", "Sign in to create images.", form, footer)


def signup_page() -> rx.Component:
    form = _session_form(
        "/auth/signup",
        _field("Email", "email", "email", "email"),
        _field("Password (at least 8 characters)", "password", "password", "new-password"),
        _field("Repeat the password", "password_confirm", "password", "new-password"),
        rx.button("Create account", type="submit", size="3", width="100%"),
    )
    footer = rx.text(
        "Already have an account? ",
        rx.link("Sign in", href=LOGIN),
        size="2",
        color=rx.color("gray", 11),
    )
    return _card(
        "Create your account",
        "You start with free credits — enough for your first images.",
        form,
        footer,
    )
