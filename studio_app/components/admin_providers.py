"""The admin tab's Providers: each provider's key state, its switch for everyone and its model."""

from __future__ import annotations

import reflex as rx

from studio_app.states.admin_providers import AdminProvidersState, ProviderRow


def _model_gone_callout(provider: ProviderRow) -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(rx.icon("triangle-alert")),
        rx.callout.text(
            rx.text.strong("Model gone: "),
            rx.code(provider.model),
            " since ",
            provider.gone_when,
            ". ",
            provider.label,
            " said: “",
            provider.gone_detail,
            "”. Members cannot use ",
            provider.label,
            " until you pick another model.",
        ),
        color_scheme="red",
        size="1",
        class_name="model-gone",
        width="100%",
    )


def _model_form(provider: ProviderRow) -> rx.Component:
    datalist_id = "known-models-" + provider.name
    return rx.form(
        rx.vstack(
            rx.text("Model", as_="label", size="2", weight="medium"),
            rx.hstack(
                rx.el.input(type="hidden", name="provider", value=provider.name),
                rx.input(
                    name="model",
                    default_value=provider.model,
                    list=datalist_id,
                    placeholder="a model id",
                    aria_label="Model for " + provider.label,
                    max_length=120,
                    class_name="model-input",
                    flex="1",
                    # A fresh input when the stored model changes (it is uncontrolled).
                    key=provider.name + ":" + provider.model,
                ),
                rx.el.datalist(
                    rx.foreach(provider.known_models, lambda m: rx.el.option(value=m)),
                    id=datalist_id,
                ),
                rx.button(
                    "Use model",
                    type="submit",
                    variant="soft",
                    loading=AdminProvidersState.checking == provider.name,
                    class_name="model-save",
                ),
                width="100%",
                align="center",
            ),
            rx.text(
                rx.cond(
                    provider.configured,
                    "Pick a current id or type another; " + provider.label + " is asked "
                    "whether it has it before it is used. ",
                    "Pick a current id or type another; with no key here it cannot be "
                    "checked until one is configured. ",
                ),
                "Now: ",
                provider.model_source,
                ".",
                size="1",
                color=rx.color("gray", 11),
            ),
            spacing="1",
            width="100%",
        ),
        on_submit=AdminProvidersState.choose_model,
        width="100%",
    )


def _provider_card(provider: ProviderRow) -> rx.Component:
    return rx.card(
        rx.vstack(
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
                    on_change=lambda on: AdminProvidersState.set_provider_enabled(
                        provider.name, on
                    ),
                    size="3",
                    aria_label="Offer " + provider.label + " to everyone",
                    class_name="provider-switch",
                ),
                align="center",
                width="100%",
            ),
            rx.cond(provider.gone_when != "", _model_gone_callout(provider)),
            _model_form(provider),
            spacing="3",
            width="100%",
        ),
        class_name="provider-card",
        data_provider=provider.name,
        width="100%",
    )


def providers_tab() -> rx.Component:
    return rx.vstack(
        rx.text(
            "Switching a provider off or changing its model takes effect at once: the studio "
            "shows it as unavailable (or uses the new model) and new generations follow. "
            "Images already running finish.",
            size="2",
            color=rx.color("gray", 11),
        ),
        rx.grid(
            rx.foreach(AdminProvidersState.providers, _provider_card),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="3",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )
