"""The Admin page.

A stand-in frame for the catalog branch: the admin-frame branch owns this file
and places the same three tabs (named "Categories", "Templates", "Audit log").
"""

from __future__ import annotations

import reflex as rx

from studio_app.components.admin_catalog import audit_tab, categories_tab, templates_tab
from studio_app.components.layout import page_frame


def admin_page() -> rx.Component:
    return page_frame(
        rx.vstack(
            rx.heading("Admin", size="8"),
            rx.tabs.root(
                rx.tabs.list(
                    rx.tabs.trigger("Categories", value="categories"),
                    rx.tabs.trigger("Templates", value="templates"),
                    rx.tabs.trigger("Audit log", value="audit"),
                ),
                rx.tabs.content(categories_tab(), value="categories", padding_top="4"),
                rx.tabs.content(templates_tab(), value="templates", padding_top="4"),
                rx.tabs.content(audit_tab(), value="audit", padding_top="4"),
                default_value="categories",
                width="100%",
            ),
            spacing="4",
            width="100%",
        )
    )
