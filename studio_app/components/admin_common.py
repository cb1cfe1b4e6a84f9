"""Small pieces the admin tab's sections share."""

from __future__ import annotations

import reflex as rx

from studio_app.components.values import match_value
from studio_app.models import GenerationStatus


def status_badge(status: rx.Var[str] | str) -> rx.Component:
    return rx.badge(
        status,
        color_scheme=match_value(
            status,
            (GenerationStatus.SUCCEEDED.value, "green"),
            (GenerationStatus.FAILED.value, "red"),
            "amber",
        ),
        variant="soft",
    )


def scrolling(table: rx.Component) -> rx.Component:
    """Wide tables scroll sideways inside their card on a phone instead of the page."""
    return rx.box(table, width="100%", overflow_x="auto")


def desktop_only(child: rx.Component) -> rx.Component:
    return rx.box(child, width="100%", display=rx.breakpoints(initial="none", md="block"))


def phone_only(child: rx.Component) -> rx.Component:
    return rx.box(child, width="100%", display=rx.breakpoints(initial="block", md="none"))
