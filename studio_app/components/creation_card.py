"""One creation as the studio and My Creations show it (a `CreationView` var).

`creation_card` is a creation shown large: the image, which opens the original in a new
tab, beside what the page says about it, with Download first among its actions. The
studio's newest result and My Creations' details dialog are both one.
"""

from __future__ import annotations

from collections.abc import Sequence

import reflex as rx
from reflex.vars import ObjectVar

from studio_app.components.files import download_link
from studio_app.services.creations import CreationView

# A prompt under a thumbnail: two lines at most, then an ellipsis.
TWO_LINES = {
    "display": "-webkit-box",
    "WebkitLineClamp": "2",
    "WebkitBoxOrient": "vertical",
    "overflow": "hidden",
}
RADIUS = "var(--radius-3)"


def credits_label(count: rx.Var[int]) -> rx.Var[str]:
    """`1 credit`, `2 credits`."""
    return count.to_string() + rx.cond(count == 1, " credit", " credits").to(str)


def original_link(view: ObjectVar[CreationView], picture: rx.Component) -> rx.Component:
    """`picture` as a link to the original image, opened in a new tab.

    A document link: the image route is not one of the app's pages.
    """
    return rx.el.a(
        picture,
        href=view.image_url,
        target="_blank",
        rel="noopener",
        reload_document=True,
        # A block as wide as its card: the picture inside fills it.
        display="block",
        width="100%",
    )


def creation_card(
    view: ObjectVar[CreationView],
    *,
    image_class: str,
    download_class: str,
    details: Sequence[rx.Component],
    actions: Sequence[rx.Component],
) -> rx.Component:
    full_image = rx.image(
        src=view.image_url,
        alt=view.prompt,
        width="100%",
        max_height="70vh",
        object_fit="contain",
        border_radius=RADIUS,
        class_name=image_class,
    )
    download = rx.button(
        download_link(view.download_url, download_class, "Download"), as_child=True
    )
    return rx.flex(
        rx.box(original_link(view, full_image), flex="3", min_width="0"),
        rx.vstack(
            *details,
            rx.flex(download, *actions, wrap="wrap", spacing="2"),
            flex="2",
            spacing="4",
            min_width="0",
        ),
        direction=rx.breakpoints(initial="column", md="row"),
        spacing="5",
    )
