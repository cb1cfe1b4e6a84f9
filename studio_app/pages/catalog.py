"""The template catalog, grouped by category."""

from __future__ import annotations

import reflex as rx

from studio_app.components.layout import page_frame
from studio_app.services.views import CategoryView, TemplateView
from studio_app.states.catalog import CatalogState


def template_card(template: TemplateView) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(template.name, size="3", as_="h3"),
                rx.spacer(),
                rx.badge(template.default_tier, variant="soft", color_scheme="violet"),
                width="100%",
                align="center",
            ),
            rx.text(template.description, size="2", color=rx.color("gray", 11)),
            rx.box(
                rx.text(template.prompt, size="1", color=rx.color("gray", 12)),
                padding="0.75rem",
                border_radius="var(--radius-3)",
                background_color=rx.color("gray", 3),
                width="100%",
            ),
            spacing="2",
            align="start",
        ),
        class_name="template-card",
        width="100%",
    )


def category_section(category: CategoryView) -> rx.Component:
    return rx.vstack(
        rx.heading(category.name, size="6", as_="h2", class_name="category-name"),
        rx.text(category.description, color=rx.color("gray", 11)),
        rx.grid(
            rx.foreach(category.templates, template_card),
            columns=rx.breakpoints(initial="1", sm="2", lg="3"),
            spacing="4",
            width="100%",
        ),
        spacing="3",
        align="start",
        width="100%",
        margin_bottom="2.5rem",
    )


def catalog_page() -> rx.Component:
    return page_frame(
        rx.vstack(
            rx.heading("Templates", size="8"),
            rx.text(
                "Start from a template, make the prompt yours, and generate.",
                size="4",
                color=rx.color("gray", 11),
            ),
            spacing="2",
            margin_bottom="2rem",
        ),
        rx.cond(
            CatalogState.loaded,
            rx.foreach(CatalogState.categories, category_section),
            rx.center(rx.spinner(size="3"), padding="4rem"),
        ),
    )
