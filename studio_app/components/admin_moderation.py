"""The admin tab's Moderation queue: each reported post with why, and what to do."""

from __future__ import annotations

from typing import Literal

import reflex as rx
from reflex.vars import ObjectVar

from studio_app.services.community_moderation import QueuedPost
from studio_app.states.admin_moderation import ModerationState

_MUTED = rx.color("gray", 11)


Scheme = Literal["green", "orange", "red", "gray"]


def _decision(
    label: str, post: ObjectVar[QueuedPost], decision: str, color_scheme: Scheme
) -> rx.Component:
    return rx.button(
        label,
        size="1",
        variant="soft",
        color_scheme=color_scheme,
        on_click=ModerationState.decide(post.public_id, decision),
        class_name=f"moderate-{decision}",
    )


def _queued(post: ObjectVar[QueuedPost]) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.image(
                src=post.thumbnail_url,
                alt=post.title,
                width="96px",
                height="96px",
                object_fit="cover",
                border_radius="var(--radius-2)",
                flex_shrink="0",
            ),
            rx.vstack(
                rx.hstack(
                    rx.text(post.title, weight="medium"),
                    rx.badge(
                        post.status,
                        color_scheme=rx.cond(post.status == "hidden", "orange", "green"),
                        variant="soft",
                    ),
                    rx.badge(
                        post.report_count.to_string(),
                        rx.cond(post.report_count.to(int) == 1, " report", " reports"),
                        variant="soft",
                    ),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                rx.text("by ", post.author, size="1", color=_MUTED),
                rx.text(post.reasons.join(" · "), size="2", class_name="queue-reasons"),
                rx.foreach(
                    post.details,
                    lambda words: rx.text("“", words, "”", size="1", color=_MUTED),
                ),
                rx.hstack(
                    rx.cond(
                        post.status == "hidden",
                        _decision("Restore", post, "restore", color_scheme="green"),
                        _decision("Hide", post, "hide", color_scheme="orange"),
                    ),
                    _decision("Remove", post, "remove", color_scheme="red"),
                    rx.cond(
                        post.author_can_publish,
                        _decision(
                            "Stop the author publishing", post, "stop_author", color_scheme="gray"
                        ),
                        rx.text("Author stopped from publishing", size="1", color=_MUTED),
                    ),
                    spacing="2",
                    wrap="wrap",
                ),
                spacing="1",
                min_width="0",
            ),
            spacing="4",
        ),
        width="100%",
        class_name="queued-post",
    )


def moderation_tab() -> rx.Component:
    return rx.vstack(
        rx.text(
            "Posts people reported, the most reported first. A post reported by enough "
            "people is hidden until you decide; every decision is in the audit log.",
            size="2",
            color=_MUTED,
        ),
        rx.cond(
            ModerationState.queued.length() > 0,
            rx.vstack(rx.foreach(ModerationState.queued, _queued), spacing="3", width="100%"),
            rx.text("Nothing is reported. 🎉", class_name="queue-empty"),
        ),
        spacing="3",
        width="100%",
    )
