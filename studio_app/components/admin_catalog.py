"""The admin tab's Categories, Templates and Audit log sections."""

from __future__ import annotations

import reflex as rx


def categories_tab() -> rx.Component:
    return rx.text("Categories")


def templates_tab() -> rx.Component:
    return rx.text("Templates")


def audit_tab() -> rx.Component:
    return rx.text("Audit log")
