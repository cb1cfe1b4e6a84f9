"""The admin tab's Providers: each provider's key state and its switch for everyone."""

from __future__ import annotations

import reflex as rx

from studio_app.states.admin import AdminState, ProviderRow


def _provider_card(provider: ProviderRow) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.vstack(
                rx.hstack(
                    rx.heading(provider.label, size="4"),
                    rx.cond(
                        provider.configured,
                        rx.badge("Key configured", color_scheme="green", variant="soft"),
                        rx.badge("No key", color_scheme="gray", variant="soft"),
                    ),
                    align="center",
                    wrap="wrap",
                ),
                rx.text(provider.model, size="2", color=rx.color("gray", 11)),
                rx.cond(
                    provider.enabled,
                    rx.text("On for everyone", size="2", color=rx.color("green", 11)),
                    rx.text("Switched off for everyone", size="2", color=rx.color("red", 11)),
                ),
                spacing="1",
                align="start",
            ),
            rx.spacer(),
            rx.switch(
                checked=provider.enabled,
                on_change=lambda on: AdminState.set_provider_enabled(provider.name, on),
                size="3",
                aria_label="Offer " + provider.label + " to everyone",
                class_name="provider-switch",
            ),
            align="center",
            width="100%",
        ),
        class_name="provider-card",
        data_provider=provider.name,
        width="100%",
    )


def providers_tab() -> rx.Component:
    return rx.vstack(
        rx.text(
            "Switching a provider off takes effect at once: the studio shows it as unavailable "
            "and new generations with it are refused. Images already running finish.",
            size="2",
            color=rx.color("gray", 11),
        ),
        rx.grid(
            rx.foreach(AdminState.providers, _provider_card),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="3",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )
