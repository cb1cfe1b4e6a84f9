"""The admin catalog's event handlers, called the way any browser can call them.

A signed-in non-admin (or a visitor) who sends these events is refused and
nothing changes; an admin's events go through to the services.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
import reflex as rx
from PIL import Image
from sqlmodel import select

from studio_app.models import AuditEntry, ImageCategory, ImageTemplate
from studio_app.services import auth, catalog_admin
from studio_app.services.catalog_admin import TemplateFields
from studio_app.services.db import read_session
from studio_app.states.admin_catalog import AdminCatalogState
from tests import aio
from tests.factories import PASSWORD, make_account
from tests.states import state_for

pytestmark = pytest.mark.usefixtures("migrated_db")
S = AdminCatalogState


def _state(token: str) -> AdminCatalogState:
    return state_for(S, token)


def _drain(generator: AsyncIterator[Any]) -> list[Any]:
    async def run() -> list[Any]:
        return [item async for item in generator]

    return aio.run(run())


def _png() -> rx.UploadFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(buffer, "PNG")
    buffer.seek(0)
    return rx.UploadFile(file=buffer)


@pytest.fixture
def admin_token() -> str:
    make_account(email="boss@example.com")
    auth.ensure_admin("boss@example.com", PASSWORD)  # a role change signs the account out
    return auth.sign_in("boss@example.com", PASSWORD).token


@pytest.fixture
def catalog_ids(admin_token: str) -> tuple[int, int]:
    admin = auth.current_user(admin_token)
    category = catalog_admin.create_category(admin, "Travel")
    template = catalog_admin.create_template(
        admin, TemplateFields(category, "Beach", "", "A beach", "standard")
    )
    return category, template


def _snapshot() -> tuple:
    with read_session() as db:
        categories = [(c.name, c.is_active, c.sort_order) for c in db.exec(select(ImageCategory))]
        templates = [
            (t.name, t.is_active, t.sort_order, t.preview_image_key)
            for t in db.exec(select(ImageTemplate))
        ]
        audit = len(db.exec(select(AuditEntry)).all())
    return categories, templates, audit


@pytest.mark.parametrize("who", ["member", "visitor"])
def test_outsiders_sending_admin_events_change_nothing(
    who: str, catalog_ids: tuple[int, int]
) -> None:
    category_id, template_id = catalog_ids
    token = make_account().token if who == "member" else ""
    state = _state(token)
    before = _snapshot()

    S.load.fn(state)
    assert (state.loaded, state.categories, state.templates, state.audit_lines) == (
        False,
        [],
        [],
        [],
    )
    # Forged form contents and confirmation, as a crafted browser could send.
    state.category_form_name = "Hacked"
    state.category_form_id = category_id
    state.template_form_id = template_id
    state.template_form_category = str(category_id)
    state.template_form_name = "Hacked"
    state.template_form_prompt = "hacked"
    state.confirm_kind = "template"
    state.confirm_id = template_id
    state.preview_template_id = template_id
    refusals = [
        S.open_new_category.fn(state),
        S.save_category.fn(state),
        S.move_category.fn(state, category_id, "down"),
        S.reactivate_category.fn(state, category_id),
        S.ask_deactivate.fn(state, "category", category_id),
        S.confirm_deactivate.fn(state),
        S.open_new_template.fn(state),
        S.save_template.fn(state),
        S.move_template.fn(state, template_id, "up"),
        S.reactivate_template.fn(state, template_id),
        S.open_preview.fn(state, template_id),
    ]
    state.confirm_kind, state.confirm_id = "category", category_id
    refusals.append(S.confirm_deactivate.fn(state))
    refusals += _drain(S.upload_preview.fn(state, [_png()]))
    refusals += _drain(S.generate_preview.fn(state))
    assert all("Only admins" in str(r) for r in refusals), refusals
    assert _snapshot() == before


def test_an_admins_events_reach_the_services(
    admin_token: str, catalog_ids: tuple[int, int]
) -> None:
    _, template_id = catalog_ids
    state = _state(admin_token)
    S.load.fn(state)
    assert [c.name for c in state.categories] == ["Travel"]
    assert [t.name for t in state.templates] == ["Beach"]

    S.open_new_category.fn(state)
    S.set_category_form_name.fn(state, "")
    S.save_category.fn(state)
    assert state.category_form_error == "Write a category name first."
    assert state.category_dialog_open
    S.set_category_form_name.fn(state, "Food")
    S.save_category.fn(state)
    assert not state.category_dialog_open
    assert [c.name for c in state.categories] == ["Travel", "Food"]

    S.ask_deactivate.fn(state, "template", template_id)
    assert state.confirm_name == "Beach"
    S.confirm_deactivate.fn(state)
    assert state.templates[0].is_active is False
    assert state.confirm_kind == ""

    S.open_preview.fn(state, template_id)
    _drain(S.upload_preview.fn(state, [_png()]))
    assert state.preview_image_url.startswith("/template-previews/")
    assert state.templates[0].preview_url == state.preview_image_url
    assert state.audit_lines[0].action == "Uploaded preview"
