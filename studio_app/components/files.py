"""Links to files the server sends (image downloads)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import reflex as rx


def download_link(
    url: rx.Var | str, class_name: str, *children: rx.Component | str
) -> rx.Component:
    """An <a download> that the browser follows itself.

    `rx.link` is a client-side router link, which would turn `/images/...` into the
    app's own "page not found"; `reload_document` makes it a plain document link.
    """
    return rx.el.a(
        rx.icon("download", size=16),
        *children,
        href=url,
        download="",
        reload_document=True,
        aria_label="Download",
        class_name=class_name,
    )


# What the picture drop zones take: the types the services accept (told by the bytes
# there; this only steers the browser's file chooser).
PICTURE_TYPES: dict[str, Sequence[str]] = {
    "image/png": [".png"],
    "image/jpeg": [".jpg", ".jpeg"],
    "image/webp": [".webp"],
}


def picture_drop_zone(
    content: rx.Component,
    *,
    upload_id: str,
    busy: rx.Var[bool] | bool,
    on_drop: Callable[[Any], rx.event.EventType],
    class_name: str,
) -> rx.Component:
    """A dashed area to drop one PNG, JPEG or WebP picture on, or click to choose one;
    `on_drop` is the upload handler, given the files."""
    return rx.upload.root(
        content,
        id=upload_id,
        accept=PICTURE_TYPES,
        max_files=1,
        multiple=False,
        disabled=busy,
        on_drop=on_drop(rx.upload_files(upload_id=upload_id)),
        border=f"2px dashed {rx.color('gray', 7)}",
        border_radius="var(--radius-3)",
        width="100%",
        cursor="pointer",
        class_name=class_name,
    )
