"""The admin tab: Overview, Categories, Templates, Providers, Users, Moderation and
Audit log."""

from __future__ import annotations

import reflex as rx

from studio_app.components.admin_catalog import audit_tab, categories_tab, templates_tab
from studio_app.components.admin_moderation import moderation_tab
from studio_app.components.admin_overview import overview_tab
from studio_app.components.admin_providers import providers_tab
from studio_app.components.admin_users import users_tab
from studio_app.components.layout import page_frame
from studio_app.states.admin import AdminState

_TABS = [
    ("overview", "Overview", overview_tab),
    ("categories", "Categories", categories_tab),
    ("templates", "Templates", templates_tab),
    ("providers", "Providers", providers_tab),
    ("users", "Users", users_tab),
    ("moderation", "Moderation", moderation_tab),
    ("audit", "Audit log", audit_tab),
]


def admin_page() -> rx.Component:
    return page_frame(
        rx.vstack(
            rx.heading("Admin", size="8"),
            rx.cond(
                AdminState.loaded,
                rx.tabs.root(
                    rx.box(
                        rx.tabs.list(
                            *[
                                rx.tabs.trigger(label, value=value, class_name=f"tab-{value}")
                                for value, label, _ in _TABS
                            ],
                            size="2",
                            flex_wrap="wrap",
                        ),
                        width="100%",
                    ),
                    *[
                        rx.tabs.content(build(), value=value, padding_top="1.25rem")
                        for value, _, build in _TABS
                    ],
                    default_value="overview",
                    width="100%",
                ),
                rx.vstack(
                    rx.skeleton(height="2.5rem", width="100%"),
                    rx.skeleton(height="8rem", width="100%"),
                    rx.skeleton(height="16rem", width="100%"),
                    width="100%",
                    spacing="3",
                ),
            ),
            spacing="4",
            width="100%",
        )
    )
