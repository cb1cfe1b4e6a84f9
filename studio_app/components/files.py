"""Links to files the server sends (image downloads)."""

from __future__ import annotations

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
