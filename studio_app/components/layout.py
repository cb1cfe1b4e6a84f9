"""The frame every page sits in."""

from __future__ import annotations

import reflex as rx


def header() -> rx.Component:
    return rx.hstack(
        rx.hstack(
            rx.icon("sparkles", size=22, color=rx.color("violet", 9)),
            rx.heading("Studio", size="5", weight="bold"),
            align="center",
            spacing="2",
        ),
        rx.spacer(),
        padding_x="2rem",
        padding_y="1rem",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        background_color=rx.color("gray", 1),
        width="100%",
        align="center",
        position="sticky",
        top="0",
        z_index="10",
    )


def page_frame(*children: rx.Component) -> rx.Component:
    return rx.box(
        header(),
        rx.box(
            *children,
            max_width="1200px",
            margin_x="auto",
            padding_x="2rem",
            padding_y="2rem",
        ),
        min_height="100vh",
        background_color=rx.color("gray", 2),
    )
