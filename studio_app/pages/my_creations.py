"""My Creations: every image the user made, newest first, with filters and details."""

from __future__ import annotations

from typing import Any

import reflex as rx

from studio_app.components.creation_card import RADIUS, TWO_LINES, creation_card, credits_label
from studio_app.components.layout import page_frame
from studio_app.models import GenerationStatus
from studio_app.routes import ACCOUNT, COMMUNITY, STUDIO
from studio_app.services.creations import CreationView, FilterChoice
from studio_app.states.creations import ALL, CreationsState


def _choice_item(choice: FilterChoice) -> rx.Component:
    return rx.select.item(choice.label, value=choice.value)


def _labelled(label: str, control: rx.Component, html_for: str) -> rx.Component:
    return rx.vstack(
        rx.el.label(rx.text(label, size="1", color=rx.color("gray", 11)), html_for=html_for),
        control,
        spacing="1",
        # Two filters a row on a phone, all in one row on wider screens.
        width=rx.breakpoints(initial="calc(50% - 0.4rem)", sm="auto"),
    )


def _filters() -> rx.Component:
    return rx.flex(
        _labelled(
            "Template",
            rx.select.root(
                rx.select.trigger(
                    id="filter-template",
                    width="100%",
                    min_width=rx.breakpoints(initial="0", sm="11rem"),
                ),
                rx.select.content(
                    rx.select.item("All templates", value=ALL),
                    rx.foreach(CreationsState.template_choices, _choice_item),
                ),
                value=CreationsState.filter_template,
                on_change=CreationsState.set_filter_template,
            ),
            "filter-template",
        ),
        _labelled(
            "Provider",
            rx.select.root(
                rx.select.trigger(
                    id="filter-provider",
                    width="100%",
                    min_width=rx.breakpoints(initial="0", sm="10rem"),
                ),
                rx.select.content(
                    rx.select.item("All providers", value=ALL),
                    rx.foreach(CreationsState.provider_choices, _choice_item),
                ),
                value=CreationsState.filter_provider,
                on_change=CreationsState.set_filter_provider,
            ),
            "filter-provider",
        ),
        _labelled(
            "From",
            rx.input(
                type="date",
                id="filter-from",
                width="100%",
                value=CreationsState.filter_from,
                on_change=CreationsState.set_filter_from,
            ),
            "filter-from",
        ),
        _labelled(
            "To",
            rx.input(
                type="date",
                id="filter-to",
                width="100%",
                value=CreationsState.filter_to,
                on_change=CreationsState.set_filter_to,
            ),
            "filter-to",
        ),
        rx.cond(
            CreationsState.filtered,
            rx.button(
                rx.icon("x", size=14),
                "Clear filters",
                variant="ghost",
                color_scheme="gray",
                on_click=CreationsState.clear_filters,
                align_self="end",
                margin_bottom="0.3rem",
            ),
        ),
        wrap="wrap",
        spacing="3",
        align="end",
        width="100%",
        class_name="creation-filters",
    )


def _tile_frame(*children: rx.Component, **props: Any) -> rx.Component:
    return rx.box(
        *children,
        width="100%",
        aspect_ratio="1",
        border_radius=RADIUS,
        overflow="hidden",
        position="relative",
        **props,
    )


def _tile(item: CreationView) -> rx.Component:
    succeeded = rx.el.button(
        _tile_frame(
            rx.image(
                src=item.thumbnail_url,
                alt=item.prompt,
                loading="lazy",
                width="100%",
                height="100%",
                object_fit="cover",
                class_name="creation-thumb",
            ),
            background_color=rx.color("gray", 4),
        ),
        on_click=CreationsState.open_creation(item.public_id),
        aria_label="Open: " + item.prompt,
        title=item.prompt,
        class_name="creation-open",
        style={
            "all": "unset",
            "cursor": "pointer",
            "display": "block",
            "width": "100%",
            "borderRadius": RADIUS,
        },
        _focus_visible={"outline": f"2px solid {rx.color('violet', 8)}"},
    )
    pending = _tile_frame(
        rx.center(
            rx.vstack(
                rx.spinner(size="3"),
                rx.text("Generating…", size="2", weight="medium"),
                rx.text("No charge until it is ready", size="1", color=rx.color("gray", 11)),
                align="center",
                spacing="2",
            ),
            height="100%",
        ),
        background_color=rx.color("violet", 3),
    )
    failed = _tile_frame(
        rx.center(
            rx.vstack(
                rx.icon("image-off", size=28, color=rx.color("red", 9)),
                rx.text("Failed · no charge", size="2", weight="medium"),
                rx.text(
                    item.error_message,
                    size="1",
                    color=rx.color("gray", 11),
                    align="center",
                    class_name="creation-error",
                ),
                align="center",
                spacing="1",
                padding="0.75rem",
            ),
            height="100%",
        ),
        background_color=rx.color("red", 2),
        border=f"1px dashed {rx.color('red', 6)}",
    )
    return rx.vstack(
        rx.match(
            item.status,
            (GenerationStatus.SUCCEEDED.value, succeeded),
            (GenerationStatus.PENDING.value, pending),
            failed,
        ),
        rx.text(item.prompt, size="1", color=rx.color("gray", 11), style=TWO_LINES),
        spacing="1",
        width="100%",
        min_width="0",
        class_name=f"creation-tile creation-{item.status}",
    )


def _grid(*children: rx.Component) -> rx.Component:
    return rx.grid(
        *children,
        columns=rx.breakpoints(initial="2", sm="3", md="4", lg="5"),
        spacing="4",
        width="100%",
    )


def _skeletons() -> rx.Component:
    return _grid(
        *[
            rx.vstack(
                rx.skeleton(rx.box(width="100%", aspect_ratio="1"), loading=True),
                rx.skeleton(rx.text("loading"), loading=True),
                width="100%",
                spacing="1",
            )
            for _ in range(10)
        ]
    )


def _empty_state() -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.center(
                    rx.icon("images", size=32, color=rx.color("violet", 9)),
                    width="4rem",
                    height="4rem",
                    border_radius="50%",
                    background_color=rx.color("violet", 3),
                ),
                rx.heading("Your gallery is waiting", size="5"),
                rx.text(
                    "Every image you make lands here — even if you close the tab while it works.",
                    color=rx.color("gray", 11),
                    align="center",
                ),
                rx.link(
                    rx.button(rx.icon("wand-sparkles", size=16), "Make your first image", size="3"),
                    href=STUDIO,
                ),
                align="center",
                spacing="3",
                padding="1.5rem",
            ),
            max_width="28rem",
            class_name="creations-empty",
        ),
        padding_y="3rem",
    )


def _no_matches() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon("search-x", size=28, color=rx.color("gray", 9)),
            rx.text("No images match these filters.", color=rx.color("gray", 11)),
            rx.button("Clear filters", variant="soft", on_click=CreationsState.clear_filters),
            align="center",
            spacing="3",
        ),
        padding_y="3rem",
        class_name="creations-no-matches",
    )


def _detail(label: str, value: rx.Var | str, class_name: str = "") -> rx.Component:
    return rx.data_list.item(
        rx.data_list.label(label, min_width="7rem"),
        rx.data_list.value(value, class_name=class_name),
    )


def _delete_button() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(
                rx.icon("trash-2", size=16),
                "Delete",
                color_scheme="red",
                variant="soft",
                class_name="delete-creation",
            )
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete this image?"),
            rx.alert_dialog.description(
                "The image file is removed for good. Credits spent on it are not refunded.",
                size="2",
            ),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Keep it", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(
                        "Delete image",
                        color_scheme="red",
                        on_click=CreationsState.delete_selected,
                        class_name="confirm-delete",
                    )
                ),
                spacing="3",
                justify="end",
                margin_top="1rem",
            ),
            max_width="26rem",
        ),
    )


def _community_action() -> rx.Component:
    """Publish the open creation, or (published) see its post or take it down."""
    return rx.cond(
        CreationsState.selected_post_id != "",
        rx.fragment(
            rx.link(
                rx.button(rx.icon("globe", size=16), "View post", variant="soft"),
                href=f"{COMMUNITY}/" + CreationsState.selected_post_id,
                class_name="view-post",
            ),
            rx.button(
                "Unpublish",
                variant="soft",
                color_scheme="gray",
                on_click=CreationsState.unpublish_selected,
                class_name="unpublish-creation",
            ),
        ),
        rx.cond(
            ~CreationsState.publishing,
            rx.button(
                rx.icon("globe", size=16),
                "Publish",
                variant="soft",
                on_click=CreationsState.start_publishing,
                class_name="publish-creation",
            ),
        ),
    )


def _publish_form() -> rx.Component:
    fields = rx.vstack(
        rx.text("Title", as_="label", size="2", weight="medium", html_for="post_title"),
        rx.input(name="post_title", id="post_title", max_length=80, required=True, width="100%"),
        rx.text(
            "Caption (optional)", as_="label", size="2", weight="medium", html_for="post_caption"
        ),
        rx.text_area(
            name="post_caption", id="post_caption", max_length=500, rows="2", width="100%"
        ),
        rx.checkbox(
            "Show the prompt, so others can learn from it",
            name="show_prompt",
            default_checked=True,
            id="show_prompt",
            size="2",
        ),
        rx.cond(
            CreationsState.publish_error != "",
            rx.callout(
                CreationsState.publish_error,
                icon="triangle-alert",
                color_scheme="red",
                size="1",
                class_name="publish-error",
                width="100%",
            ),
        ),
        rx.hstack(
            rx.button("Publish", type="submit", class_name="confirm-publish"),
            rx.button(
                "Cancel",
                type="button",
                variant="soft",
                color_scheme="gray",
                on_click=CreationsState.cancel_publishing,
            ),
            spacing="2",
        ),
        spacing="2",
        width="100%",
    )
    return rx.card(
        rx.cond(
            CreationsState.needs_display_name,
            rx.vstack(
                rx.text(
                    "Choose a display name first: it is shown with what you publish; your "
                    "email never is.",
                    size="2",
                ),
                rx.link("Choose one on your Account page", href=ACCOUNT, class_name="choose-name"),
                spacing="2",
            ),
            rx.form(fields, on_submit=CreationsState.publish_selected, reset_on_submit=False),
        ),
        width="100%",
        class_name="publish-form",
    )


def _creation_dialog() -> rx.Component:
    # The type checker sees a field of an object var as an untyped Var: `.to(str)` says it
    # is text, so it can be joined with `+` (the compiled expression is unchanged).
    view = CreationsState.selected
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Image details", size="4", margin_bottom="1rem"),
            creation_card(
                view,
                image_class="creation-full",
                download_class="download-creation",
                details=[
                    rx.data_list.root(
                        _detail("Prompt", view.prompt, "detail-prompt"),
                        rx.cond(
                            view.enhanced_prompt != "",
                            _detail("Enhanced", view.enhanced_prompt, "detail-enhanced"),
                        ),
                        rx.cond(
                            view.template_name != "",
                            _detail("Template", view.template_name, "detail-template"),
                        ),
                        _detail(
                            "Provider",
                            view.provider_label.to(str) + " · " + view.model.to(str),
                            "detail-provider",
                        ),
                        _detail(
                            "Size",
                            view.tier_label.to(str)
                            + " · "
                            + view.width.to_string()
                            + "×"
                            + view.height.to_string(),
                            "detail-size",
                        ),
                        _detail("Cost", credits_label(view.cost_credits), "detail-cost"),
                        rx.cond(
                            CreationsState.selected_request_note != "",
                            _detail(
                                "Request", CreationsState.selected_request_note, "detail-request"
                            ),
                        ),
                        rx.cond(
                            view.is_edit,
                            _detail(
                                "Made from", "An edit of a picture you uploaded", "detail-edit"
                            ),
                        ),
                        _detail("Made", view.created_at, "detail-date"),
                        orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
                        size="2",
                    ),
                    rx.cond(CreationsState.publishing, _publish_form()),
                ],
                actions=[
                    rx.link(
                        rx.button(rx.icon("repeat", size=16), "Use this prompt", variant="soft"),
                        href=f"{STUDIO}?use=" + view.public_id.to(str),
                        class_name="reuse-creation",
                    ),
                    rx.link(
                        rx.button(
                            rx.icon("image-plus", size=16), "Edit this picture", variant="soft"
                        ),
                        href=f"{STUDIO}?edit=" + view.public_id.to(str),
                        class_name="edit-creation",
                    ),
                    _community_action(),
                    _delete_button(),
                ],
            ),
            rx.dialog.close(
                rx.icon_button(
                    rx.icon("x", size=18),
                    variant="ghost",
                    color_scheme="gray",
                    aria_label="Close",
                    position="absolute",
                    top="0.75rem",
                    right="0.75rem",
                )
            ),
            max_width="min(1100px, 95vw)",
            class_name="creation-dialog",
        ),
        open=CreationsState.viewing,
        on_open_change=CreationsState.set_viewing,
    )


def _pager() -> rx.Component:
    """Newer / page n / Older (hidden when everything fits on one page)."""
    return rx.cond(
        CreationsState.has_more | (CreationsState.page_number > 1),
        rx.hstack(
            rx.button(
                rx.icon("chevron-left", size=16),
                "Newer",
                on_click=CreationsState.newer_page,
                disabled=CreationsState.page_number <= 1,
                variant="soft",
                size="3",
                class_name="newer-page",
            ),
            rx.text(
                "Page ",
                CreationsState.page_number,
                color=rx.color("gray", 11),
                class_name="page-number",
            ),
            rx.button(
                "Older",
                rx.icon("chevron-right", size=16),
                on_click=CreationsState.older_page,
                disabled=~CreationsState.has_more,
                variant="soft",
                size="3",
                class_name="older-page",
            ),
            spacing="4",
            align="center",
        ),
    )


def _gallery() -> rx.Component:
    return rx.cond(
        CreationsState.items.length() > 0,
        rx.vstack(
            _grid(rx.foreach(CreationsState.items, _tile)),
            _pager(),
            align="center",
            spacing="5",
            width="100%",
        ),
        rx.cond(CreationsState.filtered, _no_matches(), _empty_state()),
    )


def my_creations_page() -> rx.Component:
    return page_frame(
        rx.vstack(
            rx.flex(
                rx.vstack(
                    rx.heading("My Creations", size="7", id="creations-top"),
                    rx.text("Everything you have made, newest first.", color=rx.color("gray", 11)),
                    spacing="1",
                ),
                rx.spacer(),
                rx.link(
                    rx.button(rx.icon("plus", size=16), "New image", variant="soft"),
                    href=STUDIO,
                    flex_shrink="0",
                    white_space="nowrap",
                ),
                align="center",
                width="100%",
                spacing="3",
            ),
            rx.cond(
                CreationsState.loaded
                & ((CreationsState.items.length() > 0) | CreationsState.filtered),
                _filters(),
            ),
            rx.cond(CreationsState.loaded, _gallery(), _skeletons()),
            spacing="5",
            width="100%",
        ),
        _creation_dialog(),
    )
