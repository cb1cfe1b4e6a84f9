"""The Buy Credits page."""

from __future__ import annotations

import reflex as rx

from studio_app.components.layout import page_frame


def buy_credits_page() -> rx.Component:
    return page_frame(rx.heading("Buy Credits", size="8"))
