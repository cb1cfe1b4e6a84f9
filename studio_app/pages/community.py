"""The community: the feed of published pictures (`/community`) and one post's share page
(`/community/<id>`), both readable without an account."""

from __future__ import annotations

from typing import Literal

import reflex as rx
from reflex.vars import ObjectVar

from studio_app.components.layout import page_frame
from studio_app.routes import COMMUNITY, SIGNUP
from studio_app.services import community_moderation
from studio_app.services.community_feed import PostView
from studio_app.states.auth import AuthState
from studio_app.states.community import SORT_CHOICES, CommunityState, PostPageState

_MUTED = rx.color("gray", 11)


def _likes(
    post: ObjectVar[PostView], on_click: rx.event.EventType, size: Literal["1", "2"] = "2"
) -> rx.Component:
    return rx.button(
        rx.icon("heart", size=16, fill=rx.cond(post.liked, "currentColor", "none")),
        post.like_count,
        variant=rx.cond(post.liked, "solid", "soft"),
        color_scheme="crimson",
        size=size,
        on_click=on_click,
        aria_label=rx.cond(post.liked, "Unlike", "Like"),
        aria_pressed=post.liked,
        class_name="like-post",
    )


def _post_card(post: ObjectVar[PostView]) -> rx.Component:
    return rx.card(
        rx.link(
            rx.image(
                src=post.thumbnail_url,
                alt=post.title,
                width="100%",
                aspect_ratio="1",
                object_fit="cover",
                border_radius="var(--radius-3)",
                loading="lazy",
            ),
            href=f"{COMMUNITY}/" + post.public_id.to(str),
            class_name="post-open",
        ),
        rx.flex(
            rx.vstack(
                rx.text(
                    post.title, weight="medium", size="2", truncate=True, class_name="post-title"
                ),
                rx.text(
                    "by ",
                    post.author,
                    size="1",
                    color=_MUTED,
                    truncate=True,
                    class_name="post-author",
                ),
                spacing="1",
                min_width="0",
                width="100%",
            ),
            _likes(post, CommunityState.toggle_like(post.public_id), size="1"),
            direction=rx.breakpoints(initial="column", sm="row"),
            align=rx.breakpoints(initial="start", sm="center"),
            spacing="2",
            width="100%",
            margin_top="0.6rem",
        ),
        class_name="post-card",
    )


def _sort_tabs() -> rx.Component:
    return rx.segmented_control.root(
        *[rx.segmented_control.item(label, value=value) for value, label in SORT_CHOICES],
        value=CommunityState.sort,
        on_change=CommunityState.choose_sort,
        size=rx.breakpoints(initial="1", sm="2"),
        width=rx.breakpoints(initial="100%", sm="auto"),
        class_name="feed-sort",
    )


def _empty_feed() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.icon("images", size=28, color=_MUTED),
            rx.text("Nothing is published yet.", weight="medium"),
            rx.text(
                "Open a picture in My Creations and choose Publish to be the first.",
                size="2",
                color=_MUTED,
            ),
            align="center",
            spacing="2",
            padding="2rem",
        ),
        width="100%",
    )


def community_page() -> rx.Component:
    return page_frame(
        rx.vstack(
            rx.flex(
                rx.vstack(
                    rx.heading("Community", size="8"),
                    rx.text(
                        "What people make with Studio. Open one to see how it was made.",
                        color=_MUTED,
                    ),
                    spacing="1",
                ),
                rx.spacer(),
                _sort_tabs(),
                direction=rx.breakpoints(initial="column", sm="row"),
                align=rx.breakpoints(initial="start", sm="end"),
                spacing="3",
                width="100%",
            ),
            rx.cond(
                CommunityState.loaded & (CommunityState.posts.length() == 0),
                _empty_feed(),
                rx.grid(
                    rx.foreach(CommunityState.posts, _post_card),
                    columns=rx.breakpoints(initial="2", sm="3", lg="4"),
                    spacing="4",
                    width="100%",
                    class_name="feed-grid",
                ),
            ),
            rx.cond(
                CommunityState.has_more,
                rx.button(
                    "Show more",
                    on_click=CommunityState.load_more,
                    loading=CommunityState.loading_more,
                    variant="soft",
                    size="3",
                    align_self="center",
                    class_name="feed-more",
                ),
            ),
            spacing="5",
            width="100%",
        )
    )


def _detail(label: str, value: rx.Var | str, class_name: str) -> rx.Component:
    return rx.data_list.item(
        rx.data_list.label(label),
        rx.data_list.value(value, class_name=class_name),
    )


def _post_details() -> rx.Component:
    post = PostPageState.post
    return rx.vstack(
        rx.heading(post.title, size="7", class_name="post-page-title"),
        rx.text("by ", rx.text.strong(post.author), color=_MUTED, class_name="post-page-author"),
        rx.cond(post.caption != "", rx.text(post.caption, class_name="post-caption")),
        rx.hstack(
            _likes(post, PostPageState.toggle_like),
            rx.text("Published ", post.published_label, size="2", color=_MUTED),
            rx.cond(
                post.reuse_count.to(int) > 0,
                rx.text(
                    "Prompt used by ",
                    post.reuse_count,
                    rx.cond(post.reuse_count.to(int) == 1, " person", " people"),
                    size="2",
                    color=_MUTED,
                    class_name="post-reuses",
                ),
            ),
            align="center",
            spacing="3",
            wrap="wrap",
        ),
        rx.cond(
            post.prompt != "",
            rx.box(
                rx.text("Prompt", size="1", weight="medium", color=_MUTED),
                rx.text(post.prompt, size="2", class_name="post-prompt"),
                padding="0.75rem",
                border_radius="var(--radius-3)",
                background_color=rx.color("gray", 3),
                width="100%",
            ),
        ),
        rx.cond(
            post.prompt != "",
            rx.button(
                rx.icon("repeat", size=16),
                "Use this prompt",
                on_click=PostPageState.use_prompt,
                variant="soft",
                class_name="use-post-prompt",
            ),
        ),
        _tier_question(),
        rx.cond(~post.is_own, _report_dialog()),
        rx.data_list.root(
            rx.cond(
                post.template_name != "", _detail("Template", post.template_name, "post-template")
            ),
            _detail("Made with", post.provider_label, "post-provider"),
            _detail(
                "Size",
                post.tier_label.to(str)
                + " · "
                + post.width.to_string()
                + "×"
                + post.height.to_string(),
                "post-size",
            ),
            size="2",
        ),
        rx.cond(
            ~AuthState.signed_in,
            rx.callout.root(
                rx.callout.icon(rx.icon("sparkles", size=16)),
                rx.callout.text(
                    "Make your own: create an account and get 5 free credits. ",
                    rx.link("Create account", href=SIGNUP, weight="medium"),
                ),
                size="1",
                class_name="post-signup",
            ),
        ),
        spacing="3",
        align="start",
        width="100%",
    )


def _report_dialog() -> rx.Component:
    form = rx.form(
        rx.vstack(
            rx.radio_group.root(
                *[
                    rx.radio_group.item(label, value=value)
                    for value, label in community_moderation.REASONS.items()
                ],
                name="reason",
                required=True,
                direction="column",
                class_name="report-reason",
            ),
            rx.text_area(
                name="details",
                placeholder="Anything a moderator should know (optional)",
                max_length=500,
                rows="2",
                width="100%",
            ),
            rx.cond(
                PostPageState.report_error != "",
                rx.text(
                    PostPageState.report_error,
                    color=rx.color("red", 11),
                    size="2",
                    class_name="report-error",
                ),
            ),
            rx.flex(
                rx.dialog.close(
                    rx.button("Cancel", type="button", variant="soft", color_scheme="gray")
                ),
                rx.button(
                    "Send report", type="submit", color_scheme="red", class_name="send-report"
                ),
                spacing="3",
                justify="end",
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=PostPageState.send_report,
        reset_on_submit=False,
    )
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(
                rx.icon("flag", size=14),
                "Report",
                variant="ghost",
                color_scheme="gray",
                size="1",
                on_click=PostPageState.open_report,
                class_name="report-post",
            )
        ),
        rx.dialog.content(
            rx.dialog.title("Report this post"),
            rx.dialog.description(
                "Why should a moderator look at it? Its author is not told who reported it.",
                size="2",
                margin_bottom="0.75rem",
            ),
            form,
        ),
        open=PostPageState.reporting,
        on_open_change=PostPageState.set_reporting,
    )


def _tier_question() -> rx.Component:
    """Asked before a size that would spend most of the visitor's credits."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Use this size?"),
            rx.alert_dialog.description(PostPageState.tier_question, class_name="tier-question"),
            rx.flex(
                rx.alert_dialog.cancel(
                    rx.button(
                        "Use the standard size (1 credit)",
                        variant="soft",
                        on_click=PostPageState.use_prompt_at("standard"),
                        class_name="use-standard-tier",
                    )
                ),
                rx.alert_dialog.action(
                    rx.button(
                        "Keep this size",
                        on_click=PostPageState.use_prompt_at(PostPageState.post.tier),
                        class_name="keep-post-tier",
                    )
                ),
                spacing="3",
                justify="end",
                wrap="wrap",
                margin_top="1rem",
            ),
        ),
        open=PostPageState.confirming_tier,
        on_open_change=PostPageState.set_confirming_tier,
    )


def _unavailable() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.icon("eye-off", size=28, color=_MUTED),
            rx.text("This post is unavailable.", weight="medium", class_name="post-unavailable"),
            rx.text("Its author took it down, or it was hidden.", size="2", color=_MUTED),
            rx.link("See the community", href=COMMUNITY),
            align="center",
            spacing="2",
            padding="2rem",
        ),
        width="100%",
    )


def post_page() -> rx.Component:
    post = PostPageState.post
    return page_frame(
        rx.cond(
            PostPageState.unavailable,
            _unavailable(),
            rx.cond(
                post.public_id != "",
                rx.flex(
                    rx.box(
                        rx.image(
                            src=post.image_url,
                            alt=post.title,
                            width="100%",
                            max_height="80vh",
                            object_fit="contain",
                            border_radius="var(--radius-3)",
                            class_name="post-image",
                        ),
                        flex="3",
                        min_width="0",
                    ),
                    rx.box(_post_details(), flex="2", min_width="0"),
                    direction=rx.breakpoints(initial="column", md="row"),
                    spacing="6",
                    width="100%",
                ),
                rx.skeleton(height="60vh", width="100%"),
            ),
        )
    )
