"""The frame every page sits in: a header with the product, credits and account."""

from __future__ import annotations

import reflex as rx

from studio_app.routes import (
    ACCOUNT,
    ADMIN,
    BUY_CREDITS,
    COMMUNITY,
    LOGIN,
    MY_CREATIONS,
    SIGNUP,
    STUDIO,
)
from studio_app.states.auth import AuthState


def _brand() -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.icon("sparkles", size=22, color=rx.color("violet", 9)),
            rx.heading("Studio", size="5", weight="bold"),
            align="center",
            spacing="2",
        ),
        href=STUDIO,
        underline="none",
        color="inherit",
    )


def credits_badge() -> rx.Component:
    return rx.tooltip(
        rx.badge(
            rx.icon("coins", size=16),
            rx.text(AuthState.credits_available, class_name="credit-balance", weight="bold"),
            rx.text("credits"),
            size="3",
            variant="soft",
            color_scheme="amber",
            radius="full",
        ),
        content="Credits you can spend now",
    )


def _account_menu() -> rx.Component:
    return rx.hstack(
        rx.link(credits_badge(), href=BUY_CREDITS, underline="none"),
        rx.menu.root(
            rx.menu.trigger(
                rx.button(
                    rx.icon("circle-user", size=18),
                    rx.text(
                        AuthState.email,
                        class_name="account-email",
                        display=rx.breakpoints(initial="none", sm="block"),
                    ),
                    variant="ghost",
                    color_scheme="gray",
                )
            ),
            rx.menu.content(
                rx.menu.item("Account", on_click=rx.redirect(ACCOUNT)),
                rx.menu.separator(),
                rx.menu.item(
                    "Sign out",
                    # assets/studio_session.js posts to /auth/signout (the cookie is HttpOnly).
                    custom_attrs={"data-studio-signout": "this"},
                    class_name="sign-out",
                ),
            ),
        ),
        _mobile_nav(),
        align="center",
        spacing=rx.breakpoints(initial="2", md="4"),
    )


NAV_LINKS = [
    ("Studio", STUDIO),
    ("Community", COMMUNITY),
    ("My Creations", MY_CREATIONS),
    ("Buy Credits", BUY_CREDITS),
]


def _nav_link(label: str, href: str) -> rx.Component:
    return rx.link(
        label, href=href, color=rx.color("gray", 12), weight="medium", class_name="nav-link"
    )


def _nav() -> rx.Component:
    return rx.hstack(
        *[_nav_link(label, href) for label, href in NAV_LINKS],
        rx.cond(AuthState.is_admin, _nav_link("Admin", ADMIN)),
        spacing="5",
        margin_left="2rem",
        display=rx.breakpoints(initial="none", md="flex"),
    )


def _mobile_nav() -> rx.Component:
    return rx.box(
        rx.menu.root(
            rx.menu.trigger(
                rx.icon_button(rx.icon("menu", size=18), variant="ghost", aria_label="Menu")
            ),
            rx.menu.content(
                *[rx.menu.item(label, on_click=rx.redirect(href)) for label, href in NAV_LINKS],
                rx.cond(AuthState.is_admin, rx.menu.item("Admin", on_click=rx.redirect(ADMIN))),
            ),
        ),
        display=rx.breakpoints(initial="block", md="none"),
    )


def _color_mode_toggle() -> rx.Component:
    return rx.icon_button(
        rx.color_mode_cond(light=rx.icon("moon", size=18), dark=rx.icon("sun", size=18)),
        on_click=rx.toggle_color_mode,
        variant="ghost",
        color_scheme="gray",
        aria_label="Switch light or dark",
    )


def header() -> rx.Component:
    return rx.hstack(
        _brand(),
        rx.cond(AuthState.signed_in, _nav()),
        rx.spacer(),
        _color_mode_toggle(),
        rx.cond(
            AuthState.signed_in,
            _account_menu(),
            rx.hstack(
                rx.button(
                    rx.link("Sign in", href=LOGIN),
                    variant="soft",
                    as_child=True,
                    size=rx.breakpoints(initial="1", sm="2"),
                ),
                rx.button(
                    rx.link("Create account", href=SIGNUP),
                    as_child=True,
                    size=rx.breakpoints(initial="1", sm="2"),
                ),
                spacing=rx.breakpoints(initial="2", sm="3"),
            ),
        ),
        padding_x=rx.breakpoints(initial="1rem", md="2rem"),
        padding_y="0.9rem",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        background_color=rx.color("gray", 1),
        width="100%",
        align="center",
        position="sticky",
        top="0",
        z_index="10",
    )


def page_frame(*children: rx.Component, max_width: str = "1200px") -> rx.Component:
    return rx.box(
        header(),
        rx.box(
            *children,
            max_width=max_width,
            margin_x="auto",
            padding_x=rx.breakpoints(initial="1rem", md="2rem"),
            padding_y="2rem",
        ),
        min_height="100vh",
        background_color=rx.color("gray", 2),
    )


def section_card(title: str, subtitle: str, *children: rx.Component) -> rx.Component:
    """A titled card, one per topic of a settings-like page (the Account page)."""
    return rx.card(
        rx.vstack(
            rx.heading(title, size="4", as_="h2"),
            rx.text(subtitle, size="2", color=rx.color("gray", 11)),
            *children,
            spacing="3",
            width="100%",
        ),
        size="3",
        width="100%",
    )
