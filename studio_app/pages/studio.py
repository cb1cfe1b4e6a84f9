"""The studio: choose a template, shape the prompt, pick a size, generate."""

from __future__ import annotations

from typing import Literal

import reflex as rx
from reflex.constants.colors import ShadeType
from reflex.vars import ObjectVar

from studio_app.components.creation_card import (
    RADIUS,
    TWO_LINES,
    creation_card,
    credits_label,
    original_link,
)
from studio_app.components.edit_source import picture_to_edit
from studio_app.components.files import download_link
from studio_app.components.layout import page_frame
from studio_app.components.values import match_value
from studio_app.models import GenerationStatus
from studio_app.routes import BUY_CREDITS, MY_CREATIONS
from studio_app.services.creations import CreationView
from studio_app.services.generation import CANCELLED
from studio_app.services.views import CategoryView, TemplateView
from studio_app.states.studio import (
    IMAGE_COUNTS,
    EnhanceState,
    JobsState,
    ProviderOption,
    StudioState,
    TemplatePickerState,
    TierOption,
)


def _category_chip(category: CategoryView) -> rx.Component:
    return rx.button(
        category.name,
        on_click=TemplatePickerState.choose_category(category.id),
        variant=rx.cond(TemplatePickerState.category_id == category.id, "solid", "soft"),
        radius="full",
        size="2",
        class_name="category-chip",
    )


def _category_chips() -> rx.Component:
    return rx.flex(
        rx.button(
            "All",
            on_click=TemplatePickerState.choose_category(0),
            variant=rx.cond(TemplatePickerState.category_id == 0, "solid", "soft"),
            radius="full",
            size="2",
            class_name="category-chip",
        ),
        rx.foreach(TemplatePickerState.categories, _category_chip),
        wrap="wrap",
        spacing="2",
    )


# Placeholder tiles take a colour per category (stable: by the category's id).
_ACCENTS = ("violet", "teal", "amber", "crimson", "blue", "grass", "orange", "plum")


def _accent(template: TemplateView, step: ShadeType) -> rx.Var:
    return match_value(
        template.category_id % len(_ACCENTS),
        *[(i, rx.color(name, step)) for i, name in enumerate(_ACCENTS)],
        rx.color("gray", step),
    )


def _template_preview(template: TemplateView) -> rx.Component:
    return rx.cond(
        template.preview_url != "",
        rx.image(
            src=template.preview_url,
            alt="",
            loading="lazy",
            width="100%",
            height="100%",
            object_fit="cover",
            class_name="template-preview",
        ),
        rx.center(
            rx.text(
                template.name[0],
                size="7",
                weight="bold",
                color=_accent(template, 11),
                aria_hidden="true",
            ),
            width="100%",
            height="100%",
            background=_accent(template, 4),
            class_name="template-placeholder",
        ),
    )


def _template_card(template: TemplateView) -> rx.Component:
    selected = StudioState.template_id == template.id
    return rx.card(
        rx.hstack(
            rx.box(
                _template_preview(template),
                width="4.5rem",
                height="4.5rem",
                flex_shrink="0",
                border_radius="var(--radius-2)",
                overflow="hidden",
            ),
            rx.vstack(
                rx.heading(template.name, size="3", as_="h3"),
                rx.text(template.description, size="2", color=rx.color("gray", 11)),
                spacing="1",
                align="start",
                min_width="0",
            ),
            spacing="3",
            align="start",
        ),
        as_child=False,
        on_click=TemplatePickerState.choose_template(template.id),
        cursor="pointer",
        class_name="template-card",
        border=rx.cond(selected, f"2px solid {rx.color('violet', 9)}", "2px solid transparent"),
        _hover={"background_color": rx.color("violet", 2)},
        width="100%",
    )


def _template_search() -> rx.Component:
    return rx.input(
        rx.input.slot(rx.icon("search", size=16)),
        value=TemplatePickerState.template_query,
        on_change=TemplatePickerState.set_template_query.debounce(200),
        placeholder="Search templates",
        aria_label="Search templates",
        type="search",
        id="template-search",
        width="100%",
        max_length=100,
    )


def _templates_panel() -> rx.Component:
    return rx.vstack(
        rx.heading("1. Pick a template", size="4"),
        _template_search(),
        _category_chips(),
        rx.cond(
            TemplatePickerState.visible_templates.length() > 0,
            rx.grid(
                rx.foreach(TemplatePickerState.visible_templates, _template_card),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            rx.text(
                "No template matches. Try another word, or write your own prompt.",
                size="2",
                color=rx.color("gray", 11),
                class_name="no-templates",
            ),
        ),
        spacing="3",
        width="100%",
    )


def _tier_item(option: TierOption) -> rx.Component:
    unavailable = option.unavailable_reason != ""
    return rx.radio_cards.item(
        rx.vstack(
            rx.text(option.label, weight="bold"),
            rx.text(option.aspect_ratio, " · ", option.size, size="1", color=rx.color("gray", 11)),
            rx.cond(
                unavailable,
                rx.text("Unavailable", size="2", color=rx.color("gray", 10)),
                rx.text(option.credits, " cr · ₹", option.rupees, size="2", weight="medium"),
            ),
            spacing="0",
            align="start",
        ),
        value=option.id,
        disabled=unavailable,
        class_name="tier-option",
    )


def _provider_item(option: ObjectVar[ProviderOption]) -> rx.Component:
    # A var, not the dataclass, so `~` types as a BooleanVar; `.to(str)` types the fields
    # joined with `+` as text (the compiled expressions are unchanged).
    return rx.select.item(
        rx.cond(option.available, option.label, option.label.to(str) + " — " + option.note.to(str)),
        value=option.name,
        disabled=~option.available,
    )


def _enhancement() -> rx.Component:
    suggestion = rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon("sparkles", size=16, color=rx.color("violet", 9)),
                rx.text("Suggested by ", EnhanceState.suggestion_by, size="2", weight="medium"),
                align="center",
                spacing="2",
            ),
            rx.text(EnhanceState.suggestion, size="2", class_name="enhanced-prompt"),
            rx.cond(
                EnhanceState.suggestion_note != "",
                rx.text(EnhanceState.suggestion_note, size="1", color=rx.color("gray", 10)),
            ),
            rx.hstack(
                rx.button("Use this prompt", size="1", on_click=EnhanceState.accept_suggestion),
                rx.button(
                    "Keep mine",
                    size="1",
                    variant="soft",
                    color_scheme="gray",
                    on_click=EnhanceState.dismiss_suggestion,
                ),
                spacing="2",
            ),
            spacing="2",
        ),
        variant="surface",
        width="100%",
        class_name="enhancement-suggestion",
    )
    return rx.fragment(
        rx.hstack(
            rx.button(
                rx.icon("sparkles", size=14),
                "Enhance prompt",
                size="1",
                variant="soft",
                on_click=EnhanceState.enhance,
                loading=EnhanceState.enhancing,
                disabled=StudioState.prompt.strip() == "",
                id="enhance",
            ),
            rx.cond(
                EnhanceState.prompt_before_enhancement != "",
                rx.button(
                    rx.icon("undo-2", size=14),
                    "Undo enhancement",
                    size="1",
                    variant="ghost",
                    on_click=EnhanceState.undo_enhancement,
                ),
            ),
            spacing="3",
        ),
        rx.cond(EnhanceState.suggestion != "", suggestion),
    )


def _advanced() -> rx.Component:
    return rx.cond(
        StudioState.show_advanced,
        rx.accordion.root(
            rx.accordion.item(
                header="Advanced",
                content=rx.vstack(
                    rx.text("Negative prompt (what to leave out)", size="2"),
                    rx.input(
                        value=StudioState.negative_prompt,
                        on_change=StudioState.set_negative_prompt,
                        placeholder="e.g. blurry, watermark, extra fingers",
                        width="100%",
                        max_length=1000,
                    ),
                    rx.text("Seed (same seed + prompt ≈ same image)", size="2"),
                    rx.input(
                        value=StudioState.seed,
                        on_change=StudioState.set_seed,
                        placeholder="random",
                        width="12rem",
                        input_mode="numeric",
                    ),
                    spacing="2",
                    width="100%",
                ),
                value="advanced",
            ),
            collapsible=True,
            type="single",
            variant="ghost",
            width="100%",
        ),
    )


def _image_count() -> rx.Component:
    """How many images one Generate makes: each its own creation and charge."""
    return rx.hstack(
        rx.text("Images", size="2", weight="medium", aria_hidden="true"),
        rx.segmented_control.root(
            *[rx.segmented_control.item(count, value=count) for count in IMAGE_COUNTS],
            value=StudioState.count,
            on_change=StudioState.choose_count,
            aria_label="Images per Generate",
            class_name="image-count",
        ),
        rx.text(
            "each charged only if it arrives",
            size="1",
            color=rx.color("gray", 11),
        ),
        spacing="3",
        align="center",
        wrap="wrap",
        width="100%",
    )


def _form_panel() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("2. Make the prompt yours", size="4"),
            rx.cond(
                StudioState.template_name != "",
                rx.hstack(
                    rx.badge("Template: ", StudioState.template_name, variant="soft"),
                    rx.button(
                        "Reset to template",
                        variant="ghost",
                        size="1",
                        on_click=TemplatePickerState.choose_template(StudioState.template_id),
                    ),
                    align="center",
                ),
            ),
            picture_to_edit(),
            rx.text_area(
                value=StudioState.prompt,
                on_change=StudioState.set_prompt,
                placeholder=rx.cond(
                    StudioState.source_id != "",
                    "Say what to change: “make it black and white”, “add warm sunset light”…",
                    "Describe the image you want…",
                ),
                rows="6",
                width="100%",
                id="prompt",
                max_length=2000,
            ),
            _enhancement(),
            rx.heading("3. Size and provider", size="4", margin_top="0.5rem"),
            rx.radio_cards.root(
                rx.foreach(StudioState.tier_options, _tier_item),
                value=StudioState.tier,
                on_value_change=StudioState.choose_tier,
                columns="3",
                gap="2",
                width="100%",
            ),
            rx.cond(
                StudioState.unavailable_tiers_note != "",
                rx.text(
                    StudioState.unavailable_tiers_note,
                    size="1",
                    color=rx.color("gray", 11),
                    class_name="tiers-note",
                ),
            ),
            rx.select.root(
                rx.select.trigger(width="100%"),
                rx.select.content(rx.foreach(StudioState.provider_options, _provider_item)),
                value=StudioState.provider,
                on_change=StudioState.choose_provider,
                name="provider",
            ),
            _image_count(),
            _advanced(),
            rx.button(
                rx.icon("wand-sparkles", size=18),
                rx.cond(StudioState.source_id != "", "Edit · ", "Generate · "),
                StudioState.price_label,
                on_click=JobsState.generate,
                disabled=StudioState.generate_blocker != "",
                size="3",
                width="100%",
                id="generate",
            ),
            rx.cond(
                StudioState.generate_blocker != "",
                rx.hstack(
                    rx.text(
                        StudioState.generate_blocker,
                        size="2",
                        color=rx.color("gray", 11),
                        class_name="generate-blocker",
                    ),
                    rx.cond(
                        StudioState.credits_short,
                        rx.link(
                            "Buy credits",
                            href=BUY_CREDITS,
                            size="2",
                            weight="medium",
                            class_name="buy-credits-link",
                        ),
                    ),
                    spacing="2",
                    wrap="wrap",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        size="3",
        width="100%",
        position="sticky",
        top="5rem",
    )


def _job_actions(
    job: ObjectVar[CreationView], *, size: Literal["1", "2", "3", "4"] = "1"
) -> rx.Component:
    return rx.hstack(
        rx.tooltip(
            rx.icon_button(
                rx.icon("repeat", size=16),
                size=size,
                variant="soft",
                on_click=StudioState.use_creation(job.public_id),
                aria_label="Use this prompt",
                class_name="use-prompt",
            ),
            content="Use this prompt",
        ),
        rx.cond(
            job.status == GenerationStatus.SUCCEEDED.value,
            rx.tooltip(
                rx.icon_button(
                    rx.icon("refresh-cw", size=16),
                    size=size,
                    variant="soft",
                    on_click=JobsState.generate_again(job.public_id),
                    aria_label="Generate again",
                    class_name="generate-again",
                ),
                content="Generate again (same settings)",
            ),
        ),
        rx.cond(
            job.status == GenerationStatus.SUCCEEDED.value,
            rx.tooltip(
                rx.icon_button(
                    download_link(job.download_url, "download-job"),
                    size=size,
                    as_child=True,
                ),
                content="Download the original",
            ),
        ),
        spacing="2",
    )


def _job_card(job: ObjectVar[CreationView], *, large: bool = False) -> rx.Component:
    """A job's card: spinner, picture (the original when `large`, else the thumbnail) or
    what went wrong, then its prompt, size, price and actions."""
    body = rx.match(
        job.status,
        (
            GenerationStatus.PENDING.value,
            rx.center(
                rx.vstack(
                    rx.spinner(size="3"),
                    rx.text("Generating…", weight="medium"),
                    rx.text(
                        job.elapsed_seconds,
                        " s",
                        size="2",
                        color=rx.color("gray", 11),
                        class_name="job-elapsed",
                    ),
                    rx.button(
                        rx.icon("circle-x", size=14),
                        "Cancel",
                        size="1",
                        variant="soft",
                        color_scheme="gray",
                        on_click=JobsState.cancel_request(job.request_id),
                        aria_label="Cancel: images not made yet cost nothing",
                        class_name="cancel-job",
                    ),
                    align="center",
                ),
                aspect_ratio="1",
                width="100%",
                background_color=rx.color("violet", 3),
                border_radius=RADIUS,
            ),
        ),
        (
            GenerationStatus.SUCCEEDED.value,
            original_link(
                job,
                rx.image(
                    src=job.image_url if large else job.thumbnail_url,
                    alt=job.prompt,
                    loading="lazy",
                    width="100%",
                    aspect_ratio="1",
                    object_fit="cover",
                    border_radius=RADIUS,
                    class_name="job-thumb",
                ),
            ),
        ),
        rx.center(
            rx.callout(
                job.error_message,
                icon="circle-alert",
                # A cancel is the user's own doing, not something that went wrong.
                color_scheme=rx.cond(job.error_code == CANCELLED, "gray", "red"),
                class_name="job-error",
            ),
            aspect_ratio="1",
            width="100%",
            padding="0.75rem",
            background_color=rx.color("gray", 2),
            border_radius=RADIUS,
        ),
    )
    return rx.card(
        rx.vstack(
            body,
            rx.text(
                job.prompt,
                size="1",
                color=rx.color("gray", 11),
                width="100%",
                style=TWO_LINES,
                class_name="job-prompt",
            ),
            rx.hstack(
                rx.badge(job.tier_label, variant="soft"),
                rx.cond(
                    job.status == GenerationStatus.SUCCEEDED.value,
                    rx.text(job.cost_credits, " cr", size="1"),
                    rx.cond(
                        job.status == GenerationStatus.FAILED.value,
                        rx.text("no charge", size="1", color=rx.color("gray", 11)),
                    ),
                ),
                rx.spacer(),
                rx.cond(job.status != GenerationStatus.PENDING.value, _job_actions(job)),
                width="100%",
                align="center",
            ),
            spacing="2",
        ),
        class_name=f"job-card job-{job.status}",
        data_status=job.status,
    )


def _latest_result() -> rx.Component:
    job = JobsState.latest
    return rx.card(
        creation_card(
            job,
            image_class="result-image",
            download_class="download-latest",
            details=[
                rx.badge("Newest", color_scheme="violet", variant="soft"),
                rx.text(job.prompt, size="2", class_name="latest-prompt"),
                rx.text(
                    job.tier_label,
                    " · ",
                    job.width,
                    "×",
                    job.height,
                    " · ",
                    credits_label(job.cost_credits),
                    rx.cond(
                        job.elapsed_seconds.to(int) > 0,
                        " · ready in " + job.elapsed_seconds.to_string() + " s",
                        "",
                    ),
                    size="1",
                    color=rx.color("gray", 11),
                ),
            ],
            actions=[
                rx.button(
                    rx.icon("refresh-cw", size=16),
                    "Generate again",
                    variant="soft",
                    on_click=JobsState.generate_again(job.public_id),
                    class_name="generate-again",
                ),
                rx.button(
                    rx.icon("repeat", size=16),
                    "Use this prompt",
                    variant="soft",
                    on_click=StudioState.use_creation(job.public_id),
                    class_name="use-prompt",
                ),
            ],
        ),
        size="3",
        width="100%",
        class_name="job-card job-succeeded latest-result",
    )


def _latest_request() -> rx.Component:
    """The newest request's several images side by side, each with its own card."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.badge("Newest", color_scheme="violet", variant="soft"),
                rx.text(
                    JobsState.latest_summary, size="2", weight="medium", class_name="latest-summary"
                ),
                align="center",
                spacing="2",
            ),
            rx.grid(
                rx.foreach(JobsState.latest_images, lambda job: _job_card(job, large=True)),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="4",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        size="3",
        width="100%",
        class_name="latest-request",
    )


def _jobs_panel() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Your latest images", size="5"),
            rx.spacer(),
            rx.link("See all in My Creations", href=MY_CREATIONS, size="2"),
            width="100%",
            align="baseline",
        ),
        rx.cond(
            JobsState.jobs.length() > 0,
            rx.vstack(
                rx.cond(
                    JobsState.latest_images.length() > 1,
                    _latest_request(),
                    rx.cond(JobsState.latest.public_id != "", _latest_result()),
                ),
                rx.grid(
                    rx.foreach(JobsState.other_jobs, _job_card),
                    columns=rx.breakpoints(initial="2", sm="3", lg="4"),
                    spacing="4",
                    width="100%",
                ),
                spacing="4",
                width="100%",
            ),
            rx.text(
                "Nothing yet — pick a template above and press Generate.",
                color=rx.color("gray", 11),
            ),
        ),
        spacing="3",
        width="100%",
        margin_top="2.5rem",
        id="results",
        scroll_margin_top="5rem",
    )


def studio_page() -> rx.Component:
    return page_frame(
        rx.cond(
            StudioState.loaded,
            rx.box(
                rx.grid(
                    _templates_panel(),
                    _form_panel(),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="6",
                    width="100%",
                    align_items="start",
                ),
                _jobs_panel(),
            ),
            rx.center(rx.spinner(size="3"), padding="4rem"),
        ),
    )
