"""The Account page."""

from __future__ import annotations

import reflex as rx

from studio_app.components.layout import page_frame


def account_page() -> rx.Component:
    return page_frame(rx.heading("Account", size="8"))
