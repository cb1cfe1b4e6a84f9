"""The studio's "picture to edit": a button to start from a picture, the chooser (upload
or pick an earlier one), and the chosen picture with how it will be fitted."""

from __future__ import annotations

import reflex as rx

from studio_app.components.files import picture_drop_zone
from studio_app.services import uploads
from studio_app.states.edit_source import PICTURE_UPLOAD_ID, EditSourceState, PictureOption
from studio_app.states.studio import StudioState

_MUTED = rx.color("gray", 11)
_LIMIT_MB = uploads.MAX_UPLOAD_BYTES // (1024 * 1024)
_MEGAPIXELS = uploads.MAX_UPLOAD_PIXELS // 1_000_000


def _chosen_picture() -> rx.Component:
    return rx.hstack(
        rx.image(
            src=StudioState.source_url,
            alt="The picture to edit",
            width="88px",
            height="88px",
            object_fit="cover",
            border_radius="var(--radius-3)",
            flex_shrink="0",
        ),
        rx.vstack(
            rx.badge(rx.icon("image", size=14), "Editing your picture", variant="soft"),
            rx.text(StudioState.fit_note, size="1", color=_MUTED, class_name="fit-note"),
            rx.hstack(
                rx.button(
                    "Change picture",
                    variant="ghost",
                    size="1",
                    on_click=EditSourceState.open_pictures,
                ),
                rx.button(
                    "Stop editing",
                    variant="ghost",
                    size="1",
                    color_scheme="gray",
                    on_click=EditSourceState.stop_editing,
                    class_name="stop-editing",
                ),
                spacing="3",
            ),
            spacing="1",
            align="start",
        ),
        spacing="3",
        align="center",
        width="100%",
        class_name="chosen-picture",
    )


def _picture_tile(picture: PictureOption) -> rx.Component:
    return rx.box(
        rx.el.button(
            rx.image(
                src=picture.url,
                alt=f"Your picture, {picture.size}",
                width="100%",
                height="100%",
                object_fit="cover",
            ),
            on_click=EditSourceState.choose_picture(picture.public_id),
            title="Edit this picture",
            aria_label=f"Edit your picture ({picture.size})",
            style={
                "width": "100%",
                "aspect_ratio": "1",
                "padding": "0",
                "border": "none",
                "cursor": "pointer",
                "border_radius": "var(--radius-2)",
                "overflow": "hidden",
                "display": "block",
            },
            class_name="picture-choice",
        ),
        rx.icon_button(
            rx.icon("x", size=12),
            size="1",
            variant="solid",
            color_scheme="gray",
            radius="full",
            on_click=EditSourceState.remove_picture(picture.public_id),
            aria_label="Remove this picture",
            title="Remove this picture",
            position="absolute",
            top="4px",
            right="4px",
            class_name="remove-picture",
        ),
        position="relative",
    )


def _chooser() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text("Picture to edit", size="2", weight="medium"),
            rx.button(
                "Cancel",
                variant="ghost",
                size="1",
                color_scheme="gray",
                on_click=EditSourceState.close_pictures,
            ),
            justify="between",
            width="100%",
        ),
        picture_drop_zone(
            rx.hstack(
                rx.cond(
                    EditSourceState.picture_busy,
                    rx.spinner(size="2"),
                    rx.icon("upload", size=20, color=rx.color("violet", 10), flex_shrink="0"),
                ),
                rx.vstack(
                    rx.text("Drop a picture here, or click to choose one", size="2"),
                    rx.text(
                        f"PNG, JPEG or WebP, up to {_LIMIT_MB} MB and {_MEGAPIXELS} megapixels. "
                        "Its metadata (EXIF, location) is removed; only you can see it.",
                        size="1",
                        color=_MUTED,
                    ),
                    spacing="0",
                ),
                spacing="3",
                align="center",
                padding="0.75rem",
            ),
            upload_id=PICTURE_UPLOAD_ID,
            busy=EditSourceState.picture_busy,
            on_drop=EditSourceState.upload_picture,
            class_name="picture-upload",
        ),
        rx.cond(
            EditSourceState.picture_error != "",
            rx.callout(
                EditSourceState.picture_error,
                icon="triangle-alert",
                color_scheme="red",
                size="1",
                width="100%",
                class_name="picture-error",
            ),
        ),
        rx.cond(
            EditSourceState.pictures.length() > 0,
            rx.vstack(
                rx.text("Or pick one you uploaded before", size="1", color=_MUTED),
                rx.grid(
                    rx.foreach(EditSourceState.pictures, _picture_tile),
                    columns="5",
                    spacing="2",
                    width="100%",
                ),
                spacing="1",
                width="100%",
            ),
        ),
        spacing="2",
        width="100%",
        padding="0.75rem",
        border=f"1px solid {rx.color('gray', 5)}",
        border_radius="var(--radius-3)",
        class_name="picture-chooser",
    )


def picture_to_edit() -> rx.Component:
    """Start from a picture instead of from nothing, and what that picture is."""
    return rx.cond(
        EditSourceState.choosing,
        _chooser(),
        rx.cond(
            StudioState.source_id != "",
            _chosen_picture(),
            rx.button(
                rx.icon("image-plus", size=16),
                "Edit a picture instead",
                variant="soft",
                color_scheme="gray",
                size="2",
                on_click=EditSourceState.open_pictures,
                class_name="edit-a-picture",
            ),
        ),
    )
