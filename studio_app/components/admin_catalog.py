"""The admin tab's Categories, Templates and Audit log sections.

`categories_tab()`, `templates_tab()` and `audit_tab()` are placed as tabs by
pages/admin.py. Rows are cards that wrap on a phone rather than wide tables.
"""

from __future__ import annotations

import reflex as rx
from reflex.vars import StringVar

from studio_app.components.files import picture_drop_zone
from studio_app.components.values import match_value
from studio_app.services import previews
from studio_app.services.audit import AuditLine
from studio_app.services.catalog_admin import AdminCategoryView, AdminTemplateView
from studio_app.states.admin_catalog import ALL_CATEGORIES, PREVIEW_UPLOAD_ID, AdminCatalogState
from studio_app.tiers import tiers

S = AdminCatalogState
_MUTED = rx.color("gray", 11)


# ---------------------------------------------------------------- shared bits


def _section_header(title: str, subtitle: str, *actions: rx.Component) -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.heading(title, size="5", as_="h2"),
            rx.text(subtitle, size="2", color=_MUTED),
            spacing="1",
        ),
        rx.flex(*actions, spacing="2", wrap="wrap", align="center"),
        justify="between",
        align="end",
        wrap="wrap",
        spacing="3",
        width="100%",
    )


def _order_buttons(
    label: StringVar | str,
    is_first: rx.Var[bool] | bool,
    is_last: rx.Var[bool] | bool,
    on_up: rx.event.EventType[()],
    on_down: rx.event.EventType[()],
) -> rx.Component:
    return rx.flex(
        rx.icon_button(
            rx.icon("chevron-up", size=16),
            on_click=on_up,
            disabled=is_first,
            variant="soft",
            color_scheme="gray",
            size="1",
            aria_label="Move " + label + " up",
            title="Move up",
            class_name="move-up",
        ),
        rx.icon_button(
            rx.icon("chevron-down", size=16),
            on_click=on_down,
            disabled=is_last,
            variant="soft",
            color_scheme="gray",
            size="1",
            aria_label="Move " + label + " down",
            title="Move down",
            class_name="move-down",
        ),
        direction="column",
        spacing="1",
        align="center",
    )


def _status_badge(is_active: rx.Var[bool] | bool) -> rx.Component:
    return rx.cond(
        is_active,
        rx.badge("Active", color_scheme="green", variant="soft"),
        rx.badge(
            "Deactivated", color_scheme="gray", variant="surface", class_name="badge-inactive"
        ),
    )


def _toggle_button(
    is_active: rx.Var[bool] | bool,
    name: StringVar | str,
    on_deactivate: rx.event.EventType[()],
    on_reactivate: rx.event.EventType[()],
) -> rx.Component:
    return rx.cond(
        is_active,
        rx.button(
            rx.icon("eye-off", size=14),
            "Deactivate",
            on_click=on_deactivate,
            size="1",
            variant="soft",
            color_scheme="red",
            aria_label="Deactivate " + name,
            class_name="deactivate",
        ),
        rx.button(
            rx.icon("eye", size=14),
            "Reactivate",
            on_click=on_reactivate,
            size="1",
            variant="soft",
            color_scheme="green",
            aria_label="Reactivate " + name,
            class_name="reactivate",
        ),
    )


def _field(label: str, control: rx.Component, field_id: str, hint: str = "") -> rx.Component:
    return rx.vstack(
        rx.el.label(
            rx.text(label, size="2", weight="medium"),
            html_for=field_id,
        ),
        control,
        rx.cond(hint != "", rx.text(hint, size="1", color=_MUTED)),
        spacing="1",
        width="100%",
    )


def _form_error(message: rx.Var[str] | str) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(
            message,
            icon="triangle-alert",
            color_scheme="red",
            size="1",
            role="alert",
            class_name="form-error",
            width="100%",
        ),
    )


def _dialog_buttons(submit_label: rx.Var | str) -> rx.Component:
    return rx.flex(
        rx.dialog.close(rx.button("Cancel", type="button", variant="soft", color_scheme="gray")),
        rx.button(submit_label, type="submit", class_name="dialog-save"),
        spacing="3",
        justify="end",
        width="100%",
    )


def _confirm_dialog(kind: str, consequence: str) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(f"Deactivate this {kind}?"),
            rx.alert_dialog.description(
                rx.text(
                    rx.text.strong("“", S.confirm_name, "”"),
                    f" {consequence} Creations made with it keep their history, "
                    "and you can reactivate it at any time.",
                ),
                size="2",
            ),
            rx.flex(
                rx.alert_dialog.cancel(
                    rx.button("Keep it", variant="soft", color_scheme="gray"),
                ),
                rx.alert_dialog.action(
                    rx.button(
                        "Deactivate",
                        color_scheme="red",
                        on_click=S.confirm_deactivate,
                        class_name="confirm-deactivate",
                    ),
                ),
                spacing="3",
                justify="end",
                margin_top="1rem",
            ),
            max_width="440px",
        ),
        open=S.confirm_open & (S.confirm_kind == kind),
        on_open_change=S.confirm_changed,
    )


# ---------------------------------------------------------------- categories


def _category_row(category: AdminCategoryView) -> rx.Component:
    return rx.card(
        rx.flex(
            _order_buttons(
                category.name,
                category.is_first,
                category.is_last,
                S.move_category(category.id, "up"),
                S.move_category(category.id, "down"),
            ),
            rx.vstack(
                rx.flex(
                    rx.text(category.name, weight="bold", size="3", class_name="category-row-name"),
                    _status_badge(category.is_active),
                    rx.badge(
                        category.template_count,
                        rx.cond(category.template_count == 1, " template", " templates"),
                        variant="outline",
                        color_scheme="gray",
                    ),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                rx.cond(
                    category.description != "",
                    rx.text(category.description, size="2", color=_MUTED),
                    rx.text(
                        "No description", size="2", color=_MUTED, style={"font-style": "italic"}
                    ),
                ),
                spacing="1",
                flex="1",
                min_width="12rem",
            ),
            rx.flex(
                rx.button(
                    rx.icon("pencil", size=14),
                    "Edit",
                    on_click=S.open_edit_category(category.id),
                    size="1",
                    variant="soft",
                    aria_label="Edit " + category.name,
                    class_name="edit",
                ),
                _toggle_button(
                    category.is_active,
                    category.name,
                    S.ask_deactivate("category", category.id),
                    S.reactivate_category(category.id),
                ),
                spacing="2",
                align="center",
            ),
            spacing="3",
            align="center",
            wrap="wrap",
        ),
        class_name="category-row",
        width="100%",
        opacity=rx.cond(category.is_active, "1", "0.75"),
    )


def _category_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.category_form_id == 0, "New category", "Edit category")),
            rx.dialog.description(
                "Categories group templates in the studio.", size="2", color=_MUTED
            ),
            rx.form(
                rx.vstack(
                    _field(
                        "Name",
                        rx.input(
                            id="category-name",
                            name="category-name",
                            value=S.category_form_name,
                            on_change=S.set_category_form_name,
                            max_length=80,
                            placeholder="e.g. Travel",
                            auto_focus=True,
                            width="100%",
                        ),
                        "category-name",
                        "Unique, 2–80 characters.",
                    ),
                    _field(
                        "Description",
                        rx.text_area(
                            id="category-description",
                            name="category-description",
                            value=S.category_form_description,
                            on_change=S.set_category_form_description,
                            max_length=500,
                            placeholder="What kind of images live here?",
                            rows="3",
                            width="100%",
                        ),
                        "category-description",
                    ),
                    _form_error(S.category_form_error),
                    _dialog_buttons(
                        rx.cond(S.category_form_id == 0, "Create category", "Save changes")
                    ),
                    spacing="4",
                    margin_top="0.75rem",
                ),
                on_submit=S.save_category,
            ),
            max_width="480px",
            class_name="category-dialog",
        ),
        open=S.category_dialog_open,
        on_open_change=S.category_dialog_changed,
    )


def categories_tab() -> rx.Component:
    return rx.vstack(
        _section_header(
            "Categories",
            "Order, rename or hide the groups users pick templates from.",
            rx.button(
                rx.icon("plus", size=16),
                "New category",
                on_click=S.open_new_category,
                class_name="new-category",
            ),
        ),
        rx.cond(
            S.loaded,
            rx.cond(
                S.categories.length() > 0,
                rx.vstack(rx.foreach(S.categories, _category_row), spacing="2", width="100%"),
                _empty("No categories yet", "Create the first one to start the catalog."),
            ),
            _skeleton_rows(),
        ),
        _category_dialog(),
        _confirm_dialog(
            "category", "and all its templates will disappear from the studio at once."
        ),
        spacing="4",
        width="100%",
        class_name="admin-categories",
    )


def _empty(title: str, hint: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.icon("inbox", size=28, color=_MUTED),
            rx.text(title, weight="bold"),
            rx.text(hint, size="2", color=_MUTED),
            align="center",
            spacing="1",
            padding="1rem",
        ),
        width="100%",
    )


def _skeleton_rows() -> rx.Component:
    return rx.vstack(
        *[rx.skeleton(height="64px", width="100%", loading=True) for _ in range(3)],
        spacing="2",
        width="100%",
    )


# ---------------------------------------------------------------- templates


def _thumbnail(template: AdminTemplateView) -> rx.Component:
    return rx.box(
        rx.cond(
            template.preview_url != "",
            rx.image(
                src=template.preview_url,
                alt="Preview of " + template.name,
                width="100%",
                height="100%",
                object_fit="cover",
                loading="lazy",
            ),
            rx.center(rx.icon("image", size=22, color=_MUTED), height="100%"),
        ),
        width="96px",
        height="72px",
        flex_shrink="0",
        border_radius="var(--radius-3)",
        overflow="hidden",
        background=rx.color("gray", 3),
        class_name="template-thumb",
    )


def _tier_label(tier_id: rx.Var[str] | str) -> rx.Var:
    return match_value(
        tier_id, *[(t.id, f"{t.label} · {t.aspect_ratio}") for t in tiers()], tier_id
    )


def _template_row(template: AdminTemplateView) -> rx.Component:
    return rx.card(
        rx.flex(
            _order_buttons(
                template.name,
                template.is_first,
                template.is_last,
                S.move_template(template.id, "up"),
                S.move_template(template.id, "down"),
            ),
            rx.el.button(
                _thumbnail(template),
                on_click=S.open_preview(template.id),
                type="button",
                aria_label="Change the preview of " + template.name,
                title="Change preview",
                style={
                    "padding": "0",
                    "border": "none",
                    "background": "none",
                    "cursor": "pointer",
                    "border_radius": "var(--radius-3)",
                },
            ),
            rx.vstack(
                rx.flex(
                    rx.text(template.name, weight="bold", size="3", class_name="template-row-name"),
                    _status_badge(template.is_active),
                    rx.cond(
                        ~template.category_active,
                        rx.badge("Category hidden", color_scheme="amber", variant="soft"),
                    ),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                rx.flex(
                    rx.badge(template.category_name, variant="soft", color_scheme="violet"),
                    rx.badge(
                        _tier_label(template.default_tier), variant="outline", color_scheme="gray"
                    ),
                    spacing="2",
                    wrap="wrap",
                ),
                rx.text(
                    template.prompt,
                    size="1",
                    color=_MUTED,
                    trim="both",
                    style={
                        "display": "-webkit-box",
                        "-webkit-line-clamp": "2",
                        "-webkit-box-orient": "vertical",
                        "overflow": "hidden",
                    },
                ),
                spacing="1",
                flex="1",
                min_width="14rem",
            ),
            rx.flex(
                rx.button(
                    rx.icon("pencil", size=14),
                    "Edit",
                    on_click=S.open_edit_template(template.id),
                    size="1",
                    variant="soft",
                    aria_label="Edit " + template.name,
                    class_name="edit",
                ),
                rx.button(
                    rx.icon("image", size=14),
                    "Preview",
                    on_click=S.open_preview(template.id),
                    size="1",
                    variant="soft",
                    color_scheme="gray",
                    aria_label="Preview image of " + template.name,
                    class_name="preview",
                ),
                _toggle_button(
                    template.is_active,
                    template.name,
                    S.ask_deactivate("template", template.id),
                    S.reactivate_template(template.id),
                ),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            spacing="3",
            align="center",
            wrap="wrap",
        ),
        class_name="template-row",
        width="100%",
        opacity=rx.cond(template.is_active & template.category_active, "1", "0.75"),
    )


def _category_options() -> rx.Component:
    return rx.foreach(
        S.categories,
        lambda c: rx.select.item(
            rx.cond(c.is_active, c.name, c.name + " (deactivated)"), value=c.id.to_string()
        ),
    )


def _template_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.template_form_id == 0, "New template", "Edit template")),
            rx.dialog.description(
                "Users start from the prompt and size you set here.", size="2", color=_MUTED
            ),
            rx.form(
                rx.vstack(
                    rx.flex(
                        _field(
                            "Category",
                            rx.select.root(
                                rx.select.trigger(
                                    id="template-category", width="100%", placeholder="Category"
                                ),
                                rx.select.content(_category_options()),
                                value=S.template_form_category,
                                on_change=S.set_template_form_category,
                            ),
                            "template-category",
                        ),
                        _field(
                            "Default size",
                            rx.select.root(
                                rx.select.trigger(id="template-tier", width="100%"),
                                rx.select.content(
                                    *[
                                        rx.select.item(
                                            f"{t.label} · {t.aspect_ratio} · {t.size_label}",
                                            value=t.id,
                                        )
                                        for t in tiers()
                                    ]
                                ),
                                value=S.template_form_tier,
                                on_change=S.set_template_form_tier,
                            ),
                            "template-tier",
                        ),
                        spacing="3",
                        width="100%",
                        direction=rx.breakpoints(initial="column", sm="row"),
                    ),
                    _field(
                        "Name",
                        rx.input(
                            id="template-name",
                            name="template-name",
                            value=S.template_form_name,
                            on_change=S.set_template_form_name,
                            max_length=120,
                            placeholder="e.g. Beach postcard",
                            width="100%",
                        ),
                        "template-name",
                        "Unique within its category.",
                    ),
                    _field(
                        "Description",
                        rx.input(
                            id="template-description",
                            name="template-description",
                            value=S.template_form_description,
                            on_change=S.set_template_form_description,
                            max_length=500,
                            placeholder="One line users see on the card",
                            width="100%",
                        ),
                        "template-description",
                    ),
                    _field(
                        "Prompt",
                        rx.text_area(
                            id="template-prompt",
                            name="template-prompt",
                            value=S.template_form_prompt,
                            on_change=S.set_template_form_prompt,
                            max_length=2000,
                            placeholder="A sunny beach postcard of [place], vivid colours…",
                            rows="5",
                            width="100%",
                        ),
                        "template-prompt",
                        "Users can edit it before generating. Up to 2000 characters.",
                    ),
                    _form_error(S.template_form_error),
                    _dialog_buttons(
                        rx.cond(S.template_form_id == 0, "Create template", "Save changes")
                    ),
                    spacing="4",
                    margin_top="0.75rem",
                ),
                on_submit=S.save_template,
            ),
            max_width="560px",
            class_name="template-dialog",
        ),
        open=S.template_dialog_open,
        on_open_change=S.template_dialog_changed,
    )


def _preview_dialog() -> rx.Component:
    limit_mb = previews.MAX_UPLOAD_BYTES // (1024 * 1024)
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Preview of “", S.preview_template_name, "”"),
            rx.dialog.description(
                "Shown on the template's card in the studio.", size="2", color=_MUTED
            ),
            rx.vstack(
                rx.box(
                    rx.cond(
                        S.preview_image_url != "",
                        rx.image(
                            src=S.preview_image_url,
                            alt="Current preview",
                            width="100%",
                            height="100%",
                            object_fit="contain",
                            class_name="preview-current",
                        ),
                        rx.center(
                            rx.vstack(
                                rx.icon("image", size=32, color=_MUTED),
                                rx.text("No preview yet", size="2", color=_MUTED),
                                align="center",
                            ),
                            height="100%",
                        ),
                    ),
                    width="100%",
                    height="220px",
                    border_radius="var(--radius-3)",
                    overflow="hidden",
                    background=rx.color("gray", 3),
                ),
                picture_drop_zone(
                    rx.vstack(
                        rx.icon("upload", size=22, color=rx.color("violet", 10)),
                        rx.text(
                            "Drop an image here, or click to choose one", size="2", weight="medium"
                        ),
                        rx.text(
                            f"PNG, JPEG or WebP, up to {limit_mb} MB. It is resized to "
                            f"{previews.PREVIEW_MAX_SIDE} px and saved as WebP.",
                            size="1",
                            color=_MUTED,
                            align="center",
                        ),
                        align="center",
                        spacing="1",
                        padding="1rem",
                    ),
                    upload_id=PREVIEW_UPLOAD_ID,
                    busy=S.preview_busy,
                    on_drop=S.upload_preview,
                    class_name="preview-upload",
                ),
                _form_error(S.preview_error),
                rx.flex(
                    rx.button(
                        rx.cond(
                            S.preview_busy,
                            rx.spinner(size="2"),
                            rx.icon("wand-sparkles", size=16),
                        ),
                        "Generate with the offline provider",
                        on_click=S.generate_preview,
                        disabled=S.preview_busy,
                        variant="soft",
                        class_name="generate-preview",
                    ),
                    rx.dialog.close(rx.button("Done", variant="solid")),
                    spacing="3",
                    justify="between",
                    wrap="wrap",
                    width="100%",
                ),
                spacing="3",
                margin_top="0.75rem",
            ),
            max_width="520px",
            class_name="preview-dialog",
        ),
        open=S.preview_open,
        on_open_change=S.preview_changed,
    )


def templates_tab() -> rx.Component:
    return rx.vstack(
        _section_header(
            "Templates",
            "Prompts, default sizes and preview pictures users start from.",
            rx.select.root(
                rx.select.trigger(aria_label="Show templates of", min_width="11rem"),
                rx.select.content(
                    rx.select.item("All categories", value=ALL_CATEGORIES),
                    rx.foreach(
                        S.categories, lambda c: rx.select.item(c.name, value=c.id.to_string())
                    ),
                ),
                value=S.template_filter,
                on_change=S.filter_templates,
            ),
            rx.button(
                rx.icon("plus", size=16),
                "New template",
                on_click=S.open_new_template,
                class_name="new-template",
            ),
        ),
        rx.cond(
            S.loaded,
            rx.cond(
                S.visible_templates.length() > 0,
                rx.vstack(
                    rx.foreach(S.visible_templates, _template_row), spacing="2", width="100%"
                ),
                _empty("No templates here yet", "Create one with “New template”."),
            ),
            _skeleton_rows(),
        ),
        _template_dialog(),
        _preview_dialog(),
        _confirm_dialog("template", "will disappear from the studio at once."),
        spacing="4",
        width="100%",
        class_name="admin-templates",
    )


# ---------------------------------------------------------------- audit log


def _audit_row(line: AuditLine) -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.text(line.when, size="1", color=_MUTED, class_name="audit-when"),
            rx.text(line.actor, size="1", color=_MUTED, class_name="audit-actor", trim="both"),
            spacing="0",
            width=rx.breakpoints(initial="100%", md="15rem"),
            flex_shrink="0",
            style={"word-break": "break-all"},
        ),
        rx.vstack(
            rx.text(
                rx.text.strong(line.action, class_name="audit-action"),
                " ",
                rx.text.span(line.target, class_name="audit-target"),
                size="2",
            ),
            rx.cond(
                (line.before != "") | (line.after != ""),
                rx.flex(
                    rx.cond(
                        line.before != "",
                        rx.code(
                            line.before,
                            color_scheme="gray",
                            variant="soft",
                            class_name="audit-before",
                        ),
                    ),
                    rx.cond(
                        (line.before != "") & (line.after != ""),
                        rx.icon("arrow-right", size=14, color=_MUTED, aria_label="became"),
                    ),
                    rx.cond(
                        line.after != "",
                        rx.code(
                            line.after,
                            color_scheme="violet",
                            variant="soft",
                            class_name="audit-after",
                        ),
                    ),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                    style={"word-break": "break-word"},
                ),
            ),
            spacing="1",
            min_width="0",
            flex="1",
        ),
        direction=rx.breakpoints(initial="column", md="row"),
        spacing="2",
        padding_y="0.75rem",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        width="100%",
        class_name="audit-row",
    )


def audit_tab() -> rx.Component:
    return rx.vstack(
        _section_header(
            "Audit log",
            "Every admin action, newest first: when, who, what, and the values before → after.",
            rx.button(
                rx.icon("refresh-cw", size=14),
                "Refresh",
                on_click=S.load,
                variant="soft",
                color_scheme="gray",
                size="2",
            ),
        ),
        rx.cond(
            S.loaded,
            rx.cond(
                S.audit_lines.length() > 0,
                rx.card(rx.foreach(S.audit_lines, _audit_row), width="100%"),
                _empty("Nothing logged yet", "Admin actions will be listed here."),
            ),
            _skeleton_rows(),
        ),
        spacing="4",
        width="100%",
        class_name="admin-audit",
    )
