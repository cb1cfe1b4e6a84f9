"""State of the admin tab's catalog sections (categories, templates) and the audit log.

Thin over services/catalog_admin.py and services/previews.py: every handler
first re-checks that the caller is an admin (any browser can send any event),
then lets the service validate the arguments. Categories and templates are
public catalog data, so their ids may be in public state.
"""

from __future__ import annotations

import asyncio

import reflex as rx

from studio_app.services import audit, catalog_admin, previews
from studio_app.services.admin_guard import ADMINS_ONLY
from studio_app.services.audit import AuditLine
from studio_app.services.auth import CurrentUser
from studio_app.services.catalog_admin import AdminCategoryView, AdminTemplateView, TemplateFields
from studio_app.services.errors import StudioError
from studio_app.states.auth import AuthState
from studio_app.tiers import DEFAULT_TIER

ALL_CATEGORIES = "all"
PREVIEW_UPLOAD_ID = "template_preview_upload"


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


class AdminCatalogState(AuthState):
    loaded: bool = False
    categories: rx.Field[list[AdminCategoryView]] = rx.field(default_factory=list)
    templates: list[AdminTemplateView] = []
    audit_lines: rx.Field[list[AuditLine]] = rx.field(default_factory=list)
    template_filter: str = ALL_CATEGORIES

    # The category dialog (id 0: a new category).
    category_dialog_open: bool = False
    category_form_id: int = 0
    category_form_name: str = ""
    category_form_description: str = ""
    category_form_error: str = ""

    # The template dialog (id 0: a new template).
    template_dialog_open: bool = False
    template_form_id: int = 0
    template_form_category: str = ""
    template_form_name: str = ""
    template_form_description: str = ""
    template_form_prompt: str = ""
    template_form_tier: str = DEFAULT_TIER
    template_form_error: str = ""

    # "Deactivate …?" confirmation: kind is "category" or "template".
    confirm_kind: str = ""
    confirm_id: int = 0
    confirm_name: str = ""

    # The preview dialog of one template.
    preview_template_id: int = 0
    preview_template_name: str = ""
    preview_image_url: str = ""
    preview_busy: bool = False
    preview_error: str = ""

    # ------------------------------------------------------------ loading

    def _reload(self, admin: CurrentUser) -> None:
        self.categories = catalog_admin.list_categories(admin)
        self.templates = catalog_admin.list_templates(admin)
        self.audit_lines = audit.read_log(admin)
        known = {str(c.id) for c in self.categories}
        if self.template_filter not in known:
            self.template_filter = ALL_CATEGORIES
        self.loaded = True

    @rx.event
    def load(self) -> None:
        admin = self._admin()
        if admin is None:
            self.loaded = False
            return
        self._reload(admin)

    @rx.var
    def visible_templates(self) -> list[AdminTemplateView]:
        if self.template_filter == ALL_CATEGORIES:
            return self.templates
        return [t for t in self.templates if str(t.category_id) == self.template_filter]

    @rx.var
    def confirm_open(self) -> bool:
        return self.confirm_kind != ""

    @rx.var
    def preview_open(self) -> bool:
        return self.preview_template_id != 0

    @rx.event
    def filter_templates(self, value: str) -> None:
        known = {str(c.id) for c in self.categories}
        self.template_filter = value if value in known else ALL_CATEGORIES

    def _done(self, admin: CurrentUser, message: str) -> rx.event.EventSpec:
        self._reload(admin)
        return rx.toast.success(message)

    # ------------------------------------------------------------ categories

    @rx.event
    def open_new_category(self) -> rx.event.EventSpec | None:
        if self._admin() is None:
            return rx.toast.error(ADMINS_ONLY)
        self.category_form_id = 0
        self.category_form_name = ""
        self.category_form_description = ""
        self.category_form_error = ""
        self.category_dialog_open = True
        return None

    @rx.event
    def open_edit_category(self, category_id: int) -> rx.event.EventSpec | None:
        if self._admin() is None:
            return rx.toast.error(ADMINS_ONLY)
        category = next((c for c in self.categories if c.id == category_id), None)
        if category is None:
            return rx.toast.error("That category does not exist any more.")
        self.category_form_id = category.id
        self.category_form_name = category.name
        self.category_form_description = category.description
        self.category_form_error = ""
        self.category_dialog_open = True
        return None

    @rx.event
    def category_dialog_changed(self, is_open: bool) -> None:
        if not is_open:
            self.category_dialog_open = False

    @rx.event
    def set_category_form_name(self, value: str) -> None:
        self.category_form_name = _text(value)

    @rx.event
    def set_category_form_description(self, value: str) -> None:
        self.category_form_description = _text(value)

    @rx.event
    def save_category(self, _form: dict | None = None) -> rx.event.EventSpec | None:
        admin = self._admin()
        if admin is None:
            return rx.toast.error(ADMINS_ONLY)
        try:
            if self.category_form_id:
                catalog_admin.update_category(
                    admin,
                    self.category_form_id,
                    self.category_form_name,
                    self.category_form_description,
                )
                message = "Category saved."
            else:
                catalog_admin.create_category(
                    admin, self.category_form_name, self.category_form_description
                )
                message = "Category created."
        except StudioError as error:
            self.category_form_error = error.message
            return None
        self.category_dialog_open = False
        return self._done(admin, message)

    @rx.event
    def move_category(self, category_id: int, direction: str) -> rx.event.EventSpec | None:
        admin = self._admin()
        if admin is None:
            return rx.toast.error(ADMINS_ONLY)
        try:
            catalog_admin.move_category(admin, category_id, direction)
        except StudioError as error:
            return rx.toast.error(error.message)
        self._reload(admin)
        return None

    @rx.event
    def reactivate_category(self, category_id: int) -> rx.event.EventSpec:
        admin = self._admin()
        if admin is None:
            return rx.toast.error(ADMINS_ONLY)
        try:
            catalog_admin.set_category_active(admin, category_id, True)
        except StudioError as error:
            return rx.toast.error(error.message)
        return self._done(admin, "Category reactivated: it is back in the studio.")

    # ------------------------------------------------------------ deactivation (confirmed)

    @rx.event
    def ask_deactivate(self, kind: str, item_id: int) -> rx.event.EventSpec | None:
        if self._admin() is None:
            return rx.toast.error(ADMINS_ONLY)
        rows = self.categories if kind == "category" else self.templates
        row = (
            next((r for r in rows if r.id == item_id), None)
            if kind in {"category", "template"}
            else None
        )
        if row is None:
            return rx.toast.error(f"That {kind or 'item'} does not exist any more.")
        self.confirm_kind = kind
        self.confirm_id = row.id
        self.confirm_name = row.name
        return None

    @rx.event
    def cancel_deactivate(self) -> None:
        self.confirm_kind = ""
        self.confirm_id = 0

    @rx.event
    def confirm_changed(self, is_open: bool) -> None:
        if not is_open:
            self.cancel_deactivate()

    @rx.event
    def confirm_deactivate(self) -> rx.event.EventSpec:
        admin = self._admin()
        kind, item_id = self.confirm_kind, self.confirm_id
        self.cancel_deactivate()
        if admin is None:
            return rx.toast.error(ADMINS_ONLY)
        try:
            if kind == "category":
                catalog_admin.set_category_active(admin, item_id, False)
            else:
                catalog_admin.set_template_active(admin, item_id, False)
        except StudioError as error:
            return rx.toast.error(error.message)
        what = "Category" if kind == "category" else "Template"
        return self._done(admin, f"{what} deactivated: it is hidden from the studio.")

    # ------------------------------------------------------------ templates

    @rx.event
    def open_new_template(self) -> rx.event.EventSpec | None:
        if self._admin() is None:
            return rx.toast.error(ADMINS_ONLY)
        if not self.categories:
            return rx.toast.error("Create a category first.")
        self.template_form_id = 0
        self.template_form_category = (
            self.template_filter
            if self.template_filter != ALL_CATEGORIES
            else str(self.categories[0].id)
        )
        self.template_form_name = ""
        self.template_form_description = ""
        self.template_form_prompt = ""
        self.template_form_tier = DEFAULT_TIER
        self.template_form_error = ""
        self.template_dialog_open = True
        return None

    @rx.event
    def open_edit_template(self, template_id: int) -> rx.event.EventSpec | None:
        if self._admin() is None:
            return rx.toast.error(ADMINS_ONLY)
        template = next((t for t in self.templates if t.id == template_id), None)
        if template is None:
            return rx.toast.error("That template does not exist any more.")
        self.template_form_id = template.id
        self.template_form_category = str(template.category_id)
        self.template_form_name = template.name
        self.template_form_description = template.description
        self.template_form_prompt = template.prompt
        self.template_form_tier = template.default_tier
        self.template_form_error = ""
        self.template_dialog_open = True
        return None

    @rx.event
    def template_dialog_changed(self, is_open: bool) -> None:
        if not is_open:
            self.template_dialog_open = False

    @rx.event
    def set_template_form_category(self, value: str) -> None:
        self.template_form_category = _text(value)

    @rx.event
    def set_template_form_name(self, value: str) -> None:
        self.template_form_name = _text(value)

    @rx.event
    def set_template_form_description(self, value: str) -> None:
        self.template_form_description = _text(value)

    @rx.event
    def set_template_form_prompt(self, value: str) -> None:
        self.template_form_prompt = _text(value)

    @rx.event
    def set_template_form_tier(self, value: str) -> None:
        self.template_form_tier = _text(value)

    @rx.event
    def save_template(self, _form: dict | None = None) -> rx.event.EventSpec | None:
        admin = self._admin()
        if admin is None:
            return rx.toast.error(ADMINS_ONLY)
        category = self.template_form_category
        fields = TemplateFields(
            category_id=int(category) if category.isdigit() else 0,
            name=self.template_form_name,
            description=self.template_form_description,
            prompt=self.template_form_prompt,
            default_tier=self.template_form_tier,
        )
        try:
            if self.template_form_id:
                catalog_admin.update_template(admin, self.template_form_id, fields)
                message = "Template saved."
            else:
                catalog_admin.create_template(admin, fields)
                message = "Template created: it is in the studio now."
        except StudioError as error:
            self.template_form_error = error.message
            return None
        self.template_dialog_open = False
        return self._done(admin, message)

    @rx.event
    def move_template(self, template_id: int, direction: str) -> rx.event.EventSpec | None:
        admin = self._admin()
        if admin is None:
            return rx.toast.error(ADMINS_ONLY)
        try:
            catalog_admin.move_template(admin, template_id, direction)
        except StudioError as error:
            return rx.toast.error(error.message)
        self._reload(admin)
        return None

    @rx.event
    def reactivate_template(self, template_id: int) -> rx.event.EventSpec:
        admin = self._admin()
        if admin is None:
            return rx.toast.error(ADMINS_ONLY)
        try:
            catalog_admin.set_template_active(admin, template_id, True)
        except StudioError as error:
            return rx.toast.error(error.message)
        return self._done(admin, "Template reactivated.")

    # ------------------------------------------------------------ previews

    @rx.event
    def open_preview(self, template_id: int) -> rx.event.EventSpec | None:
        if self._admin() is None:
            return rx.toast.error(ADMINS_ONLY)
        template = next((t for t in self.templates if t.id == template_id), None)
        if template is None:
            return rx.toast.error("That template does not exist any more.")
        self.preview_template_id = template.id
        self.preview_template_name = template.name
        self.preview_image_url = template.preview_url
        self.preview_error = ""
        self.preview_busy = False
        return None

    @rx.event
    def preview_changed(self, is_open: bool) -> None:
        if not is_open and not self.preview_busy:
            self.preview_template_id = 0

    @rx.event
    async def upload_preview(self, files: list[rx.UploadFile]):
        admin = self._admin()
        if admin is None:
            yield rx.toast.error(ADMINS_ONLY)
            return
        if not files:
            self.preview_error = "Choose a PNG, JPEG or WebP image."
            return
        upload = files[0]
        # One byte past the limit is enough to know it is too big.
        data = await upload.read(previews.MAX_UPLOAD_BYTES + 1)
        self.preview_busy = True
        self.preview_error = ""
        yield
        try:
            url = await asyncio.to_thread(
                previews.upload_preview,
                admin,
                self.preview_template_id,
                data,
                upload.filename or "",
            )
        except StudioError as error:
            self.preview_error = error.message
            self.preview_busy = False
            yield rx.clear_selected_files(PREVIEW_UPLOAD_ID)
            return
        self.preview_image_url = url
        self.preview_busy = False
        self._reload(admin)
        yield rx.clear_selected_files(PREVIEW_UPLOAD_ID)
        yield rx.toast.success("Preview uploaded.")

    @rx.event
    async def generate_preview(self):
        admin = self._admin()
        if admin is None:
            yield rx.toast.error(ADMINS_ONLY)
            return
        self.preview_busy = True
        self.preview_error = ""
        yield
        try:
            url = await asyncio.to_thread(
                previews.generate_preview, admin, self.preview_template_id
            )
        except StudioError as error:
            self.preview_error = error.message
            self.preview_busy = False
            return
        self.preview_image_url = url
        self.preview_busy = False
        self._reload(admin)
        yield rx.toast.success("Preview generated with the offline provider.")
