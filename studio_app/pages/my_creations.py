"""The My Creations page."""

from __future__ import annotations

import reflex as rx

from studio_app.components.layout import page_frame


def my_creations_page() -> rx.Component:
    return page_frame(rx.heading("My Creations", size="8"))
